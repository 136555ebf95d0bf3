"""Write the service's OpenAPI document (``docs/openapi.json``), or print it.

    uv run python -m {{ cookiecutter.package_name }}.scripts.openapi            # print it
    uv run python -m {{ cookiecutter.package_name }}.scripts.openapi --write    # docs/openapi.json

The running service also serves it at ``/openapi.json`` (and Swagger UI at ``/docs``).
"""

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.main import create_app
from {{ cookiecutter.package_name }}.scripts import DOCS

DOCUMENT = DOCS / "openapi.json"


def openapi_document(settings: Settings | None = None) -> str:
    return json.dumps(create_app(settings).openapi(), indent=2, ensure_ascii=False) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Print or write the OpenAPI document.")
    parser.add_argument(
        "--write",
        nargs="?",
        const=DOCUMENT,
        type=Path,
        metavar="PATH",
        help=f"write it to PATH (default: docs/{DOCUMENT.name})",
    )
    args = parser.parse_args(argv)
    if args.write:
        args.write.write_text(openapi_document(), encoding="utf-8")
    else:
        sys.stdout.write(openapi_document())
    return 0


if __name__ == "__main__":
    sys.exit(main())
