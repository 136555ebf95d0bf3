"""The template's change to one file, brought into the project: added, removed or merged."""

from __future__ import annotations

import shutil
from pathlib import Path

from template_tools.regenerate.line_merge import merge_file
from template_tools.regenerate.report import Report


def read(path: Path) -> bytes | None:
    return path.read_bytes() if path.is_file() else None


def files_under(root: Path) -> set[str]:
    return {path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file()}


def prune(folder: Path, project: Path) -> None:
    """Remove folders left holding nothing, or only bytecode caches, up to the project."""
    while folder != project and all(
        entry.name == "__pycache__" and entry.is_dir() for entry in folder.iterdir()
    ):
        shutil.rmtree(folder)
        folder = folder.parent


def merge_path(project: Path, name: str, old: Path, new: Path, report: Report) -> None:
    """Bring the template's change to one file (``old`` -> ``new``) into the project."""
    mine = project / name
    before, after, current = read(old), read(new), read(mine)
    if before == after or current == after:
        return
    if after is None:  # the template dropped it: its module is off, or the file is gone
        if current == before:
            mine.unlink()
            prune(mine.parent, project)
            report.changes.append(("removed", name))
        else:
            report.warnings.append(
                f"kept {name}: the template no longer has it, but you changed it; "
                "delete it or adapt it"
            )
        return
    if current is None:
        if before is None:
            mine.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(new, mine)
            report.changes.append(("added", name))
        else:
            report.warnings.append(f"not restored {name}: you deleted it; the template changed it")
        return
    if current == before:
        mine.write_bytes(after)
        report.changes.append(("updated", name))
        return
    merged = merge_file(mine, old if before is not None else None, new)
    if merged is None:
        report.conflicts.append(f"{name} (cannot be merged; yours is unchanged)")
        return
    text, conflicts = merged
    mine.write_bytes(text)
    if conflicts:
        report.changes.append(("conflict", name))
        report.conflicts.append(name)
    else:
        report.changes.append(("merged", name))
