"""Validate the answers before anything is generated.

Each refusal names the answer, says why it is refused and how to fix it. On any
refusal the hook exits non-zero and the generator removes the half-made project.
The rules are ``template_tools.answers.validate``, which ``regenerate`` applies too.
The module stays valid Python before rendering (Jinja only inside the string
literals below), so the template's tests import it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ANSWERS_JSON = r"""{{ cookiecutter | tojson }}"""
TEMPLATE_ROOT = r"""{{ template_root }}"""

# This file runs from a rendered copy in a temporary folder: the rules are imported
# from the template's own src/ folder (see template_tools/answers.py).
sys.path.insert(0, str(Path(TEMPLATE_ROOT, "src")))
from template_tools.answers import validate  # noqa: E402


def main() -> int:
    errors = validate(json.loads(ANSWERS_JSON))
    if errors:
        print("The answers cannot generate a project:", file=sys.stderr)
        for error in errors:
            print(f"  - {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
