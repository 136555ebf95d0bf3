"""regenerate: switching modules and pulling template updates into projects users edited.

Each scenario commits a copy of this template to a git repository in a temporary
folder, generates a project from it, edits the project as a team would, and
regenerates it. The strongest check compares the result with a fresh bake of the
new answers that got the same edits: equal trees mean the template's change came
in whole and the user's work stayed whole.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hooks.post_gen_project import paths_to_remove
from template_tools import regenerate as tool
from tests.conftest import (
    MANIFEST,
    TEMPLATE_ROOT,
    UV,
    check_answer_keys,
    postgres_database,
    project_env,
    run,
)
from tests.test_bake import check_project

GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Dev",
    "GIT_AUTHOR_EMAIL": "dev@example.com",
    "GIT_COMMITTER_NAME": "Dev",
    "GIT_COMMITTER_EMAIL": "dev@example.com",
}
PACKAGE = "ai_service"  # the default package name

ITEMS_ROUTE = f'''"""The team's own routes."""

from fastapi import APIRouter

from {PACKAGE}.core.dependencies import SettingsDep

router = APIRouter(prefix="/items", tags=["items"])


@router.get("", summary="Paging of the items list")
async def items_paging(settings: SettingsDep) -> dict[str, int]:
    return {{"page_size": settings.items_page_size}}
