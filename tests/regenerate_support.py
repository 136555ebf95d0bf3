"""What the regenerate scenarios do to projects and templates, and how they compare them.

A team's edits (a route and a setting of its own, a table and its migration, lines
where a module adds its own), a template update, and the snapshots and records the
scenarios in ``test_regenerate.py`` compare. Projects are baked with the shared
helper (``tests.conftest.bake``), as the generator's command line bakes them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hooks.post_gen_project import paths_to_remove
from template_tools.regenerate.env_merge import SECRET_KEY_LINE
from tests.conftest import MANIFEST, UV, bake, project_env, run

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
    route_access = project / "tests/test_route_access.py"
    if route_access.exists():  # with authentication: a public route is listed as one
        meta = '    ("GET", "/api/v1/meta"),\n'
        replace_once(route_access, meta, meta + '    ("GET", "/api/v1/items"),\n')


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
    folder.mkdir(parents=True)
    return bake(folder, template, **answers)


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
    match = SECRET_KEY_LINE.search((project / ".env").read_text())
    assert match, "no SECRET_KEY in .env"
    return match.group(0)


def switched_off(answers: dict[str, str]) -> set[str]:
    """The paths of the modules that ``answers`` switch off."""
    return set(paths_to_remove(MANIFEST, answers))


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


def readme_regenerate_commands(project: Path) -> list[str]:
    """The `regenerate` commands of the generated README's "Change options later" section."""
    section = (project / "README.md").read_text().split("## Change options later", 1)[1]
    block = section.split("```bash\n", 1)[1].split("```", 1)[0]
    return [line.split("  #", 1)[0].strip() for line in block.splitlines() if "regenerate" in line]
