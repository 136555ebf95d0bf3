"""Shared helpers for baking projects from this template and checking them."""

from __future__ import annotations

import fcntl
import os
import stat
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest
import yaml
from psycopg import sql

import template_tools.bake
from template_tools.answers import read_records
from template_tools.pgvector_server import pgvector_server

# The answers' definitions live with the bake plan; the tests import them from here too.
from tests.plan import CHOICES as CHOICES
from tests.plan import DEFAULTS, QUESTIONS, describe
from tests.plan import TEMPLATE_ROOT as TEMPLATE_ROOT

TEMPLATE_DIR = TEMPLATE_ROOT / "{{cookiecutter.project_slug}}"
MANIFEST: dict[str, Any] = yaml.safe_load((TEMPLATE_ROOT / "hooks" / "manifest.yaml").read_text())

# uv from the template's own environment: a pyenv shim named `uv` would follow the
# generated project's .python-version to an interpreter without uv.
UV = str(Path(sys.executable).with_name("uv"))

# Variables of this environment that must not leak into a baked project's tools.
ISOLATED_VARIABLES = frozenset(
    {
        "VIRTUAL_ENV",
        "UV_PROJECT_ENVIRONMENT",
        "UV_PYTHON",
        "PYTHONPATH",
        "TEST_DATABASE_URL",
        "TEST_REDIS_URL",
        "PROMETHEUS_MULTIPROC_DIR",
        # A machine that sets it would make every run of a baked project's tools
        # compile the whole environment again (seconds each).
        "PYTHONDONTWRITEBYTECODE",
    }
)


# The PostgreSQL server the generated suites also run on (trust auth); each bake gets
# a database of its own on it.
POSTGRES_ADMIN_URL = os.environ.get(
    "BAKE_POSTGRES_URL", "postgresql://root@127.0.0.1:5432/postgres"
)


def check_answer_keys(answers: Mapping[str, str]) -> None:
    """Cookiecutter silently ignores unknown answers: a misspelled option must fail."""
    unknown = set(answers) - set(QUESTIONS)
    assert not unknown, f"no such template option: {sorted(unknown)}"
    for option, value in answers.items():
        if option in CHOICES:
            assert value in CHOICES[option], f"{option}={value!r} is not one of {CHOICES[option]}"


def answers_for(**overrides: str) -> dict[str, str]:
    check_answer_keys(overrides)
    answers = {key: str(value) for key, value in DEFAULTS.items() if key in CHOICES}
    answers.update(overrides)
    return answers


def bake(folder: Path, template: Path | str = TEMPLATE_ROOT, **answers: str) -> Path:
    """A project generated from ``template`` (this checkout by default) in ``folder``."""
    check_answer_keys(answers)
    return template_tools.bake.bake(template, answers, folder)


def recorded_answers(project: Path) -> dict[str, str]:
    """Every answer of a baked project (the defaults filled in), as it records them."""
    answers: dict[str, str] = read_records(project)["answers"]
    return answers


def python_for(version: str) -> str:
    """An interpreter for ``version`` on this machine (pyenv's, else whatever uv finds)."""
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates = sorted(pyenv_root.glob(f"versions/{version}.*/bin/python{version}"))
    if candidates:
        return str(candidates[-1])
    found = subprocess.run(
        [UV, "python", "find", version], capture_output=True, text=True, check=False
    )
    if found.returncode == 0:
        return found.stdout.strip()
    pytest.fail(f"no Python {version} on this machine: install it (pyenv install {version})")


def isolated_environ() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if key not in ISOLATED_VARIABLES}


def run(command: list[str], cwd: Path, env: Mapping[str, str] | None = None) -> str:
    """Run a command in a baked project; fail the test with its output if it fails."""
    result = subprocess.run(
        command,
        cwd=cwd,
        env={**isolated_environ(), **(env or {})},
        capture_output=True,
        text=True,
        check=False,
    )
    output = result.stdout + result.stderr
    if result.returncode != 0:
        pytest.fail(f"`{' '.join(command)}` failed in {cwd}:\n{output[-6000:]}")
    return output


