{% set db = cookiecutter.database != "none" %}
"""The import rule of ``docs/architecture.md``, checked on the code: imports run one way.

Each part of the package may import only the parts listed for it below; ``main.py``,
``__main__.py``, ``asgi.py`` and ``scripts/`` stand on top and may import anything. The one
exception is ``core/dependencies.py``, where the layers are put together for the routes.
"""

import ast
from pathlib import Path

import pytest

import {{ cookiecutter.package_name }}

PACKAGE = "{{ cookiecutter.package_name }}"
ROOT = Path({{ cookiecutter.package_name }}.__file__).parent

MAY_IMPORT: dict[str, frozenset[str]] = {
    "api": frozenset({"jobs", "services", "models", "core"}),
    "jobs": frozenset({"services", {{ '"database", ' if db }}"models", "core"}),
    "services": frozenset({ {{- '"database", ' if db }}"models", "core"}),
{% if db %}
    "database": frozenset({"core"}),
{% endif %}
    "models": frozenset({"core"}),
    "core": frozenset(),
}
"""What each part may import from the package, besides itself and ``__init__.py``."""

COMPOSITION_POINT = "core/dependencies.py"
COMPOSES = frozenset({"jobs", "services"{{ ', "database"' if db }}})
TOP = frozenset({"main", "__main__", "asgi", "scripts"})


def _imported_modules(tree: ast.Module, module: str) -> list[tuple[int, str]]:
    """Every module of the package that ``tree`` imports, with its line."""
    package = [PACKAGE, *module.removesuffix(".py").split("/")[:-1]]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*package[: len(package) - node.level + 1], base]).rstrip(".")
            # "from pkg import core" names a part: count each name as a module.
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return [(line, name) for line, name in found if name.split(".")[0] == PACKAGE]


def _part_of(name: str) -> str:
    """The part of the package that the module ``name`` belongs to ("" for the package)."""
    return name.split(".")[1] if "." in name else ""


def upward_imports(source: str, module: str) -> list[str]:
    """The imports of ``module`` (a path in the package, ``core/config.py``) that break the rule."""
    part = module.split("/")[0].removesuffix(".py")
    if part in TOP or part == "__init__":
        return []
    allowed = MAY_IMPORT[part] | {part}
    if module == COMPOSITION_POINT:
        allowed |= COMPOSES
    return [
        f"{module}:{line} imports {name}"
        for line, name in _imported_modules(ast.parse(source), module)
        if (target := _part_of(name)) in MAY_IMPORT.keys() | TOP and target not in allowed
    ]


def _modules() -> list[str]:
    return sorted(path.relative_to(ROOT).as_posix() for path in ROOT.rglob("*.py"))


def test_every_part_of_the_package_has_a_place_in_the_rule() -> None:
    parts = {module.split("/")[0].removesuffix(".py") for module in _modules()}
    assert parts - {"__init__"} <= MAY_IMPORT.keys() | TOP


def test_every_import_runs_down_the_layers() -> None:
    broken = [
        problem
        for module in _modules()
        for problem in upward_imports((ROOT / module).read_text(encoding="utf-8"), module)
    ]
    assert broken == []


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("core/config.py", f"from {PACKAGE}.models.responses import ServiceInfo"),
        ("core/errors.py", f"from {PACKAGE}.services import health_service"),
        ("core/logging.py", "from ..main import create_app"),
{% if db %}
        ("database/engine.py", f"from {PACKAGE}.services.health_service import check_readiness"),
        ("models/requests.py", f"import {PACKAGE}.database.models"),
{% endif %}
        ("models/jobs.py", f"from {PACKAGE} import api"),
        ("services/health_service.py", "from ..api.health import router"),
        ("services/health_service.py", f"from {PACKAGE}.jobs.tasks import analyze_text"),
        ("jobs/tasks.py", f"from {PACKAGE}.api.v1.router import api_router"),
    ],
)
def test_an_import_up_the_layers_is_caught(module: str, source: str) -> None:
    assert upward_imports(source, module) != []


def test_the_composition_point_may_import_the_services() -> None:
    source = f"from {PACKAGE}.services.health_service import check_readiness"

    assert upward_imports(source, COMPOSITION_POINT) == []
    assert upward_imports(source, "core/config.py") != []
