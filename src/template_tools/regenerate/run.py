"""One regeneration, step by step: fetch, check the answers, bake twice, merge, record."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path

from template_tools.answers import (
    ANSWERS_FILE,
    CRUFT_FILE,
    read_records,
    template_source,
    write_records,
)
from template_tools.bake import BakeFailed, bake
from template_tools.regenerate import fetch
from template_tools.regenerate.answer_changes import new_answers, read_record
from template_tools.regenerate.env_merge import ENV_FILE, merge_env
from template_tools.regenerate.file_merge import files_under, merge_path
from template_tools.regenerate.migrations import chain_migrations
from template_tools.regenerate.report import Refused, Report

# Written from the new answers once the merge is done; never merged themselves.
RECORD_FILES = frozenset({ANSWERS_FILE, CRUFT_FILE})


def check_clean(project: Path) -> None:
    """Refuse a git working tree with changes: the result must be reviewable and undoable."""
    status = fetch.git("status", "--porcelain", "--", ".", cwd=project)
    if status.returncode == 0 and status.stdout.strip():
        raise Refused(
            f"{project} has uncommitted changes:\n{status.stdout}"
            "Commit or stash them first, so that you can review the regeneration with "
            "`git diff` and undo it; or pass --allow-dirty."
        )


def bake_for_merge(template: Path, answers: Mapping[str, str], folder: Path) -> Path:
    try:
        return bake(template, answers, folder)
    except BakeFailed as failure:
        raise Refused(str(failure)) from None


def regenerate(
    project: Path, changes: Mapping[str, str], template: str | None, allow_dirty: bool
) -> Report:
    record = read_record(project)
    if not allow_dirty:
        check_clean(project)
    with tempfile.TemporaryDirectory(prefix="regenerate-") as scratch:
        workdir = Path(scratch)
        current = fetch.fetch_template(
            template or fetch.own_template() or record["template"], workdir
        )
        answers = new_answers(record["answers"], changes, current.path)
        report = Report(
            answer_changes={
                key: (record["answers"].get(key, ""), value)
                for key, value in answers.items()
                if record["answers"].get(key) != value
            },
            commits=(record["commit"], current.commit),
        )
        if record["commit"] is None:
            report.warnings.append(
                "the project records no template commit: taken as made from the current "
                "template, so template changes since then count as your edits"
            )
            base_template = current.path
        else:
            base_template = fetch.template_at(current, record["commit"], workdir)
        old = bake_for_merge(base_template, record["answers"], workdir / "old")
        new = bake_for_merge(current.path, answers, workdir / "new")
        chain_migrations(project, old, new, report)
        for name in sorted((files_under(old) | files_under(new)) - RECORD_FILES - {ENV_FILE}):
            merge_path(project, name, old / name, new / name, report)
        merge_env(project, old, new, report)
        source = (
            template_source({"_template": fetch.split_ref(template)[0]})
            if template
            else record["template"]
        )
        write_records(project, source, current.commit, read_records(new)["answers"])
    return report
