"""Bake the plan's answer sets and hold each generated project to its own standards.

The plan (``tests/plan.py``; ``python -m tests.plan`` prints it) has two tiers. Every
bake is checked statically: free of template leftovers and blank-line scars, exactly
the manifest's files, its own ``ruff check``, ``ruff format --check`` and ``mypy
--strict``; every valid auth x database x llm is baked. The run tier's bakes, chosen so
that every pair of values of every option is among them, also run their own test
suite, once, on the database they chose.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from hooks.post_gen_project import module_enabled
from tests.conftest import (
    CHOICES,
    MANIFEST,
    POSTGRES_ADMIN_URL,
    TEMPLATE_DIR,
    UV,
    bake,
    isolated_environ,
    mypy_turn,
    postgres_admin_url,
    postgres_database,
    project_env,
    project_files,
    recorded_answers,
    run,
)
from tests.plan import RUN_TIER, STATIC_TIER, Bake

TEMPLATE_SYNTAX = r"\{%|%\}|\{#|#\}|(?<!\$)\{\{"
LEFTOVER = re.compile(TEMPLATE_SYNTAX + "|cookiecutter", re.IGNORECASE)
# cruft's own file: its format names the generator ("context": {"cookiecutter": ...}), so
# this one file is checked for template syntax only.
CRUFT_FILE = Path(".cruft.json")


def bake_id(planned: Bake) -> str:
    return planned.id


def assert_no_leftovers(project: Path) -> None:
    for path in project_files(project):
        relative = path.relative_to(project)
        assert not LEFTOVER.search(str(relative)), f"template syntax in file name {relative}"
        text = path.read_text(encoding="utf-8")
        pattern = re.compile(TEMPLATE_SYNTAX) if relative == CRUFT_FILE else LEFTOVER
        leftovers = pattern.findall(text)
        assert not leftovers, f"template leftovers {leftovers} in {relative}"


def assert_tidy_text(project: Path) -> None:
    """No empty files, no blank-line scars where a conditional block was cut."""
    for path in project_files(project):
        relative = path.relative_to(project)
        text = path.read_text(encoding="utf-8")
        assert text.strip(), f"empty file {relative}"
        assert text.endswith("\n"), f"{relative}: no newline at the end"
        assert not text.endswith("\n\n"), f"{relative}: blank lines at the end"
        assert not text.startswith("\n"), f"{relative} starts with a blank line"
        for number, line in enumerate(text.splitlines(), 1):
            assert line == line.rstrip(), f"{relative}:{number}: trailing whitespace"
        if not path.name.endswith((".py", ".py.mako")):
            assert "\n\n\n" not in text, f"{relative}: two blank lines in a row"
    for folder in project.rglob("*"):
        if folder.is_dir() and not {".git", ".venv"}.intersection(folder.parts):
            assert any(folder.iterdir()), f"empty folder {folder.relative_to(project)}"


def assert_manifest_applied(project: Path, answers: dict[str, Any]) -> None:
    package = answers["package_name"]
    kept: set[str] = set()
    owned: set[str] = set()
    for module in MANIFEST["modules"].values():
        paths = {path.format(package=package) for path in module["paths"]}
        owned |= paths
        if module_enabled(module["enabled_when"], answers):
            kept |= paths
    for path in sorted(owned):
        exists = (project / path).exists()
        assert exists == (path in kept), f"{path} {'missing' if path in kept else 'left over'}"


def check_statically(project: Path, answers: dict[str, Any], mypy_cache: Path) -> None:
    """The static tier: the bake's text, its files, its linters and strict type checks.

    ``mypy_cache`` is shared by every bake of the run (mypy keeps a folder per Python
    version in it, and one run at a time uses each): the third-party packages most bakes
    have in common are analysed once; mypy validates every cached module by its content
    hash, so changed code (the bake's own included) is checked again.
    """
    assert_no_leftovers(project)
    assert_tidy_text(project)
    assert_manifest_applied(project, answers)
    env = project_env(answers)
    run([UV, "sync", "--quiet"], project, env)
    run([UV, "run", "--no-sync", "ruff", "check", "--no-cache"], project, env)
    run([UV, "run", "--no-sync", "ruff", "format", "--check", "--no-cache"], project, env)
    with mypy_turn(mypy_cache, answers["python_version"]):
        run([UV, "run", "--no-sync", "mypy", "--cache-dir", str(mypy_cache)], project, env)


def run_own_suite(
    project: Path,
    answers: dict[str, Any],
    paths: Sequence[str] = (),
    postgres_url: str = POSTGRES_ADMIN_URL,
) -> None:
    """The run tier: the bake's own test suite (or its tests under ``paths``), once, on
    the database the bake chose (for ``postgresql``, a fresh database on the real server
    at ``postgres_url``)."""
    env = project_env(answers)
    pytest_command = [UV, "run", "--no-sync", "pytest", "-q", "-p", "no:cacheprovider", *paths]
    if answers["database"] == "postgresql":
        with postgres_database(postgres_url) as database_url:
            run(pytest_command, project, {**env, "TEST_DATABASE_URL": database_url})
    else:
        run(pytest_command, project, env)


def check_project(
    project: Path,
    answers: dict[str, Any],
    mypy_cache: Path,
    *,
    suite: bool,
    paths: Sequence[str] = (),
    postgres_url: str = POSTGRES_ADMIN_URL,
) -> None:
    """Static checks, and with ``suite`` the project's own tests (those under ``paths``, if
    given), once, on its database (PostgreSQL's at ``postgres_url``)."""
    check_statically(project, answers, mypy_cache)
    if suite:
        run_own_suite(project, answers, paths, postgres_url)


def test_every_bake_of_a_python_version_has_the_same_mypy_options() -> None:
    """The bakes of one xdist worker share a mypy cache, which mypy drops whole when the
    options differ: an answer-dependent ``[tool.mypy]`` setting would make every bake
    analyse its third-party packages again (20 s each)."""
    pyproject = (TEMPLATE_DIR / "pyproject.toml").read_text()
    section = pyproject.split("[tool.mypy]\n", 1)[1].split("\n[", 1)[0]
    without_version = section.replace("{{ cookiecutter.python_version }}", "")

    assert not re.search(TEMPLATE_SYNTAX, without_version), section


# The run tier first: its bakes take longest, so xdist starts them first.
@pytest.mark.bake
@pytest.mark.parametrize("planned", RUN_TIER, ids=bake_id)
def test_run_tier_bake_passes_its_static_checks_and_its_own_suite(
    tmp_path: Path, mypy_cache: Path, planned: Bake, request: pytest.FixtureRequest
) -> None:
    project = bake(tmp_path, **planned.answers)
    answers = recorded_answers(project)

    postgres_url = postgres_admin_url(request, answers)
    check_project(project, answers, mypy_cache, suite=True, postgres_url=postgres_url)


@pytest.mark.bake
@pytest.mark.parametrize("planned", STATIC_TIER, ids=bake_id)
def test_static_tier_bake_passes_its_static_checks(
    tmp_path: Path, mypy_cache: Path, planned: Bake
) -> None:
    project = bake(tmp_path, **planned.answers)

    check_project(project, recorded_answers(project), mypy_cache, suite=False)


@pytest.mark.bake
def test_longest_allowed_names_with_every_module_on_bake_clean(
    tmp_path: Path, mypy_cache: Path
) -> None:
    """Generated lines stay within the line limit even at the longest names the hook allows,
    and imports stay sorted for a package whose name sorts after ``tests`` (static checks:
    the names change no behaviour the plan's suites do not already run)."""
    project = bake(
        tmp_path,
        project_name="Name " + "x" * 45,
        project_slug="slug-" + "x" * 35,
        package_name="web_" + "x" * 26,
        auth=CHOICES["auth"][-1],
        database="postgresql",
        llm=CHOICES["llm"][-1],
        rag="yes",
        oidc_signin="yes",
        redis="yes",
        observability="yes",
        docker="yes",
        ci="github",
    )

    check_project(project, recorded_answers(project), mypy_cache, suite=False)


def readme_run_commands(project: Path) -> list[str]:
    """The commands of the generated README's "Run it" section, in order."""
    readme = project.joinpath("README.md").read_text()
    section = readme.split("## Run it", 1)[1]
    block = section.split("```bash\n", 1)[1].split("```", 1)[0]
    return [line.split("#", 1)[0].strip() for line in block.splitlines() if line.strip()]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.mark.bake
def test_default_bake_starts_with_the_commands_its_readme_gives(tmp_path: Path) -> None:
    project = bake(tmp_path)
    answers = recorded_answers(project)
    env = project_env(answers)
    *setup, serve = readme_run_commands(project)
    assert serve == f"uv run {answers['project_slug']}"
    assert "`uv run fastapi dev`" in (project / "README.md").read_text()

    for command in setup:
        run([UV, *shlex.split(command)[1:]], project, env)
    status, output = served([UV, *shlex.split(serve)[1:]], project, env)
    assert status == 200, output
    assert "Application shutdown complete" in output  # a graceful stop, lifespan closed

    # The development loop: the FastAPI CLI finds the app through [tool.fastapi].
    status, output = served([UV, "run", "fastapi", "dev", "--port", "{port}"], project, env)
    assert status == 200, output


def served(command: list[str], project: Path, env: dict[str, str]) -> tuple[int | None, str]:
    """Start a server (on a free port: ``PORT``, and ``{port}`` in ``command``), wait for
    ``/health/live``, stop it and all it started; its status (None if it never answered)
    and its output."""
    port = str(free_port())
    server = subprocess.Popen(
        [part.replace("{port}", port) for part in command],
        cwd=project,
        env={**isolated_environ(), **env, "PORT": port},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group: a reloader's worker stops with it
    )
    try:
        status = wait_for_http(f"http://127.0.0.1:{port}/health/live", deadline_s=60)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        output, _ = server.communicate(timeout=30)
    return status, output


def wait_for_http(url: str, deadline_s: float) -> int | None:
    """Poll ``url`` until it answers (the server is starting); None if it never does."""
    give_up = time.monotonic() + deadline_s
    while time.monotonic() < give_up:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                status: int = response.status
                return status
        except OSError:
            time.sleep(0.2)
    return None
