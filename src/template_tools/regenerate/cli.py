"""The ``regenerate`` command: its arguments, its report and its exit status."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from template_tools.regenerate.answer_changes import parse_changes
from template_tools.regenerate.report import Refused
from template_tools.regenerate.run import regenerate

EXIT_CONFLICTS = 1
EXIT_REFUSED = 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="regenerate",
        description="Change the answers of a project generated from this template, or pull "
        "in template updates, merging them with your edits.",
    )
    parser.add_argument("project", nargs="?", type=Path, default=Path(), help="default: .")
    parser.add_argument(
        "--set",
        dest="changes",
        action="append",
        default=[],
        metavar="OPTION=VALUE",
        help="a new answer, e.g. --set llm=anthropic (repeatable); without any, only "
        "template updates come in",
    )
    parser.add_argument(
        "--template",
        help="the template to take: a path, git URL or gh:owner/repo, with @ref for a "
        "branch, tag or commit (default: the template this command comes from, else the "
        "one the project records)",
    )
    parser.add_argument(
        "--allow-dirty", action="store_true", help="run despite uncommitted changes"
    )
    args = parser.parse_args(argv)
    try:
        report = regenerate(
            args.project.resolve(), parse_changes(args.changes), args.template, args.allow_dirty
        )
    except Refused as refusal:
        print(f"regenerate: {refusal}", file=sys.stderr)
        return EXIT_REFUSED
    print(report.render())
    return EXIT_CONFLICTS if report.conflicts else 0
