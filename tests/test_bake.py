"""Bake option combinations and hold each generated project to its own standards.

Every valid combination of auth x database x llm is baked; the remaining options
ride along so that every pair of their values appears in at least one bake.
Each bake must be free of template leftovers, match the manifest, and pass its
own linters, strict type checks and test suite.
"""

from __future__ import annotations

import itertools
import re
import shlex
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from hooks.post_gen_project import module_enabled
from tests.conftest import (
    CHOICES,
    MANIFEST,
    UV,
    bake,
    isolated_environ,
    postgres_database,
    project_env,
    project_files,
    run,
)

CORE_OPTIONS = ("auth", "database", "llm")
PAIRWISE_OPTIONS = ("python_version", "license", "redis", "observability", "docker", "ci")
TEMPLATE_SYNTAX = r"\{%|%\}|\{#|#\}|(?<!\$)\{\{"
LEFTOVER = re.compile(TEMPLATE_SYNTAX + "|cookiecutter", re.IGNORECASE)
# cruft's own file: its format names the generator ("context": {"cookiecutter": ...}), so
# this one file is checked for template syntax only.
CRUFT_FILE = Path(".cruft.json")


def pairwise_rows(options: tuple[str, ...]) -> list[dict[str, str]]:
    """A small set of rows covering every pair of values of ``options`` (greedy)."""
    uncovered = {
        (a, va, b, vb)
        for a, b in itertools.combinations(options, 2)
        for va in CHOICES[a]
        for vb in CHOICES[b]
    }
    rows: list[dict[str, str]] = []
    while uncovered:
        best: dict[str, str] = {}
        best_gain = -1
        for values in itertools.product(*(CHOICES[o] for o in options)):
            row = dict(zip(options, values, strict=True))
            gain = sum(
                (a, row[a], b, row[b]) in uncovered for a, b in itertools.combinations(options, 2)
            )
            if gain > best_gain:
                best, best_gain = row, gain
        rows.append(best)
        uncovered -= {(a, best[a], b, best[b]) for a, b in itertools.combinations(options, 2)}
    return rows


def core_combinations() -> list[dict[str, str]]:
    combos = []
    for values in itertools.product(*(CHOICES[o] for o in CORE_OPTIONS)):
        combo = dict(zip(CORE_OPTIONS, values, strict=True))
        if combo["auth"] != "none" and combo["database"] == "none":
            continue  # refused by the pre-generation hook; tested there
        combos.append(combo)
    return combos


def matrix() -> list[dict[str, str]]:
    """Every core combination, each with the next pairwise row of the other options."""
    rows = pairwise_rows(PAIRWISE_OPTIONS)
    cores = core_combinations()
    bakes = [core | rows[i % len(rows)] for i, core in enumerate(cores)]
    # More pairwise rows than core combinations: bake the rest on the default core.
    bakes += [row for row in rows[len(cores) :]]
    return bakes


def bake_id(answers: dict[str, str]) -> str:
    return "-".join(f"{key}={value}" for key, value in answers.items())


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


def check_project(project: Path, answers: dict[str, Any]) -> None:
    assert_no_leftovers(project)
    assert_tidy_text(project)
    assert_manifest_applied(project, answers)
    env = project_env(answers)
    run([UV, "sync", "--quiet"], project, env)
    run([UV, "run", "--no-sync", "ruff", "check", "--no-cache"], project, env)
    run([UV, "run", "--no-sync", "ruff", "format", "--check", "--no-cache"], project, env)
    run([UV, "run", "--no-sync", "mypy"], project, env)
    pytest_command = [UV, "run", "--no-sync", "pytest", "-q", "-p", "no:cacheprovider"]
    run(pytest_command, project, env)
    if answers["database"] != "none":
        # The suite ran on SQLite (its default); now on a real PostgreSQL server too.
        with postgres_database() as database_url:
            run(pytest_command, project, {**env, "TEST_DATABASE_URL": database_url})


@pytest.mark.bake
@pytest.mark.parametrize("overrides", matrix(), ids=bake_id)
def test_bake_is_clean_and_passes_its_own_checks(cookies: Any, overrides: dict[str, str]) -> None:
    result = bake(cookies, **overrides)

    assert result.exit_code == 0, result.exception
    check_project(result.project_path, result.context)


@pytest.mark.bake
def test_longest_allowed_names_with_every_module_on_bake_clean(cookies: Any) -> None:
    """Generated lines stay within the line limit even at the longest names the hook allows."""
    result = bake(
        cookies,
        project_name="Name " + "x" * 45,
        project_slug="slug-" + "x" * 35,
        package_name="pkg_" + "x" * 26,
        auth=CHOICES["auth"][-1],
        database="postgresql",
        llm=CHOICES["llm"][-1],
        redis="yes",
        observability="yes",
        docker="yes",
        ci="github",
    )

    assert result.exit_code == 0, result.exception
    check_project(result.project_path, result.context)


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
def test_default_bake_starts_with_the_commands_its_readme_gives(cookies: Any) -> None:
    result = bake(cookies)
    assert result.exit_code == 0, result.exception
    project: Path = result.project_path
    env = project_env(result.context)
    *setup, serve = readme_run_commands(project)
    assert serve == f"uv run {result.context['project_slug']}"

    for command in setup:
        run([UV, *shlex.split(command)[1:]], project, env)
    port = free_port()
    server = subprocess.Popen(
        [UV, *shlex.split(serve)[1:]],
        cwd=project,
        env={**isolated_environ(), **env, "PORT": str(port)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        status = wait_for_http(f"http://127.0.0.1:{port}/health/live", deadline_s=60)
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    assert status == 200, output
    assert "Application shutdown complete" in output  # a graceful stop, lifespan closed


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
