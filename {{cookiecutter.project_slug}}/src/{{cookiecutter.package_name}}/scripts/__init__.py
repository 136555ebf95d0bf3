"""Maintenance commands: ``uv run python -m {{ cookiecutter.package_name }}.scripts.<name>``.

Some of them generate parts of ``docs/`` from the code: each generated part sits
between two marker comments, and a test fails when it no longer matches the code.
"""

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

DOCS = Path(__file__).resolve().parents[3] / "docs"


def _markers(name: str) -> tuple[str, str]:
    return f"<!-- {name}:start -->", f"<!-- {name}:end -->"


def generated_part(path: Path, name: str) -> str:
    """The text between the ``name`` markers of ``path``."""
    start, end = _markers(name)
    text = path.read_text(encoding="utf-8")
    if start not in text or end not in text:
        msg = f"{path} has no {start} ... {end} markers"
        raise ValueError(msg)
    return text.split(start, 1)[1].split(end, 1)[0].strip("\n") + "\n"


def write_generated_part(path: Path, name: str, content: str) -> None:
    """Replace the text between the ``name`` markers of ``path`` by ``content``."""
    start, end = _markers(name)
    text = path.read_text(encoding="utf-8")
    before, rest = text.split(start, 1)
    after = rest.split(end, 1)[1]
    path.write_text(f"{before}{start}\n{content.strip(chr(10))}\n{end}{after}", encoding="utf-8")


def print_or_write(
    argv: Sequence[str] | None,
    description: str,
    render: Callable[[], str],
    document: Path,
    name: str,
) -> int:
    """The command line of a generator: print what ``render`` makes, or with ``--write``
    put it between the ``name`` markers of ``document``.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--write", action="store_true", help=f"update {document.name}")
    args = parser.parse_args(argv)
    if args.write:
        write_generated_part(document, name, render())
    else:
        sys.stdout.write(render())
    return 0
