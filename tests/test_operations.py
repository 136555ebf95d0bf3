"""The operations switches: Docker, CI, pre-commit, metrics and Redis, held to their answers.

The fast tests render projects and check the files' structure (no Docker engine
runs here: compose files are checked as YAML); the GitHub workflow is linted with
actionlint. They only read the projects, so each answer set is baked once per session
(``baked_once``). The slow test runs a project with Redis and observability on against
the real Redis at 127.0.0.1:6379: the tests that need Redis, by name, and a scrape of
its metrics (its static checks and whole suite are the bake plan's: every pair of
these answers is in a run-tier bake).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import UV, BakeOnce, bake, project_env, recorded_answers, run

ACTIONLINT = str(Path(sys.executable).with_name("actionlint"))
DATABASES = ("sqlite", "postgresql", "none")
REDIS = ("yes", "no")
GRACEFUL_SHUTDOWN_TIMEOUT = 30  # the generated default, in seconds


def load_yaml(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text())
    return data


def seconds(duration: str) -> int:
    match = re.fullmatch(r"(\d+)s", duration)
    assert match, f"not a duration in seconds: {duration!r}"
    return int(match.group(1))


@pytest.mark.parametrize("redis", REDIS)
@pytest.mark.parametrize("database", DATABASES)
def test_compose_file_runs_what_the_answers_chose(
    baked_once: BakeOnce, database: str, redis: str
) -> None:
    project = baked_once(docker="yes", database=database, redis=redis, auth="none")
    compose = load_yaml(project / "compose.yaml")
    services: dict[str, Any] = compose["services"]

    expected = {"app", "app-dev"}
    expected |= {"migrate"} if database != "none" else set()
    expected |= {"postgres"} if database == "postgresql" else set()
    expected |= {"redis", "worker"} if redis == "yes" else set()
    assert set(services) == expected

    app = services["app"]
    assert app["build"] == "."
    assert app["ports"] == ["${PORT:-8000}:8000"]
    assert app["environment"]["WORKERS"] == "${WORKERS:-2}"
    assert seconds(app["stop_grace_period"]) > GRACEFUL_SHUTDOWN_TIMEOUT
    conditions = {name: dep["condition"] for name, dep in app.get("depends_on", {}).items()}
    expected_conditions = {}
    if database != "none":
        expected_conditions["migrate"] = "service_completed_successfully"
    if redis == "yes":
        expected_conditions["redis"] = "service_healthy"
    assert conditions == expected_conditions

    # docker compose watch app-dev: src/ synced (and first on the path), the image rebuilt
    # when the dependencies change.
    dev = services["app-dev"]
    assert dev["profiles"] == ["dev"]
    assert dev["image"] == app["image"]
    assert dev["command"][:2] == ["uvicorn", "ai_service.main:create_app"]
    assert "--reload" in dev["command"]
    assert dev["environment"]["PYTHONPATH"] == "/app/src"
    assert dev.get("depends_on") == app.get("depends_on")
    assert dev["develop"]["watch"] == [
        {"action": "sync", "path": "./src", "target": "/app/src"},
        {"action": "rebuild", "path": "pyproject.toml"},
        {"action": "rebuild", "path": "uv.lock"},
    ]

    if database != "none":
        migrate = services["migrate"]
        assert migrate["command"] == ["alembic", "upgrade", "head"]
        assert migrate["restart"] == "no"
        assert migrate["image"] == app["image"]
    if database == "postgresql":
        assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
        assert "@postgres:5432/" in app["environment"]["DATABASE_URL"]
        assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    if database == "sqlite":
        assert app["environment"]["DATABASE_URL"].startswith("sqlite+aiosqlite:////data/")
        assert "app-data:/data" in app["volumes"]
    if redis == "yes":
        assert app["environment"]["REDIS_URL"] == "redis://redis:6379/0"
        assert services["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
        worker = services["worker"]
        assert worker["command"] == ["ai-service-worker"]
        assert worker["healthcheck"]["test"] == ["CMD", "ai-service-worker", "--check"]
        assert worker["depends_on"]["redis"] == {"condition": "service_healthy"}
        assert seconds(worker["stop_grace_period"]) > GRACEFUL_SHUTDOWN_TIMEOUT

    used_volumes = {
        volume.split(":", 1)[0]
        for service in services.values()
        for volume in service.get("volumes", [])
    }
    assert used_volumes == set(compose.get("volumes") or {})


@pytest.mark.parametrize("python_version", ["3.11", "3.12", "3.13"])
def test_dockerfile_builds_a_small_non_root_image_with_uv(
    baked_once: BakeOnce, python_version: str
) -> None:
    project = baked_once(docker="yes", python_version=python_version)
    dockerfile = (project / "Dockerfile").read_text()
    stages = dockerfile.split("\nFROM ")

    assert f"ARG PYTHON_VERSION={python_version}\n" in dockerfile
    assert len(stages) >= 3, "a uv stage, a builder stage and the final image"
    builder, final = stages[-2], stages[-1]
    assert builder.startswith("python:${PYTHON_VERSION}-slim-bookworm AS builder")
    assert "UV_COMPILE_BYTECODE=1" in builder
    assert "uv sync --locked --no-dev --no-install-project" in builder
    assert "uv sync --locked --no-dev --no-editable" in builder
    assert final.startswith("python:${PYTHON_VERSION}-slim")
    assert "--from=uv" not in final, "the final image has no uv"
    assert re.search(r"^USER app$", final, re.MULTILINE)
    assert re.search(r"^HEALTHCHECK .*\n.*CMD \[.*/health/live", final, re.MULTILINE)
    assert final.rstrip().endswith('CMD ["ai-service"]')

    ignored = (project / ".dockerignore").read_text().splitlines()
    assert {".git/", ".venv/", ".env", "tests/"} <= set(ignored)


def test_docker_files_are_left_out_when_docker_is_off(baked_once: BakeOnce) -> None:
    project = baked_once(docker="no")

    docker_files = ("Dockerfile", ".dockerignore", "compose.yaml")
    assert not [name for name in docker_files if (project / name).exists()]
    assert "## Docker" not in (project / "README.md").read_text()


@pytest.mark.parametrize("redis", REDIS)
@pytest.mark.parametrize("database", DATABASES)
def test_github_workflow_passes_actionlint(baked_once: BakeOnce, database: str, redis: str) -> None:
    project = baked_once(ci="github", database=database, redis=redis, auth="none")
    workflow_path = project / ".github" / "workflows" / "ci.yml"

    lint = subprocess.run(
        [ACTIONLINT, "-no-color", str(workflow_path)],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr

    job = load_yaml(workflow_path)["jobs"]["check"]
    expected_services = {"postgres"} if database == "postgresql" else set()
    expected_services |= {"redis"} if redis == "yes" else set()
    assert set(job.get("services", {})) == expected_services
    env = job.get("env", {})
    if database == "postgresql":
        assert env["TEST_DATABASE_URL"].startswith("postgresql+asyncpg://postgres:postgres@")
    else:
        assert "TEST_DATABASE_URL" not in env
    commands = [step.get("run") for step in job["steps"] if "run" in step]
    assert commands[-6:] == [
        "uv sync --locked",
        "uv run ruff check --output-format=github",
        "uv run ruff format --check",
        "uv run mypy",
        "uv run pytest -n auto",
        "uv run python -m ai_service.scripts.openapi --write",
    ]
    [upload] = [step for step in job["steps"] if "upload-artifact" in step.get("uses", "")]
    assert upload["with"] == {"name": "openapi", "path": "docs/openapi.json"}
    [setup_uv] = [step for step in job["steps"] if step.get("uses", "").startswith("astral-sh/")]
    assert setup_uv["with"]["enable-cache"] is True


@pytest.mark.parametrize("redis", REDIS)
@pytest.mark.parametrize("database", DATABASES)
def test_gitlab_pipeline_runs_the_same_checks(
    baked_once: BakeOnce, database: str, redis: str
) -> None:
    project = baked_once(
        ci="gitlab", database=database, redis=redis, auth="none", python_version="3.13"
    )
    pipeline = load_yaml(project / ".gitlab-ci.yml")

    assert not (project / ".github").exists()
    job = pipeline["check"]
    assert job["stage"] in pipeline["stages"]
    assert job["image"].endswith(":python3.13-bookworm-slim")
    assert job["script"][:5] == [
        "uv sync --locked",
        "uv run ruff check",
        "uv run ruff format --check",
        "uv run mypy",
        "uv run pytest -n auto",
    ]
    assert "uv run python -m ai_service.scripts.openapi --write" in job["script"]
    assert job["artifacts"]["paths"] == ["docs/openapi.json"]
    assert job["cache"]["key"]["files"] == ["uv.lock"]
    assert pipeline["variables"]["UV_CACHE_DIR"] in job["cache"]["paths"]
    aliases = {service["alias"] for service in job.get("services", [])}
    expected_aliases = {"postgres"} if database == "postgresql" else set()
    expected_aliases |= {"redis"} if redis == "yes" else set()
    assert aliases == expected_aliases
    variables = job.get("variables", {})
    if database == "postgresql":
        assert "@postgres:5432/" in variables["TEST_DATABASE_URL"]
    if redis == "yes":
        assert variables["TEST_REDIS_URL"] == "redis://redis:6379/0"


def test_no_ci_files_without_ci(baked_once: BakeOnce) -> None:
    project = baked_once(ci="none")

    assert not (project / ".github").exists()
    assert not (project / ".gitlab-ci.yml").exists()


def test_pre_commit_config_has_the_promised_hooks(baked_once: BakeOnce) -> None:
    project = baked_once(ci="none", docker="no")
    config = load_yaml(project / ".pre-commit-config.yaml")

    hooks = {hook["id"]: hook for repo in config["repos"] for hook in repo["hooks"]}
    assert {
        "ruff-check",
        "ruff-format",
        "mypy",
        "end-of-file-fixer",
        "check-added-large-files",
        "detect-private-key",
        "check-merge-conflict",
        "no-rej-files",
        "no-env-files",
    } <= hooks.keys()
    assert all(repo["repo"] == "local" or repo.get("rev") for repo in config["repos"])
    assert re.search(hooks["no-rej-files"]["files"], "patches/fix.rej")
    assert re.search(hooks["no-env-files"]["files"], ".env")
    assert not re.search(hooks["no-env-files"]["files"], ".env.example")


@pytest.mark.parametrize(
    "modules",
    [
        {"auth": "jwt_and_api_key", "database": "postgresql", "llm": "openai", "redis": "yes"},
        {"auth": "none", "database": "none", "llm": "none", "redis": "no"},
    ],
    ids=["every-module", "observability-only"],
)
def test_prometheus_alerts_pass_promtool_and_each_has_a_unit_test(
    baked_once: BakeOnce, modules: dict[str, str]
) -> None:
    promtool = shutil.which("promtool")
    assert promtool, "promtool is missing: apt-get install prometheus (.ci/run installs it)"
    rules = baked_once(observability="yes", **modules) / "deploy" / "prometheus"

    run([promtool, "check", "rules", "alerts.yml"], rules)
    run([promtool, "test", "rules", "alerts.test.yml"], rules)

    groups = load_yaml(rules / "alerts.yml")["groups"]
    alerts = {rule["alert"] for group in groups for rule in group["rules"]}
    cases = load_yaml(rules / "alerts.test.yml")["tests"]
    assert {check["alertname"] for case in cases for check in case["alert_rule_test"]} == alerts


# Run inside a baked project: serve a few requests, then scrape /metrics.
METRICS_SCRIPT = """
import asyncio
import json

