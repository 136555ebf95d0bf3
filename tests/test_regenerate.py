"""regenerate: switching modules and pulling template updates into projects users edited.

Each scenario commits a copy of this template to a git repository in a temporary
folder, generates a project from it, edits the project as a team would, and
regenerates it. The strongest check compares the result with a fresh bake of the
new answers that got the same edits: equal trees mean the template's change came
in whole and the user's work stayed whole. The edits and comparisons the scenarios
share are in ``regenerate_support.py``; the merge rules, one file at a time, are
tested on small folders in ``test_regenerate_merge.py``.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest

from template_tools.regenerate import fetch, main
from template_tools.regenerate.migrations import migrations
from tests.conftest import (
    TEMPLATE_ROOT,
    UV,
    postgres_database,
    project_env,
    run,
)
from tests.regenerate_support import (
    PACKAGE,
    add_items_route,
    add_tags_table,
    alembic_env,
    commit_all,
    edit_where_the_llm_module_edits,
    expected_project,
    generate,
    git,
    readme_regenerate_commands,
    recorded,
    refresh_generated_docs,
    secret_key,
    snapshot,
    switched_off,
    update_template,
)
from tests.test_bake import check_project

Regenerate = Callable[..., tuple[int, str]]
# A scenario that switches a module on runs the tests of what it changed (the plan's
# bakes run whole suites): the module's own, the migrations, and what reads the code.
LLM_ON_TESTS = (
    "tests/llm",
    "tests/test_migrations.py",
    "tests/test_docs.py",
    "tests/test_architecture.py",
    "tests/test_route_access.py",
)
# Switching a module off: what could still reach for it (the app, its routes and
# settings, the migrations, the docs) and the user's own code (the items route).
LLM_OFF_TESTS = (
    "tests/test_migrations.py",
    "tests/test_docs.py",
    "tests/test_architecture.py",
    "tests/test_route_access.py",
    "tests/test_config.py",
    "tests/test_health.py",
)
AUTH_ON_TESTS = (
    "tests/test_migrations.py",
    "tests/test_login.py",
    "tests/test_tokens.py",
    "tests/test_route_access.py",
    "tests/test_notes.py",
    "tests/llm/test_access.py",
    "tests/test_docs.py",
)

RAG_ON_TESTS = (
    "tests/llm/test_rag.py",
    "tests/test_migrations.py",
    "tests/test_docs.py",
    "tests/test_architecture.py",
    "tests/test_route_access.py",
)


@pytest.fixture
def template(tmp_path: Path) -> Path:
    """This template, committed to a git repository of its own."""
    repo = tmp_path / "template"
    shutil.copytree(
        TEMPLATE_ROOT,
        repo,
        ignore=shutil.ignore_patterns(".git", ".venv", "__pycache__", ".*_cache"),
    )
    git(repo, "init", "-q", "-b", "main")
    commit_all(repo, "Template")
    return repo


@pytest.fixture
def regenerate(template: Path, capsys: pytest.CaptureFixture[str]) -> Regenerate:
    """Run the command on a project against ``template``; its exit status and output."""

    def call(project: Path, *args: str) -> tuple[int, str]:
        code = main([str(project), "--template", str(template), *args])
        output = capsys.readouterr()
        return code, output.out + output.err

    return call


@pytest.fixture
def committed_project(template: Path, tmp_path: Path) -> Callable[..., Path]:
    """A generated project with the items route, committed as generated and as edited."""

    def make(**answers: str) -> Path:
        project = generate(template, tmp_path / "project", **answers)
        git(project, "init", "-q", "-b", "main")
        commit_all(project, "Generated")
        add_items_route(project)
        commit_all(project, "Items")
        return project

    return make


@pytest.mark.bake
def test_switching_the_llm_module_on_keeps_the_users_route_setting_and_files(
    committed_project: Callable[..., Path],
    regenerate: Regenerate,
    template: Path,
    tmp_path: Path,
    mypy_cache: Path,
) -> None:
    project = committed_project(llm="none", auth="jwt")
    key = secret_key(project)
    # The database the project already runs on, migrated by the project as it was.
    env = project_env(recorded(project)["answers"])
    database = alembic_env(env, f"sqlite+aiosqlite:///{tmp_path / 'app.db'}")
    alembic = [UV, "run", "--no-sync", "alembic"]
    before = shutil.copytree(project, tmp_path / "before")
    run([UV, "sync", "--quiet"], before, env)
    run([*alembic, "upgrade", "head"], before, database)

    code, output = regenerate(project, "--set", "llm=anthropic")

    assert code == 0, output
    answers = recorded(project)["answers"]
    assert answers["llm"] == "anthropic"
    for path in switched_off({**answers, "llm": "none"}) - switched_off(answers):
        assert (project / path).exists(), f"{path} of the LLM module is missing"
    expected = expected_project(
        template, tmp_path / "expected", add_items_route, llm="anthropic", auth="jwt"
    )
    assert snapshot(project) == snapshot(expected)
    assert secret_key(project) == key
    assert "LLM_PROVIDERS" in (project / ".env").read_text()
    refresh_generated_docs(project, answers)
    check_project(project, answers, mypy_cache, suite=True, paths=LLM_ON_TESTS)
    run([*alembic, "upgrade", "head"], project, database)
    with closing(sqlite3.connect(tmp_path / "app.db")) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    assert {"llm_requests", "conversations", "conversation_messages"} <= tables


@pytest.mark.bake
def test_switching_on_outside_git_works_the_same(
    regenerate: Regenerate, template: Path, tmp_path: Path
) -> None:
    project = generate(template, tmp_path / "project", llm="none")
    add_items_route(project)

    code, output = regenerate(project, "--set", "llm=anthropic")

    assert code == 0, output
    expected = expected_project(template, tmp_path / "expected", add_items_route, llm="anthropic")
    assert snapshot(project) == snapshot(expected)


@pytest.mark.bake
def test_switching_the_llm_module_off_removes_it_and_keeps_the_users_code(
    committed_project: Callable[..., Path],
    regenerate: Regenerate,
    template: Path,
    tmp_path: Path,
    mypy_cache: Path,
) -> None:
    project = committed_project(llm="anthropic", auth="jwt")
    key = secret_key(project)

    code, output = regenerate(project, "--set", "llm=none")

    assert code == 0, output
    answers = recorded(project)["answers"]
    for path in switched_off(answers):
        assert not (project / path).exists(), f"{path} of a switched-off module is left"
    assert '"anthropic' not in (project / "pyproject.toml").read_text()
    assert "LLM_PROVIDERS" not in (project / ".env").read_text()
    assert secret_key(project) == key
    expected = expected_project(
        template, tmp_path / "expected", add_items_route, llm="none", auth="jwt"
    )
    assert snapshot(project) == snapshot(expected)
    refresh_generated_docs(project, answers)
    check_project(project, answers, mypy_cache, suite=True, paths=LLM_OFF_TESTS)


@pytest.mark.bake
def test_switching_off_in_a_fresh_clone_needs_no_history_and_makes_no_env(
    committed_project: Callable[..., Path],
    regenerate: Regenerate,
    template: Path,
    tmp_path: Path,
) -> None:
    origin = committed_project(llm="anthropic")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{origin}", str(clone))

    code, output = regenerate(clone, "--set", "llm=none")

    assert code == 0, output
    assert not (clone / ".env").exists()
    expected = expected_project(template, tmp_path / "expected", add_items_route, llm="none")
    assert snapshot(clone) == snapshot(expected)


@pytest.mark.bake
@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("sqlite", "postgresql"),
        ("postgresql", "none"),
        ("none", "sqlite"),
    ],
)
def test_switching_the_database_keeps_the_users_code(
    committed_project: Callable[..., Path],
    regenerate: Regenerate,
    template: Path,
    tmp_path: Path,
    before: str,
    after: str,
) -> None:
    project = committed_project(database=before)

    code, output = regenerate(project, "--set", f"database={after}")

    assert code == 0, output
    assert (project / "src" / PACKAGE / "database").exists() == (after != "none")
    expected = expected_project(template, tmp_path / "expected", add_items_route, database=after)
    assert snapshot(project) == snapshot(expected)


@pytest.mark.bake
def test_switching_auth_on_chains_its_migration_after_the_projects_own(
    regenerate: Regenerate, template: Path, tmp_path: Path, mypy_cache: Path
) -> None:
    """sqlite -> postgresql and auth none -> jwt on a project with a migration of its own."""
    project = generate(
        template, tmp_path / "project", database="sqlite", auth="none", llm="anthropic"
    )
    env = project_env(recorded(project)["answers"])
    run([UV, "sync", "--quiet"], project, env)
    migration = add_tags_table(project, env)
    git(project, "init", "-q", "-b", "main")
    commit_all(project, "Tags")
    versions = migration.parent
    team_revision = migrations(project)[migration.relative_to(project).as_posix()][0]
    alembic = [UV, "run", "--no-sync", "alembic"]
    sqlite_url = f"sqlite+aiosqlite:///{tmp_path / 'app.db'}"
    with postgres_database() as postgres_url:
        for url in (sqlite_url, postgres_url):  # the databases that already run the service
            run([*alembic, "upgrade", "head"], project, alembic_env(env, url))

        code, output = regenerate(project, "--set", "database=postgresql", "--set", "auth=jwt")

        assert code == 0, output
        assert "0002_auth.py" in output
        assert '"0001_core"' in (versions / "0003_llm.py").read_text()  # as it ran
        assert f'= "{team_revision}"' in (versions / "0002_auth.py").read_text()
        answers = recorded(project)["answers"]
        refresh_generated_docs(project, answers)
        # The tests of what changed, on PostgreSQL.
        check_project(project, answers, mypy_cache, suite=True, paths=AUTH_ON_TESTS)
        env = project_env(answers)
        heads = run([*alembic, "heads"], project, env).splitlines()
        assert [line for line in heads if "(head)" in line] == ["0002_auth (head)"]
        for url in (sqlite_url, postgres_url):
            run([*alembic, "upgrade", "head"], project, alembic_env(env, url))
            assert "0002_auth (head)" in run([*alembic, "current"], project, alembic_env(env, url))


@pytest.mark.bake
def test_switching_rag_on_chains_its_migration_and_switching_it_off_removes_it(
    regenerate: Regenerate, template: Path, tmp_path: Path, mypy_cache: Path
) -> None:
    """rag no -> yes -> no on a SQLite project with a migration of its own."""
    project = generate(template, tmp_path / "project", database="sqlite", auth="jwt", llm="openai")
    env = project_env(recorded(project)["answers"])
    run([UV, "sync", "--quiet"], project, env)
    migration = add_tags_table(project, env)
    git(project, "init", "-q", "-b", "main")
    commit_all(project, "Tags")
    team_revision = migrations(project)[migration.relative_to(project).as_posix()][0]
    alembic = [UV, "run", "--no-sync", "alembic"]
    app_db = tmp_path / "app.db"
    run([*alembic, "upgrade", "head"], project, alembic_env(env, f"sqlite+aiosqlite:///{app_db}"))

    code, output = regenerate(project, "--set", "rag=yes")

    assert code == 0, output
    rag_migration = migration.parent / "0006_rag.py"
    assert "0006_rag.py" in output
    assert f'= "{team_revision}"' in rag_migration.read_text()
    answers = recorded(project)["answers"]
    refresh_generated_docs(project, answers)
    check_project(project, answers, mypy_cache, suite=True, paths=RAG_ON_TESTS)
    env = project_env(answers)
    database = alembic_env(env, f"sqlite+aiosqlite:///{app_db}")
    run([*alembic, "upgrade", "head"], project, database)
    assert "0006_rag (head)" in run([*alembic, "current"], project, database)
    with closing(sqlite3.connect(app_db)) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    assert {"tags", "documents", "chunks"} <= tables
    commit_all(project, "RAG")

    code, output = regenerate(project, "--set", "rag=no")

    assert code == 0, output
    answers = recorded(project)["answers"]
    for path in switched_off(answers):
        assert not (project / path).exists(), f"{path} of a switched-off module is left"
    assert "sqlite-vec" not in (project / "pyproject.toml").read_text()
    assert "RAG_" not in (project / ".env").read_text()
    assert migration.exists()
    refresh_generated_docs(project, answers)
    check_project(project, answers, mypy_cache, suite=False)


@pytest.mark.bake
def test_a_switched_off_module_file_the_user_changed_is_kept_with_a_warning(
    committed_project: Callable[..., Path], regenerate: Regenerate
) -> None:
    project = committed_project(llm="anthropic")
    quota = project / "src" / PACKAGE / "services/llm/quota.py"
    quota.write_text(quota.read_text() + "\nTEAM_LIMIT = 5\n")
    commit_all(project, "Team limit")

    code, output = regenerate(project, "--set", "llm=none")

    assert code == 0, output
    assert quota.read_text().endswith("\nTEAM_LIMIT = 5\n")
    assert f"kept src/{PACKAGE}/services/llm/quota.py" in output
    assert not (project / "tests/llm").exists()


@pytest.mark.bake
def test_a_conflict_is_marked_listed_and_fails_without_losing_anything(
    template: Path, regenerate: Regenerate, tmp_path: Path
) -> None:
    project = generate(template, tmp_path / "project", llm="none", database="sqlite")
    git(project, "init", "-q", "-b", "main")
    commit_all(project, "Generated")
    edit_where_the_llm_module_edits(project)
    commit_all(project, "Team changes")

    code, output = regenerate(project, "--set", "llm=anthropic")

    assert code == 1, output
    listed = output.split("with conflicts", 1)[1].splitlines()[1:]
    assert [line.strip() for line in listed[:2]] == ["README.md", "pyproject.toml"]
    readme = (project / "README.md").read_text()
    assert (
        "<<<<<<< yours\n| LLM providers | none: we call our own gateway |\n=======\n"
        "| LLM providers | anthropic |\n>>>>>>> template now\n"
    ) in readme
    pyproject = (project / "pyproject.toml").read_text()
    assert re.search(
        r'<<<<<<< yours\n    "orjson>=3.10",\n=======\n    "anthropic>=.*",\n'
        r'(    ".*",\n)*>>>>>>> template now\n',
        pyproject,
    ), pyproject
    # Apart from the template's lines: merged without a conflict.
    config = (project / "src" / PACKAGE / "core/config.py").read_text()
    assert "    items_page_size: int = 20\n" in config
    assert "llm_providers" in config
    assert "<<<<<<<" not in config
    assert (project / "src" / PACKAGE / "services/llm/service.py").exists()
    assert recorded(project)["answers"]["llm"] == "anthropic"


@pytest.mark.bake
def test_a_template_update_comes_in_the_same_way(
    committed_project: Callable[..., Path],
    regenerate: Regenerate,
    template: Path,
    tmp_path: Path,
) -> None:
    project = committed_project()
    generated = recorded(project)["commit"]
    update_template(template)

    code, output = regenerate(project)

    assert code == 0, output
    assert recorded(project)["commit"] == git(template, "rev-parse", "HEAD").strip()
    assert recorded(project)["commit"] != generated
    expected = expected_project(template, tmp_path / "expected", add_items_route)
    assert snapshot(project) == snapshot(expected)
    assert "Ask the team" in (project / "CONTRIBUTING.md").read_text()


@pytest.mark.bake
def test_a_project_generated_from_a_git_url_is_updated_from_a_clone_of_it(
    template: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """No checkout at hand: the recorded URL is cloned the way the generator clones it."""
    url = f"git+file://{template}"
    project = generate(url, tmp_path / "project")
    assert recorded(project)["template"] == url
    update_template(template)
    monkeypatch.setattr(fetch, "own_template", lambda: None)

    code = main([str(project)])

    assert code == 0, capsys.readouterr()
    assert (project / "CONTRIBUTING.md").exists()
    assert recorded(project)["template"] == url
    assert recorded(project)["commit"] == git(template, "rev-parse", "HEAD").strip()


@pytest.mark.bake
@pytest.mark.parametrize(
    ("changes", "refusal"),
    [
        (["auth=jwt", "database=none"], "auth=jwt needs a database"),
        (["llm=gpt"], "llm=gpt: choose one of none, anthropic"),
        (["colour=red"], "colour is not an option"),
        (["package_name=other"], "package_name cannot change"),
        (["llm"], "write it as --set option=value"),
    ],
)
def test_invalid_answers_are_refused_before_anything_changes(
    committed_project: Callable[..., Path],
    regenerate: Regenerate,
    changes: list[str],
    refusal: str,
) -> None:
    project = committed_project()
    before = snapshot(project)

    code, output = regenerate(project, *(arg for change in changes for arg in ("--set", change)))

    assert code == 2
    assert refusal in output
    assert snapshot(project) == before


@pytest.mark.bake
def test_a_dirty_tree_is_refused_unless_allowed(
    committed_project: Callable[..., Path], regenerate: Regenerate
) -> None:
    project = committed_project()
    readme = project / "README.md"
    readme.write_text(readme.read_text().replace("\n\n", "\n\nWork in progress.\n\n", 1))

    code, output = regenerate(project, "--set", "llm=anthropic")

    assert code == 2
    assert "uncommitted changes" in output
    assert "--allow-dirty" in output
    assert recorded(project)["answers"]["llm"] == "none"

    code, output = regenerate(project, "--set", "llm=anthropic", "--allow-dirty")

    assert code == 0, output
    assert readme.read_text().startswith("# AI Service\n\nWork in progress.\n\n")
    assert "| LLM providers | anthropic |" in readme.read_text()


@pytest.mark.bake
def test_the_generated_readme_commands_run_from_a_checkout_and_from_a_git_url(
    committed_project: Callable[..., Path], template: Path, tmp_path: Path
) -> None:
    """The console script, installed as the README says, finds its own template."""
    project = committed_project(llm="none")
    from_url, from_checkout = readme_regenerate_commands(project)
    assert from_url.startswith("uvx --from git+<template-git-url> regenerate .")
    assert from_checkout.startswith("uv run --project <template-checkout> regenerate .")
    tools = {"UV_TOOL_DIR": str(tmp_path / "uv-tools")}

    checkout = from_checkout.replace("<template-checkout>", str(template)).split()
    run([UV, *checkout[1:]], project, tools)

    assert recorded(project)["answers"]["llm"] == "anthropic"
    commit_all(project, "LLM on")

    url = from_url.replace("<template-git-url>", f"file://{template}").replace("anthropic", "none")
    run([UV, "tool", "run", *url.split()[1:]], project, tools)

    assert recorded(project)["answers"]["llm"] == "none"
    assert not (project / "src" / PACKAGE / "services/llm/service.py").exists()
