"""Change the answers of a generated project, or pull in template updates, keeping its edits.

A generated project records its answers and the template commit it was made from
(``.template-answers.json``). ``regenerate`` bakes those answers at that commit (the
base) and the new answers at the current template (theirs) into a temporary folder,
then merges the difference into the project file by file with ``git merge-file``:
files the template adds appear, files it drops go unless the user changed them
(then they stay, with a warning), and shared files get the template's change merged
with the user's edits (what git marks only because the changes touch is merged
again, line by line). The migrations a module brings are chained after the project's
own head first. Conflicts stay as inline markers, are listed at the end, and make
the exit status 1. Needs git on the PATH, but no git history of the project.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from cookiecutter.config import BUILTIN_ABBREVIATIONS
from cookiecutter.exceptions import CookiecutterException
from cookiecutter.repository import determine_repo_dir

from template_tools.answers import template_source, validate, write_records

DISTRIBUTION = "fastapi-ai-service-template"
ANSWERS_FILE = ".template-answers.json"
# Written from the new answers once the merge is done; never merged themselves.
RECORD_FILES = frozenset({ANSWERS_FILE, ".cruft.json"})
ENV_FILE = ".env"
ENV_EXAMPLE = ".env.example"
SECRET_KEY_LINE = re.compile(r"^SECRET_KEY=.*$", re.MULTILINE)
# A new name moves every file of the project: a job for `git mv`, not for a merge.
FIXED_OPTIONS = frozenset({"project_slug", "package_name"})
MERGE_LABELS = ("yours", "template before", "template now")
EXIT_CONFLICTS = 1
EXIT_REFUSED = 2


class Refused(Exception):
    """Regeneration cannot go ahead; the project has not been changed."""


@dataclass(frozen=True)
class Template:
    """Template files ready to bake, and the git repository that holds their history."""

    path: Path
    commit: str | None
    repo: Path | None


@dataclass
class Report:
    answer_changes: dict[str, tuple[str, str]] = field(default_factory=dict)
    commits: tuple[str | None, str | None] = (None, None)
    changes: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)

    def render(self) -> str:
        lines = [f"answers: {k} {old} -> {new}" for k, (old, new) in self.answer_changes.items()]
        old_commit, new_commit = (commit[:12] if commit else "unknown" for commit in self.commits)
        if old_commit != new_commit:
            lines.append(f"template: {old_commit} -> {new_commit}")
        lines += [f"  {action:<9} {name}" for action, name in self.changes]
        if not self.changes:
            lines.append("No file changes: the project already has what the template brings.")
        lines += [f"warning: {warning}" for warning in self.warnings]
        if self.conflicts:
            lines.append(
                f"{len(self.conflicts)} file(s) with conflicts, marked between "
                f"'<<<<<<< {MERGE_LABELS[0]}' and '>>>>>>> {MERGE_LABELS[2]}':"
            )
            lines += [f"  {name}" for name in self.conflicts]
            lines.append("Resolve them, then run `uv sync` and the tests.")
        elif self.changes:
            lines.append("Review with `git diff`, then run `uv sync` and the tests.")
        return "\n".join(lines)


def git(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)


def commit_of(repo: Path, ref: str) -> str | None:
    result = git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", cwd=repo)
    return result.stdout.strip() if result.returncode == 0 else None


def export(repo: Path, commit: str, destination: Path) -> Path:
    """The template's files at ``commit``, taken from its git history."""
    prefix = git("rev-parse", "--show-prefix", cwd=repo).stdout.strip()
    archive = subprocess.run(
        ["git", "archive", "--format=tar", f"{commit}:{prefix}"],
        cwd=repo,
        capture_output=True,
        check=False,
    )
    if archive.returncode != 0:
        raise Refused(f"cannot read template commit {commit} in {repo}: {archive.stderr!r}")
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(destination, filter="data")
    return destination


def own_template() -> str | None:
    """Where this command comes from, as a template source.

    The checkout it runs from (``uv run --project <template>``), or the git URL and
    commit it was installed from (``uvx --from git+<url>``); None when neither.
    """
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "cookiecutter.json").is_file():
        return str(checkout)
    try:
        origin = json.loads(
            metadata.distribution(DISTRIBUTION).read_text("direct_url.json") or "{}"
        )
    except metadata.PackageNotFoundError:
        return None
    vcs = origin.get("vcs_info", {})
    if vcs.get("vcs") != "git":
        return None
    return f"git+{origin['url']}@{vcs['commit_id']}"


def split_ref(source: str) -> tuple[str, str | None]:
    """``gh:acme/template@v2`` -> (``gh:acme/template``, ``v2``); no ref -> None."""
    if "@" in source.rpartition("/")[2] and not Path(source).exists():
        location, _, ref = source.rpartition("@")
        return location, ref
    return source, None


