"""regenerate's merge rules, one file at a time, on small folders (fast: no bake).

The end-to-end scenarios, which bake real projects, are in ``test_regenerate.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from template_tools.regenerate.env_merge import merge_env
from template_tools.regenerate.fetch import split_ref
from template_tools.regenerate.file_merge import merge_path
from template_tools.regenerate.line_merge import merge_lines
from template_tools.regenerate.migrations import chain_migrations, migrations
from template_tools.regenerate.report import Report


def tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


@pytest.fixture
def sides(tmp_path: Path) -> tuple[Path, Path, Path]:
    """Empty project, old bake and new bake folders."""
    project, old, new = (tmp_path / name for name in ("project", "old", "new"))
    for folder in (project, old, new):
        folder.mkdir()
    return project, old, new


def test_a_dropped_file_goes_with_the_folder_it_leaves_holding_only_bytecode(
    sides: tuple[Path, Path, Path],
) -> None:
    project, old, new = sides
    tree(project, {"pkg/llm/client.py": "x = 1\n", "pkg/llm/__pycache__/client.pyc": "b"})
    tree(old, {"pkg/llm/client.py": "x = 1\n"})
    report = Report()

    merge_path(project, "pkg/llm/client.py", old / "pkg/llm/client.py", new / "x", report)

    assert report.changes == [("removed", "pkg/llm/client.py")]
    assert not (project / "pkg").exists()


def test_a_file_the_user_deleted_is_not_brought_back(sides: tuple[Path, Path, Path]) -> None:
    project, old, new = sides
    tree(old, {"notes.md": "old\n"})
    tree(new, {"notes.md": "new\n"})
    report = Report()

    merge_path(project, "notes.md", old / "notes.md", new / "notes.md", report)

    assert not (project / "notes.md").exists()
    assert report.warnings == ["not restored notes.md: you deleted it; the template changed it"]


def test_a_file_the_user_and_the_template_both_added_is_a_conflict(
    sides: tuple[Path, Path, Path],
) -> None:
    project, old, new = sides
    tree(project, {"jobs.py": "mine = 1\n"})
    tree(new, {"jobs.py": "theirs = 1\n"})
    report = Report()

    merge_path(project, "jobs.py", old / "jobs.py", new / "jobs.py", report)

    assert report.conflicts == ["jobs.py"]
    assert (project / "jobs.py").read_text() == (
        "<<<<<<< yours\nmine = 1\n=======\ntheirs = 1\n>>>>>>> template now\n"
    )


ENV_EXAMPLE = "DEBUG=false\nSECRET_KEY=change-me\nCORS_ORIGINS=[]\n"


def test_env_keeps_the_users_values_and_gains_new_settings(sides: tuple[Path, Path, Path]) -> None:
    project, old, new = sides
    tree(project, {".env": "DEBUG=true\nSECRET_KEY=users-own-key\nCORS_ORIGINS=[]\n"})
    tree(old, {".env.example": ENV_EXAMPLE})
    tree(new, {".env.example": ENV_EXAMPLE.replace("\nCORS", "\nLLM_MODEL=m\nCORS")})
    report = Report()

    merge_env(project, old, new, report)

    assert (project / ".env").read_text() == (
        "DEBUG=true\nSECRET_KEY=users-own-key\nLLM_MODEL=m\nCORS_ORIGINS=[]\n"
    )
    assert report.changes == [("merged", ".env")]


def test_a_project_without_env_does_not_get_one(sides: tuple[Path, Path, Path]) -> None:
    project, old, new = sides
    tree(old, {".env.example": ENV_EXAMPLE})
    tree(new, {".env.example": ENV_EXAMPLE + "LLM_MODEL=m\n"})

    merge_env(project, old, new, Report())

    assert not (project / ".env").exists()


@pytest.mark.parametrize(
    ("source", "split"),
    [
        ("gh:acme/service-template@v2", ("gh:acme/service-template", "v2")),
        ("git+https://host/acme/t.git@0123abc", ("git+https://host/acme/t.git", "0123abc")),
        ("git@host:acme/t.git", ("git@host:acme/t.git", None)),
        ("../service-template", ("../service-template", None)),
    ],
)
def test_a_template_source_may_name_a_branch_tag_or_commit(
    source: str, split: tuple[str, str | None]
) -> None:
    assert split_ref(source) == split


def merged(base: str, yours: str, now: str) -> tuple[str, int]:
    text, conflicts = merge_lines(
        *(side.encode().splitlines(keepends=True) for side in (base, yours, now))
    )
    return b"".join(text).decode(), conflicts


@pytest.mark.parametrize(
    ("yours", "now", "result"),
    [
        ("a\nmine\nb\nc\n", "a\nc\n", "a\nmine\nc\n"),  # beside a line the template drops
        ("a\nb\nmine\nc\n", "a\nB\nc\n", "a\nB\nmine\nc\n"),  # beside one it changes
        ("a\nB\nc\n", "a\nB\nc\n", "a\nB\nc\n"),  # the same change on both sides
        ("a\nimport y\nb\nc\n", "a\nimport x\nb\nc\n", "a\nimport x\nimport y\nb\nc\n"),
    ],
)
def test_changes_that_only_touch_merge_cleanly(yours: str, now: str, result: str) -> None:
    assert merged("a\nb\nc\n", yours, now) == (result, 0)


@pytest.mark.parametrize(
    ("yours", "now", "conflict"),
    [
        ("a\nmine\nc\n", "a\nB\nc\n", "<<<<<<< yours\nmine\n=======\nB\n>>>>>>> template now\n"),
        ("a\nb\nmine\nc\n", "a\nb\nnow\nc\n", "b\n<<<<<<< yours\nmine\n=======\nnow\n>>>>>>>"),
    ],
)
def test_the_same_line_or_the_same_place_stays_a_conflict(
    yours: str, now: str, conflict: str
) -> None:
    text, conflicts = merged("a\nb\nc\n", yours, now)

    assert conflicts == 1
    assert conflict in text


def versions(root: Path, chain: dict[str, str | None]) -> Path:
    """One migration file per revision (revision -> its parent) under ``root``."""
    for revision, parent in chain.items():
        value = f'"{parent}"' if parent else "None"
        text = f'"""{revision}\n\nRevises: {parent}\n"""\n\nrevision = "{revision}"\n'
        tree(root, {f"migrations/versions/{revision}.py": f"{text}down_revision = {value}\n"})
    return root


def parents(root: Path) -> dict[str, tuple[str, ...]]:
    return dict(migrations(root).values())


def test_switched_on_migrations_go_after_the_projects_head_and_old_ones_keep_theirs(
    sides: tuple[Path, Path, Path],
) -> None:
    project, old, new = sides
    versions(project, {"0001_core": None, "0003_llm": "0001_core", "team": "0003_llm"})
    versions(old, {"0001_core": None, "0003_llm": "0001_core"})
    chain = {
        "0001_core": None,
        "0002_auth": "0001_core",
        "0003_llm": "0002_auth",
        "0004": "0003_llm",
    }
    versions(new, chain)

    chain_migrations(project, old, new, Report())

    assert parents(new) == {
        "0001_core": (),
        "0002_auth": ("team",),
        "0003_llm": ("0001_core",),
        "0004": ("0002_auth",),
    }
    assert "Revises: team\n" in (new / "migrations/versions/0002_auth.py").read_text()


def test_a_revision_after_a_switched_off_migration_goes_after_its_parent(
    sides: tuple[Path, Path, Path],
) -> None:
    project, old, new = sides
    chain = {"0001_core": None, "0002_auth": "0001_core", "team": "0002_auth", "0003_llm": "team"}
    versions(project, chain)
    versions(old, {"0001_core": None, "0002_auth": "0001_core", "0003_llm": "0002_auth"})
    versions(new, {"0001_core": None, "0003_llm": "0001_core"})
    report = Report()

    chain_migrations(project, old, new, report)

    assert parents(project)["team"] == ("0001_core",)
    assert parents(new)["0003_llm"] == ("team",)
    assert report.changes == [("updated", "migrations/versions/team.py")]


def test_a_migration_chained_after_the_teams_own_goes_with_its_module(
    sides: tuple[Path, Path, Path],
) -> None:
    project, old, new = sides
    versions(project, {"0001_core": None, "team": "0001_core", "0006_rag": "team"})
    versions(old, {"0001_core": None, "0006_rag": "0001_core"})
    versions(new, {"0001_core": None})
    name = "migrations/versions/0006_rag.py"
    report = Report()

    chain_migrations(project, old, new, report)
    merge_path(project, name, old / name, new / name, report)

    assert not (project / name).exists()
    assert report.changes == [("removed", name)]
    assert not report.warnings
