"""Shape the generated project to the answers.

Removes the paths of switched-off modules (as listed in ``hooks/manifest.yaml``),
prunes folders left empty, writes ``.env`` with a fresh secret, records the
answers and the template commit (for ``regenerate``, and as ``.cruft.json`` for
cruft: ``template_tools.answers.write_records``) and prints the next steps. It never
runs formatters, installers or anything that needs the network: the rendered output
is clean as it stands.
Valid Python before rendering, so the tests import it.
"""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

ANSWERS_JSON = r"""{{ cookiecutter | tojson }}"""
TEMPLATE_ROOT = r"""{{ template_root }}"""
SECRET_KEY_PLACEHOLDER = "SECRET_KEY=change-me"

# This file runs from a rendered copy in a temporary folder: the records, which
# `regenerate` writes too, are imported from the template's own src/ folder (see
# template_tools/answers.py).
sys.path.insert(0, str(Path(TEMPLATE_ROOT, "src")))
from template_tools.answers import template_source, write_records  # noqa: E402


def load_manifest(template_root: Path) -> dict[str, Any]:
    with (template_root / "hooks" / "manifest.yaml").open(encoding="utf-8") as fh:
        manifest: dict[str, Any] = yaml.safe_load(fh)
    return manifest


def module_enabled(enabled_when: Mapping[str, list[str]], answers: Mapping[str, str]) -> bool:
    """A module is on when every option it names has one of the listed values."""
    return all(answers[option] in values for option, values in enabled_when.items())


def paths_to_remove(manifest: Mapping[str, Any], answers: Mapping[str, str]) -> list[str]:
    """Paths owned only by switched-off modules, with the package name filled in."""
    owners_on: dict[str, bool] = {}
    for module in manifest["modules"].values():
        enabled = module_enabled(module["enabled_when"], answers)
        for path in module["paths"]:
            owners_on[path] = owners_on.get(path, False) or enabled
    return sorted(
        path.format(package=answers["package_name"])
        for path, enabled in owners_on.items()
        if not enabled
    )


def remove_paths(project: Path, paths: Iterable[str]) -> None:
    for relative in paths:
        target = project / relative
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()


def prune_empty_dirs(project: Path) -> None:
    for folder in sorted(project.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()


def write_env_file(project: Path) -> None:
    """Create ``.env`` from ``.env.example``, with a fresh secret key if it has a SECRET_KEY."""
    example = (project / ".env.example").read_text(encoding="utf-8")
    secret_line = f"SECRET_KEY={secrets.token_urlsafe(48)}"
    (project / ".env").write_text(
        example.replace(SECRET_KEY_PLACEHOLDER, secret_line, 1), encoding="utf-8"
    )


def template_commit(template_root: Path) -> str | None:
    try:
        result = subprocess.run(
            ["git", "-C", str(template_root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return result.stdout.strip() or None


def record_answers(project: Path, answers: Mapping[str, Any], template_root: Path) -> None:
    write_records(project, template_source(answers), template_commit(template_root), answers)


def next_steps(answers: Mapping[str, str]) -> str:
    slug = answers["project_slug"]
    commands = [
        (f"cd {slug}", ""),
        ("uv sync", "create the environment"),
        ("uv run pytest", "run the tests"),
    ]
    if answers["database"] != "none":
        commands.append(("uv run alembic upgrade head", "create the database schema"))
    commands.append((f"uv run {slug}", "serve on http://127.0.0.1:8000/docs"))
    width = max(len(command) for command, _ in commands) + 2
    lines = [f"Generated {slug}. Next steps:"]
    lines += [
        f"  {command:<{width}}{f'# {note}' if note else ''}".rstrip() for command, note in commands
    ]
    if answers["auth"] in ("jwt", "jwt_and_api_key"):
        lines.append("A fresh SECRET_KEY is in .env (never commit it; .gitignore excludes it).")
    return "\n".join(lines)


def main() -> int:
    answers = json.loads(ANSWERS_JSON)
    template_root = Path(TEMPLATE_ROOT)
    project = Path.cwd()
    remove_paths(project, paths_to_remove(load_manifest(template_root), answers))
    prune_empty_dirs(project)
    write_env_file(project)
    record_answers(project, answers, template_root)
    print(next_steps(answers))
    return 0


if __name__ == "__main__":
    sys.exit(main())