from httpx import ASGITransport, AsyncClient
from prometheus_client.parser import text_string_to_metric_families

from {package}.core.config import Environment, Settings
from {package}.main import create_app


async def main():
    app = create_app(Settings(_env_file=None, environment=Environment.TEST))
    async with app.router.lifespan_context(app) as state:

        async def served(scope, receive, send):
            scope["state"] = dict(state)
            await app(scope, receive, send)

        transport = ASGITransport(app=served)
        async with AsyncClient(transport=transport, base_url="http://test") as client:
            for path in ("/health/live", "/api/v1/meta", "/api/v1/meta", "/no/such/page"):
                await client.get(path)
            response = await client.get("/metrics")
    families = {{
        family.name: {{
            "type": family.type,
            "samples": [[s.name, s.labels, s.value] for s in family.samples],
        }}
        for family in text_string_to_metric_families(response.text)
    }}
    print(json.dumps({{"content_type": response.headers["content-type"], "families": families}}))


asyncio.run(main())
"""


def sample_value(family: dict[str, Any], name: str, **labels: str) -> float:
    [value] = [
        value
        for sample_name, sample_labels, value in family["samples"]
        if sample_name == name and labels.items() <= sample_labels.items()
    ]
    return float(value)


@pytest.mark.bake
def test_redis_and_observability_project_against_the_real_redis(tmp_path: Path) -> None:
    project = bake(
        tmp_path,
        database="sqlite",
        llm="anthropic",
        redis="yes",
        observability="yes",
        docker="yes",
        ci="github",
    )
    answers = recorded_answers(project)
    env = project_env(answers)
    run([UV, "sync", "--quiet"], project, env)

    # Shown by name, so neither can pass by being skipped or deselected.
    output = run(
        [
            UV,
            "run",
            "--no-sync",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-rA",
            "tests/test_rate_limit.py::test_two_instances_share_one_limit_through_redis",
            "tests/test_arq_jobs.py::test_a_job_queued_by_the_app_is_run_by_the_worker",
        ],
        project,
        env,
    )
    assert "PASSED tests/test_rate_limit.py::test_two_instances_share_one_limit" in output
    worker_test = "tests/test_arq_jobs.py::test_a_job_queued_by_the_app_is_run_by_the_worker"
    assert f"PASSED {worker_test}" in output
    assert re.search(r"\b2 passed\b", output)

    script = METRICS_SCRIPT.format(package=answers["package_name"])
    output = run([UV, "run", "--no-sync", "python", "-c", script], project, env)
    scraped = json.loads(output.splitlines()[-1])  # after the app's own log lines
    assert scraped["content_type"].startswith("text/plain; version=")
    families = scraped["families"]
    assert families["http_requests"]["type"] == "counter"
    assert families["http_request_duration_seconds"]["type"] == "histogram"
    assert families["http_requests_in_progress"]["type"] == "gauge"
    requests = families["http_requests"]
    assert sample_value(requests, "http_requests_total", route="/api/v1/meta", status="200") == 2
    assert sample_value(requests, "http_requests_total", route="unmatched", status="404") == 1
    durations = families["http_request_duration_seconds"]
    count = sample_value(
        durations, "http_request_duration_seconds_count", route="/health/live", status="200"
    )
    assert count == 1

    run([UV, "run", "--no-sync", "pre-commit", "validate-config"], project, env)
