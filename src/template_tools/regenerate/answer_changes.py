"""The answers to bake: the project's recorded ones, with the user's changes, checked."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from template_tools.answers import ANSWERS_FILE, read_records, validate
from template_tools.regenerate.report import Refused

# A new name moves every file of the project: a job for `git mv`, not for a merge.
FIXED_OPTIONS = frozenset({"project_slug", "package_name"})


def read_record(project: Path) -> dict[str, Any]:
    try:
        return read_records(project)
    except FileNotFoundError:
        raise Refused(
            f"{project} has no {ANSWERS_FILE}: it was not generated from this template"
        ) from None


def parse_changes(assignments: Sequence[str]) -> dict[str, str]:
    changes: dict[str, str] = {}
    for assignment in assignments:
        option, equals, value = assignment.partition("=")
        if not equals or not option.strip():
            raise Refused(f"--set {assignment!r}: write it as --set option=value")
        changes[option.strip()] = value
    return changes


def new_answers(
    recorded: Mapping[str, str], changes: Mapping[str, str], template: Path
) -> dict[str, str]:
    """The recorded answers with ``changes``, refused as the generator would refuse them."""
    questions: dict[str, Any] = {
        key: value
        for key, value in json.loads(
            (template / "cookiecutter.json").read_text(encoding="utf-8")
        ).items()
        if not key.startswith("_")
    }
    problems: list[str] = []
    for option, value in changes.items():
        if option not in questions:
            problems.append(f"{option} is not an option; the options are {', '.join(questions)}")
        elif isinstance(questions[option], list) and value not in questions[option]:
            problems.append(f"{option}={value}: choose one of {', '.join(questions[option])}")
        elif option in FIXED_OPTIONS and value != recorded.get(option):
            problems.append(f"{option} cannot change by regenerating: rename with `git mv`")
    answers = {key: value for key, value in recorded.items() if key in questions}
    answers.update(changes)
    if not problems:
        # Options the template gained since the project was made take their defaults.
        defaults = {
            key: value[0] if isinstance(value, list) else value for key, value in questions.items()
        }
        problems = validate({**defaults, **answers})
    if problems:
        raise Refused(
            "the answers cannot generate a project:\n" + "\n".join(f"  - {p}" for p in problems)
        )
    return answers