'''
ITEMS_TEST = """from httpx import AsyncClient


async def test_items_use_the_page_size_setting(client: AsyncClient) -> None:
    response = await client.get("/api/v1/items")

    assert response.status_code == 200
    assert response.json() == {"page_size": 20}
"""

Edit = Callable[[Path], None]
Regenerate = Callable[..., tuple[int, str]]


def git(cwd: Path, *args: str) -> str:
    return run(["git", *args], cwd, GIT_IDENTITY)


def commit_all(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


def replace_once(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1, f"{old!r} is not once in {path}"
    path.write_text(text.replace(old, new))


ITEMS_DOCS = """\
## Items

### `GET /api/v1/items`

Paging of the items list. Auth: none. Success: 200.

"""


def add_items_route(project: Path) -> None:
    """A route and a setting of the team's own, registered in the shared router and settings."""
    package = project / "src" / PACKAGE
    (package / "api/v1/endpoints/items.py").write_text(ITEMS_ROUTE)
    (project / "tests/test_items.py").write_text(ITEMS_TEST)
    router = package / "api/v1/router.py"
    jobs_import = f"from {PACKAGE}.api.v1.endpoints.jobs import"
    items_import = f"from {PACKAGE}.api.v1.endpoints.items import router as items_router\n"
    replace_once(router, jobs_import, items_import + jobs_import)
    replace_once(
        router,
        "api_router.include_router(jobs_router)\n",
        "api_router.include_router(jobs_router)\napi_router.include_router(items_router)\n",
    )
    replace_once(
        package / "core/config.py",
        "\n    host: str",
        "\n    items_page_size: int = Field(default=20, ge=1, le=100)\n\n    host: str",
    )
    replace_once(project / "docs/api.md", "## Health\n", ITEMS_DOCS + "## Health\n")


def refresh_generated_docs(project: Path, answers: dict[str, Any]) -> None:
    """What the project's docs tests ask after a change of settings or tables: regenerate
    the settings table and the ER diagram (regenerate merges the template's versions of
    them, which know nothing of the team's own settings and tables).
    """
    env = project_env(answers)
    run([UV, "sync", "--quiet"], project, env)
    scripts = ["config_docs", *(["erd"] if answers["database"] != "none" else [])]
    for script in scripts:
        module = f"{answers['package_name']}.scripts.{script}"
        run([UV, "run", "--no-sync", "python", "-m", module, "--write"], project, env)


def generate(template: Path | str, folder: Path, **answers: str) -> Path:
    """Generate a project as a user would, with the generator's command line, no prompts."""
    check_answer_keys(answers)
    folder.mkdir(parents=True)
    config = folder / "config.yaml"
    config.write_text(f"cookiecutters_dir: {folder / 'clones'}\nreplay_dir: {folder / 'replay'}\n")
    run(
        [
            sys.executable,
            "-m",
            "cookiecutter",
            str(template),
            "--no-input",
            "--output-dir",
            str(folder / "output"),
            "--config-file",
            str(config),
            *(f"{option}={value}" for option, value in answers.items()),
        ],
        folder,
    )
    [project] = (folder / "output").iterdir()
    return project


def recorded(project: Path) -> dict[str, Any]:
    record: dict[str, Any] = json.loads((project / ".template-answers.json").read_text())
    return record


def snapshot(project: Path) -> dict[str, bytes]:
    """Every file but the git folder and ``.env`` (it holds a random key)."""
    return {
        path.relative_to(project).as_posix(): path.read_bytes()
        for path in sorted(project.rglob("*"))
        if path.is_file() and ".git" not in path.relative_to(project).parts
        if path.name != ".env"
    }


def expected_project(template: Path, folder: Path, edit: Edit, **answers: str) -> Path:
    project = generate(template, folder, **answers)
    edit(project)
    return project


def secret_key(project: Path) -> str:
    match = tool.SECRET_KEY_LINE.search((project / ".env").read_text())
    assert match, "no SECRET_KEY in .env"
    return match.group(0)


def switched_off(answers: dict[str, str]) -> set[str]:
    """The paths of the modules that ``answers`` switch off."""
    return set(paths_to_remove(MANIFEST, answers))


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
        code = tool.main([str(project), "--template", str(template), *args])
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
    assert "RATE_LIMIT_STORAGE_URI" in (project / ".env").read_text()
    refresh_generated_docs(project, answers)
    check_project(project, answers, mypy_cache, suite=True)


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
    assert "RATE_LIMIT" not in (project / ".env").read_text()
    assert secret_key(project) == key
    expected = expected_project(
        template, tmp_path / "expected", add_items_route, llm="none", auth="jwt"
    )
    assert snapshot(project) == snapshot(expected)
    refresh_generated_docs(project, answers)
    check_project(project, answers, mypy_cache, suite=True)


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


TAG_MODEL = """

class Tag(Base):
    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)
"""
TAG_UPGRADE = """def upgrade() -> None:
    op.create_table(
        "tags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tags")),
        sa.UniqueConstraint("name", name=op.f("uq_tags_name")),
    )
"""
TAG_DOWNGRADE = """def downgrade() -> None:
    op.drop_table("tags")
"""


def add_tags_table(project: Path, env: dict[str, str]) -> Path:
    """A model of the team's own and its migration, made with `alembic revision`."""
    models = project / "src" / PACKAGE / "database/models.py"
    models.write_text(models.read_text() + TAG_MODEL)
    alembic = [UV, "run", "--no-sync", "alembic"]
    output = run([*alembic, "revision", "-m", "tags"], project, env)
    [migration] = (Path(word) for word in output.split() if word.endswith("_tags.py"))
    # The post-write hook (ruff) took out the unused imports.
    replace_once(
        migration,
        "from collections.abc import Sequence\n",
        "from collections.abc import Sequence\n\nimport sqlalchemy as sa\nfrom alembic import op\n",
    )
    replace_once(migration, "def upgrade() -> None:\n    pass\n", TAG_UPGRADE)
    replace_once(migration, "def downgrade() -> None:\n    pass\n", TAG_DOWNGRADE)
    return migration


def alembic_env(env: dict[str, str], database_url: str) -> dict[str, str]:
    return {**env, "DATABASE_URL": database_url}


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
    team_revision = tool.migrations(project)[migration.relative_to(project).as_posix()][0]
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
        check_project(project, answers, mypy_cache, suite=True)  # its tests on PostgreSQL
        env = project_env(answers)
        heads = run([*alembic, "heads"], project, env).splitlines()
        assert [line for line in heads if "(head)" in line] == ["0002_auth (head)"]
        for url in (sqlite_url, postgres_url):
            run([*alembic, "upgrade", "head"], project, alembic_env(env, url))
            assert "0002_auth (head)" in run([*alembic, "current"], project, alembic_env(env, url))


@pytest.mark.bake
def test_a_switched_off_module_file_the_user_changed_is_kept_with_a_warning(
    committed_project: Callable[..., Path], regenerate: Regenerate
) -> None:
    project = committed_project(llm="anthropic")
    quota = project / "src" / PACKAGE / "services/llm_quota.py"
    quota.write_text(quota.read_text() + "\nTEAM_LIMIT = 5\n")
    commit_all(project, "Team limit")

    code, output = regenerate(project, "--set", "llm=none")

    assert code == 0, output
    assert quota.read_text().endswith("\nTEAM_LIMIT = 5\n")
    assert f"kept src/{PACKAGE}/services/llm_quota.py" in output
    assert not (project / "tests/llm").exists()


def edit_where_the_llm_module_edits(project: Path) -> None:
    """A dependency where the LLM module adds its own, a setting, and the module's README row."""
    replace_once(
        project / "pyproject.toml",
        '    "aiosqlite>=0.20",\n]',
        '    "aiosqlite>=0.20",\n    "orjson>=3.10",\n]',
    )
    replace_once(
        project / "src" / PACKAGE / "core/config.py",
        "    database_echo: bool = False\n",
        "    database_echo: bool = False\n    items_page_size: int = 20\n",
    )
    replace_once(
        project / "README.md",
        "| LLM providers | none |",
        "| LLM providers | none: we call our own gateway |",
    )


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
    assert (project / "src" / PACKAGE / "services/llm_service.py").exists()
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


def update_template(template: Path) -> None:
    """A new template commit: a changed shared file, a changed README and a new file."""
    generated = template / "{{cookiecutter.project_slug}}"
    replace_once(
        generated / "src/{{cookiecutter.package_name}}/core/config.py",
        "graceful_shutdown_timeout: int = Field(default=30, ge=0)",
        "graceful_shutdown_timeout: int = Field(default=20, ge=0)",
    )
    replace_once(generated / "README.md", "## Test it\n", "## Test it\n\nBefore every push:\n")
    (generated / "CONTRIBUTING.md").write_text("# Contributing\n\nAsk the team.\n")
    commit_all(template, "Shorter shutdown, contributing guide")


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
    monkeypatch.setattr(tool, "own_template", lambda: None)

    code = tool.main([str(project)])

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


def readme_regenerate_commands(project: Path) -> list[str]:
    """The `regenerate` commands of the generated README's "Change options later" section."""
    section = (project / "README.md").read_text().split("## Change options later", 1)[1]
    block = section.split("```bash\n", 1)[1].split("```", 1)[0]
    return [line.split("  #", 1)[0].strip() for line in block.splitlines() if "regenerate" in line]


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
    assert not (project / "src" / PACKAGE / "services/llm_service.py").exists()


# One file at a time: the merge rules, on small folders (fast).


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
    report = tool.Report()

    tool.merge_path(project, "pkg/llm/client.py", old / "pkg/llm/client.py", new / "x", report)

    assert report.changes == [("removed", "pkg/llm/client.py")]
    assert not (project / "pkg").exists()


def test_a_file_the_user_deleted_is_not_brought_back(sides: tuple[Path, Path, Path]) -> None:
    project, old, new = sides
    tree(old, {"notes.md": "old\n"})
    tree(new, {"notes.md": "new\n"})
    report = tool.Report()

    tool.merge_path(project, "notes.md", old / "notes.md", new / "notes.md", report)

    assert not (project / "notes.md").exists()
    assert report.warnings == ["not restored notes.md: you deleted it; the template changed it"]


def test_a_file_the_user_and_the_template_both_added_is_a_conflict(
    sides: tuple[Path, Path, Path],
) -> None:
    project, old, new = sides
    tree(project, {"jobs.py": "mine = 1\n"})
    tree(new, {"jobs.py": "theirs = 1\n"})
    report = tool.Report()

    tool.merge_path(project, "jobs.py", old / "jobs.py", new / "jobs.py", report)

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
    report = tool.Report()

    tool.merge_env(project, old, new, report)

    assert (project / ".env").read_text() == (
        "DEBUG=true\nSECRET_KEY=users-own-key\nLLM_MODEL=m\nCORS_ORIGINS=[]\n"
    )
    assert report.changes == [("merged", ".env")]


def test_a_project_without_env_does_not_get_one(sides: tuple[Path, Path, Path]) -> None:
    project, old, new = sides
    tree(old, {".env.example": ENV_EXAMPLE})
    tree(new, {".env.example": ENV_EXAMPLE + "LLM_MODEL=m\n"})

    tool.merge_env(project, old, new, tool.Report())

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
    assert tool.split_ref(source) == split


def merged(base: str, yours: str, now: str) -> tuple[str, int]:
    text, conflicts = tool.merge_lines(
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
    return dict(tool.migrations(root).values())


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

    tool.chain_migrations(project, old, new, tool.Report())

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
    report = tool.Report()

    tool.chain_migrations(project, old, new, report)

    assert parents(project)["team"] == ("0001_core",)
    assert parents(new)["0003_llm"] == ("team",)
    assert report.changes == [("updated", "migrations/versions/team.py")]