def project_env(answers: Mapping[str, str]) -> dict[str, str]:
    """Environment for running a baked project's own tools, isolated from ours."""
    return {"UV_PYTHON": python_for(answers["python_version"])}


def project_files(project: Path) -> Iterator[Path]:
    skip = {".git", ".venv", ".mypy_cache", ".pytest_cache", ".ruff_cache", "__pycache__"}
    for path in sorted(project.rglob("*")):
        if path.is_file() and not skip.intersection(path.relative_to(project).parts):
            yield path


def needs_pgvector(answers: Mapping[str, str]) -> bool:
    """PostgreSQL bakes with ``rag`` store vectors with pgvector, which the server at
    ``POSTGRES_ADMIN_URL`` may lack: they run on the ``pgvector_admin_url`` server."""
    return answers.get("database") == "postgresql" and answers.get("rag") == "yes"


@contextmanager
def postgres_database(admin_url: str = POSTGRES_ADMIN_URL) -> Iterator[str]:
    """A freshly created PostgreSQL database with a unique name on the server at
    ``admin_url``, dropped afterwards.

    Yields its URL for the generated project's async driver (``TEST_DATABASE_URL``).
    """
    name = f"bake_{uuid.uuid4().hex}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        url = urlsplit(admin_url)._replace(scheme="postgresql+asyncpg", path=f"/{name}")
        yield url.geturl()
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def pytest_report_header(config: pytest.Config) -> list[str]:
    """The bake plan (``python -m tests.plan``), unless the bakes are deselected."""
    if "not bake" in (config.option.markexpr or ""):
        return []
    return describe()


@pytest.fixture(scope="session")
def pgvector_admin_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A PostgreSQL server with pgvector (``template_tools.pgvector_server``), started on
    first use by a test of this process (each xdist worker that needs one starts its
    own: about a second) and stopped at the end of the session."""
    with pgvector_server(tmp_path_factory.mktemp("pgvector")) as url:
        yield url


def postgres_admin_url(request: pytest.FixtureRequest, answers: Mapping[str, str]) -> str:
    """The PostgreSQL server for a bake's suite: with pgvector when the bake needs it."""
    if needs_pgvector(answers):
        url: str = request.getfixturevalue("pgvector_admin_url")
        return url
    return POSTGRES_ADMIN_URL


BakeOnce = Callable[..., Path]


@pytest.fixture(scope="session")
def baked_once(tmp_path_factory: pytest.TempPathFactory) -> BakeOnce:
    """A project baked once per answer set (per xdist worker), for tests that only read it.

    Its files are made read-only, so that a test that would change one fails instead
    of changing what the next test reads.
    """
    projects: dict[tuple[tuple[str, str], ...], Path] = {}

    def bake_once(**overrides: str) -> Path:
        answers = answers_for(**overrides)
        key = tuple(sorted(answers.items()))
        if key not in projects:
            project = bake(tmp_path_factory.mktemp("baked-once"), **answers)
            for path in project.rglob("*"):
                if path.is_file():
                    path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
            projects[key] = project
        return projects[key]

    return bake_once


@pytest.fixture(scope="session")
def mypy_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One mypy cache for every bake of this run, the xdist workers' too.

    Analysing the standard library and the third-party packages for a new Python
    version takes about 30 s; with a cache per worker every worker paid that once per
    version. Runs on one cache take turns (``mypy_turn``).
    """
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # the run's folder, above each worker's own
    cache = base / "mypy-cache"
    cache.mkdir(exist_ok=True)
    return cache


@contextmanager
def mypy_turn(cache: Path, python_version: str) -> Iterator[None]:
    """Hold ``cache``'s folder for ``python_version`` while one mypy run uses it."""
    with (cache / f"{python_version}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
