"""Alembic revisions re-parented, so that the project's migrations stay one line."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

from template_tools.regenerate.file_merge import files_under, read
from template_tools.regenerate.report import Report

MIGRATION = re.compile(r"(^|/)migrations/versions/[^/]+\.py$")
DOWN_REVISION = re.compile(r"^(down_revision\b[^=\n]*= ).*$", re.MULTILINE)
REVISES = re.compile(r"^Revises: .*$", re.MULTILINE)
Parents = tuple[str, ...]


def migrations(root: Path) -> dict[str, tuple[str, Parents]]:
    """The Alembic revisions under ``root``: file name -> (revision, its parents)."""
    found = {}
    for name in sorted(files_under(root)):
        if not MIGRATION.search(name):
            continue
        values: dict[str, Any] = {}
        try:
            for node in ast.parse((root / name).read_bytes()).body:
                if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
                    target = node.targets[0] if isinstance(node, ast.Assign) else node.target
                    if isinstance(target, ast.Name) and "revision" in target.id:
                        values[target.id] = ast.literal_eval(node.value)
            revision, parent = values.get("revision"), values.get("down_revision") or ()
            parents = (parent,) if isinstance(parent, str) else tuple(parent)
        except (SyntaxError, ValueError, TypeError):  # not a migration Alembic could run
            continue
        if isinstance(revision, str) and all(isinstance(p, str) for p in parents):
            found[name] = (revision, parents)
    return found


def set_parents(path: Path, parents: Parents) -> None:
    """Rewrite a migration's ``down_revision`` (and its docstring's ``Revises:`` line)."""
    value = ", ".join(f'"{parent}"' for parent in parents)
    value = "None" if not parents else f"({value})" if len(parents) > 1 else value
    text = DOWN_REVISION.sub(lambda match: match.group(1) + value, path.read_text(), count=1)
    path.write_text(REVISES.sub(f"Revises: {', '.join(parents)}", text, count=1))


def chain_migrations(project: Path, old: Path, new: Path, report: Report) -> None:
    """Keep the project's migrations one line: the template's new ones go after its own.

    Prepares the new bake before the merge. A revision the project already has keeps
    its parent: a module switched on can give it another one in the template (0003_llm
    after 0002_auth), but that would rewrite a migration databases have already run.
    Only a parent that goes with a switched-off module is replaced, by its own parent.
    The revisions a module switched on brings are chained, in the template's order,
    after the project's head, which may be a revision of the team's own: not after
    the template's parent, which would make a second head.

    The old bake's revisions first take the parents they have in the project: a parent
    set here earlier is not the team's edit (the module's file is still removed with
    its module, and merges only see the team's changes).
    """
    mine, before, after = migrations(project), migrations(old), migrations(new)
    for name, (revision, parents) in before.items():
        if name in mine and mine[name][0] == revision and mine[name][1] != parents:
            set_parents(old / name, mine[name][1])
    dropped = {
        revision
        for name, (revision, _) in before.items()
        if name not in after and read(project / name) == read(old / name)
    }
    chain = {revision: parents for revision, parents in mine.values() if revision not in dropped}
    skipped = {revision: parents for revision, parents in mine.values() if revision in dropped}

    def kept(revisions: Parents) -> Parents:
        return tuple(p for r in revisions for p in (kept(skipped[r]) if r in skipped else (r,)))

    chain = {revision: kept(parents) for revision, parents in chain.items()}
    for name, (revision, parents) in after.items():
        if name in before and revision in chain and chain[revision] != parents:
            set_parents(new / name, chain[revision])
    for name, (revision, parents) in mine.items():  # the team's own, after a dropped one
        if name not in after and revision in chain and chain[revision] != parents:
            set_parents(project / name, chain[revision])
            report.changes.append(("updated", name))
    template = dict(after.values())

    def depth(revision: str) -> int:
        return 1 + max((depth(p) for p in template.get(revision, ())), default=0)

    added = sorted(
        (
            (name, revision)
            for name, (revision, _) in after.items()
            if name not in before and name not in mine and revision not in chain
        ),
        key=lambda item: depth(item[1]),
    )
    if not added or not chain:
        return
    heads = set(chain) - {parent for parents in chain.values() for parent in parents}
    if len(heads) != 1:
        report.warnings.append(
            f"the project's migrations have {len(heads)} heads: the new ones keep the "
            "template's parents; join the heads with `alembic merge heads`"
        )
        return
    [head] = heads
    for name, revision in added:
        set_parents(new / name, (head,))
        head = revision
