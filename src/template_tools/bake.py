"""Generate a project from a template: the one way regenerate, the tests and the benchmark bake.

The generator's command line runs in a process of its own, from a fresh folder.
cookiecutter imports the template's ``local_extensions`` module, which tells the hooks
where the template is: a process that already imported another template's, or that has
a template root first on ``sys.path`` (``python -m`` puts its working folder there),
would hand the hooks the wrong template (its manifest, its commit). The process gets a
configuration of its own (no prompts, nothing written to the user's replay folder), and
its output, the hooks' included, is kept for the error message only.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path


class BakeFailed(Exception):
    """The generator refused the answers or failed; the message holds its output."""


def bake(template: Path | str, answers: Mapping[str, str], folder: Path) -> Path:
    """The project generated from ``template`` with ``answers``, in ``folder``.

    ``template`` is what the generator takes: a path, a git URL or an abbreviation
    (``gh:owner/repo``). ``folder`` (made if missing) also holds the generator's
    configuration, clones and replay files, so one folder holds one bake.
    """
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "config.yaml"
    config.write_text(
        json.dumps(
            {"cookiecutters_dir": str(folder / "clones"), "replay_dir": str(folder / "replay")}
        )
    )
    output = folder / "output"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "cookiecutter",
            str(template),
            "--no-input",
            "--output-dir",
            str(output),
            "--config-file",
            str(config),
            *(f"{option}={value}" for option, value in answers.items()),
        ],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise BakeFailed(f"generating from {template} failed:\n{result.stdout}{result.stderr}")
    [project] = output.iterdir()
    return project
