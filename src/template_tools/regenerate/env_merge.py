"""The user's ``.env``: the settings ``.env.example`` gains or drops, the user's key kept."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from template_tools.regenerate.file_merge import merge_path, read
from template_tools.regenerate.report import Report

ENV_FILE = ".env"
ENV_EXAMPLE = ".env.example"
SECRET_KEY_LINE = re.compile(r"^SECRET_KEY=.*$", re.MULTILINE)


def merge_env(project: Path, old: Path, new: Path, report: Report) -> None:
    """Bring the settings added to or dropped from ``.env.example`` into the user's ``.env``.

    ``.env`` holds the user's secrets and is never committed. Each bake writes its own
    with a fresh SECRET_KEY, so merging the bakes' ``.env`` would replace the user's key
    or conflict on it. ``.env`` was made from ``.env.example``, so the change of
    ``.env.example`` is merged into it instead, both sides given the user's own
    SECRET_KEY line. A project without ``.env`` (a fresh clone) does not get one.
    """
    env = project / ENV_FILE
    before, after = read(old / ENV_EXAMPLE), read(new / ENV_EXAMPLE)
    if not env.is_file() or before is None or after is None or before == after:
        return
    key = SECRET_KEY_LINE.search(env.read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as scratch:
        sides = []
        for side, example in (("old", before), ("new", after)):
            text = example.decode()
            if key:
                text = SECRET_KEY_LINE.sub(lambda _: key.group(0), text, count=1)
            path = Path(scratch) / side
            path.write_text(text, encoding="utf-8")
            sides.append(path)
        merge_path(project, ENV_FILE, sides[0], sides[1], report)