def fetch_template(source: str, workdir: Path) -> Template:
    """A local path, git URL or abbreviation (``gh:owner/repo``), found as the generator does.

    ``<url>@<ref>`` selects a branch, tag or commit (also of a local git checkout).
    """
    location, checkout = split_ref(source)
    clones = workdir / "clones"
    try:
        found, _ = determine_repo_dir(
            template=location,
            abbreviations=BUILTIN_ABBREVIATIONS,
            clone_to_dir=clones,
            checkout=checkout,
            no_input=True,
        )
    except (CookiecutterException, subprocess.CalledProcessError) as error:
        raise Refused(f"cannot get the template {source}: {error}") from error
    path = Path(found).resolve()
    if git("rev-parse", "--is-inside-work-tree", cwd=path).returncode != 0:
        if checkout:
            raise Refused(f"{location} is not a git repository: it has no {checkout}")
        return Template(path, None, None)
    commit = commit_of(path, checkout or "HEAD")
    if commit is None:
        raise Refused(f"the template {location} has no commit {checkout}")
    if checkout and not path.is_relative_to(clones):  # a local checkout: leave it as it is
        return Template(export(path, commit, workdir / "template-checkout"), commit, path)
    return Template(path, commit, path)


def template_at(template: Template, commit: str, workdir: Path) -> Path:
    """The template's files at ``commit``, the version the project was generated from."""
    if template.repo is None:
        raise Refused(
            f"the project was generated from template commit {commit}, but {template.path} "
            "has no git history to take it from: pass --template with a git checkout or "
            "URL of the template"
        )
    if commit_of(template.repo, commit) is None:
        raise Refused(
            f"the project was generated from template commit {commit}, which "
            f"{template.repo} does not have: fetch it, or pass --template with a clone "
            "that has it"
        )
    return export(template.repo, commit, workdir / "template-base")


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


def bake(template: Path, answers: Mapping[str, str], workdir: Path, name: str) -> Path:
    """Generate a project from ``template`` with ``answers``, without prompts, hooks included.

    Runs in its own process with its own configuration: no prompts, nothing written
    to the user's replay folder, and the hooks' output is kept for error messages only.
    """
    config = workdir / "config.yaml"
    config.write_text(
        json.dumps(
            {"cookiecutters_dir": str(workdir / "clones"), "replay_dir": str(workdir / "replay")}
        )
    )
    output = workdir / name
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
        # Not the caller's folder: `python -m` puts it first on sys.path, and a template
        # root there would shadow this template's local_extensions module.
        cwd=workdir,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise Refused(f"generating from {template} failed:\n{result.stdout}{result.stderr}")
    [project] = output.iterdir()
    return project


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
    """
    mine, before, after = migrations(project), migrations(old), migrations(new)
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


def read_record(project: Path) -> dict[str, Any]:
    try:
        record: dict[str, Any] = json.loads((project / ANSWERS_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise Refused(
            f"{project} has no {ANSWERS_FILE}: it was not generated from this template"
        ) from None
    return record


def check_clean(project: Path) -> None:
    """Refuse a git working tree with changes: the result must be reviewable and undoable."""
    status = git("status", "--porcelain", "--", ".", cwd=project)
    if status.returncode == 0 and status.stdout.strip():
        raise Refused(
            f"{project} has uncommitted changes:\n{status.stdout}"
            "Commit or stash them first, so that you can review the regeneration with "
            "`git diff` and undo it; or pass --allow-dirty."
        )


def regenerate(
    project: Path, changes: Mapping[str, str], template: str | None, allow_dirty: bool
) -> Report:
    record = read_record(project)
    if not allow_dirty:
        check_clean(project)
    with tempfile.TemporaryDirectory(prefix="regenerate-") as scratch:
        workdir = Path(scratch)
        current = fetch_template(template or own_template() or record["template"], workdir)
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
            base_template = template_at(current, record["commit"], workdir)
        old = bake(base_template, record["answers"], workdir, "old")
        new = bake(current.path, answers, workdir, "new")
        chain_migrations(project, old, new, report)
        for name in sorted((files_under(old) | files_under(new)) - RECORD_FILES - {ENV_FILE}):
            merge_path(project, name, old / name, new / name, report)
        merge_env(project, old, new, report)
        source = (
            template_source({"_template": split_ref(template)[0]})
            if template
            else record["template"]
        )
        baked = json.loads((new / ANSWERS_FILE).read_text(encoding="utf-8"))
        write_records(project, source, current.commit, baked["answers"])
    return report


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


if __name__ == "__main__":
    sys.exit(main())
