"""A three-way merge of one file: git's, then its conflicts merged again, line by line.

``git merge-file`` reports a conflict wherever both sides changed lines that touch;
where the two changes leave each other's lines alone (a line added next to one the
template changed or dropped), ``merge_lines`` takes both.
"""

from __future__ import annotations

import difflib
import os
import re
import subprocess
from pathlib import Path

MERGE_LABELS = ("yours", "template before", "template now")


def markers(size: int) -> list[bytes]:
    """Conflict marker lines, as git writes them: yours, template before, separator, now."""
    yours, before, now = (
        f"{sign * size} {label}\n".encode() for sign, label in zip("<|>", MERGE_LABELS, strict=True)
    )
    return [yours, before, b"=" * size + b"\n", now]


YOURS, _, SEPARATOR, NOW = markers(7)  # git's size: what editors and pre-commit look for
READ_BACK_SIZE = 32  # git's output is read back with markers no line of a file looks like
CONFLICT = re.compile(
    b"^%b(.*?)^%b(.*?)^%b(.*?)^%b" % tuple(map(re.escape, markers(READ_BACK_SIZE))),
    re.MULTILINE | re.DOTALL,
)
IMPORT_LINE = re.compile(rb"(from \S+ )?import [^()\\]+$")
Edit = tuple[int, int, list[bytes]]  # base lines [start, end) become these lines


def edits(base: list[bytes], side: list[bytes]) -> list[Edit]:
    matcher = difflib.SequenceMatcher(None, base, side, autojunk=False)
    return [
        (i1, i2, side[j1:j2]) for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal"
    ]


def clash(a: Edit, b: Edit) -> bool:
    """Both change a base line, or both insert at one place (in which order?)."""
    if a[0] == a[1] == b[0] == b[1]:
        return True
    return a[0] < b[1] and b[0] < a[1]


def apply(base: list[bytes], changes: list[Edit], start: int, end: int) -> list[bytes]:
    lines, position = [], start
    for i1, i2, new in changes:
        lines += [*base[position:i1], *new]
        position = i2
    return lines + base[position:end]


def shared(a: list[bytes], b: list[bytes]) -> int:
    """How many lines ``a`` and ``b`` start with in common."""
    return next(
        (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b))
    )


def merge_lines(base: list[bytes], yours: list[bytes], now: list[bytes]) -> tuple[list[bytes], int]:
    """A three-way merge of one conflict git reported, and how many conflicts remain.

    Changes that touch but leave each other's lines alone are both taken: a line added
    next to one the other side removed or changed. Still conflicts: both sides changed
    the same base line, or inserted different lines at the same place, except import
    lines, which are taken both, sorted (their order means nothing; ruff sorts them).
    """
    ours, theirs = edits(base, yours), edits(base, now)
    theirs = [edit for edit in theirs if edit not in ours]  # the same change made twice
    groups: list[tuple[list[Edit], list[Edit]]] = []  # clashing changes: yours, the template's
    for edit, side in sorted([(edit, 0) for edit in ours] + [(edit, 1) for edit in theirs]):
        if groups and any(clash(edit, other) for other in (*groups[-1][0], *groups[-1][1])):
            groups[-1][side].append(edit)
        else:
            groups.append(([edit], []) if side == 0 else ([], [edit]))
    lines: list[bytes] = []
    position = conflicts = 0
    for mine, template in groups:
        start = min(edit[0] for edit in (*mine, *template))
        end = max(edit[1] for edit in (*mine, *template))
        lines += base[position:start]
        position = end
        yours_part, now_part = apply(base, mine, start, end), apply(base, template, start, end)
        if not mine or not template or yours_part == now_part:
            lines += yours_part if mine else now_part
        elif start == end and all(IMPORT_LINE.match(line) for line in yours_part + now_part):
            lines += sorted(set(yours_part + now_part))
        else:  # marked as git marks it: lines both sides have stay outside the markers
            same = shared(yours_part, now_part)
            tail = shared(yours_part[same:][::-1], now_part[same:][::-1])
            lines += [
                *yours_part[:same],
                YOURS,
                *yours_part[same : len(yours_part) - tail],
                SEPARATOR,
                *now_part[same : len(now_part) - tail],
                NOW,
                *yours_part[len(yours_part) - tail :],
            ]
            conflicts += 1
    return lines + base[position:], conflicts


def merge_file(mine: Path, old: Path | None, new: Path) -> tuple[bytes, int] | None:
    """The template's change (``old`` -> ``new``) merged into ``mine``, conflicts marked inline.

    The number of conflicts comes with the text; None when git cannot merge (binary files).
    git reports a conflict wherever both sides changed lines that touch, even when neither
    changed the other's lines: a route added beside a module's line that the template
    drops. Each conflict is therefore merged again, line by line (``merge_lines``).
    """
    labels = [arg for label in MERGE_LABELS for arg in ("-L", label)]
    command = [
        "git",
        "merge-file",
        "--stdout",
        *labels,
        str(mine),
        str(old or os.devnull),
        str(new),
    ]
    result = subprocess.run(
        [*command, "--diff3", "--marker-size", str(READ_BACK_SIZE)],
        capture_output=True,
        check=False,
    )
    if not 0 <= result.returncode < 128:
        return None
    blocks = CONFLICT.split(result.stdout)  # text, then (yours, before, now, text) per conflict
    if len(blocks) != 1 + 4 * result.returncode:  # markers it cannot tell (CRLF text): git's
        return subprocess.run(command, capture_output=True, check=False).stdout, result.returncode
    merged, conflicts = [blocks[0]], 0
    for index in range(1, len(blocks), 4):
        yours, before, now, text = (
            block.splitlines(keepends=True) for block in blocks[index : index + 4]
        )
        lines, unresolved = merge_lines(before, yours, now)
        merged += [*lines, *text]
        conflicts += unresolved
    return b"".join(merged), conflicts
