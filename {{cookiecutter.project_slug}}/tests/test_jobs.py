{% if cookiecutter.redis == "yes" %}
"""Background jobs: queued in Redis by the app, run by the worker, polled for the result."""
{% else %}
"""Background jobs: accepted at once, run after the response is sent."""
{% endif %}

{% if cookiecutter.redis == "yes" %}
from typing import Any
from uuid import uuid4

import pytest
from arq.worker import func
from httpx import AsyncClient

from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.core.redis import create_redis
from {{ cookiecutter.package_name }}.jobs.queue import JobQueue
from {{ cookiecutter.package_name }}.jobs.tasks import JobContext, analyze_text
from {{ cookiecutter.package_name }}.jobs.worker import JOBS, check, create_worker
from {{ cookiecutter.package_name }}.main import create_app
from tests.conftest import Serve
from tests.test_job_limits import credentials_of
{% else %}
import pytest
from fastapi import BackgroundTasks
from httpx import AsyncClient

from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.core.logging import configure_logging
from {{ cookiecutter.package_name }}.jobs.queue import JobQueue
from {{ cookiecutter.package_name }}.jobs.tasks import JobContext, analyze_text
from {{ cookiecutter.package_name }}.main import create_app
from tests.conftest import Serve
from tests.test_job_limits import credentials_of
from tests.test_logging import json_lines
{% endif %}

TEXT = "Hello brave\nnew world"
{% if cookiecutter.redis == "yes" %}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """A job queue of each test's own: the worker a test runs finds only the jobs it queued."""
    return settings.model_copy(update={"job_queue_name": f"test:{uuid4().hex}:jobs"})
{% endif %}


async def explode(ctx: JobContext) -> None:
    msg = "connection failed: password=hunter2"
    raise RuntimeError(msg)


async def test_analyze_text_measures_the_text() -> None:
    stats = await analyze_text({"job_id": "job-1"}, TEXT)

    assert stats == {"characters": 21, "words": 4, "lines": 2, "estimated_tokens": 6}


async def test_an_empty_text_is_refused(client: AsyncClient) -> None:
    response = await client.post("/api/v1/jobs/text-analysis", json={"text": ""})

    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "text"]
{% if cookiecutter.redis == "yes" %}


async def run_worker_until_idle(settings: Settings, **options: Any) -> None:
    """Run the real worker until the queue is empty, as ``uv run ...-worker`` would."""
    worker = create_worker(settings, burst=True, handle_signals=False, poll_delay=0, **options)
    try:
        await worker.main()
    finally:
        await worker.close()


async def test_a_job_queued_by_the_app_is_run_by_the_worker(
    settings: Settings, client: AsyncClient
) -> None:
    accepted = await client.post("/api/v1/jobs/text-analysis", json={"text": TEXT})
    assert accepted.status_code == 202
    job_id = accepted.json()["job_id"]
    waiting = await client.get(f"/api/v1/jobs/{job_id}")
    assert waiting.json() == {"job_id": job_id, "status": "queued", "result": None}

    await run_worker_until_idle(settings)

    done = await client.get(f"/api/v1/jobs/{job_id}")
    assert done.status_code == 200
    assert done.json() == {
        "job_id": job_id,
        "status": "complete",
        "result": {"characters": 21, "words": 4, "lines": 2, "estimated_tokens": 6},
    }


async def test_a_failed_job_is_reported_without_its_error(
    settings: Settings, client: AsyncClient
) -> None:
    redis = create_redis(settings)
    try:
        job_id = await JobQueue(redis, settings.job_queue_name).enqueue(explode)
    finally:
        await redis.aclose()

    await run_worker_until_idle(settings, functions=[*JOBS, func(explode, max_tries=1)])

    response = await client.get(f"/api/v1/jobs/{job_id}")
    assert response.json() == {"job_id": job_id, "status": "failed", "result": None}
    assert "hunter2" not in response.text


async def test_the_health_check_fails_while_no_worker_runs(settings: Settings) -> None:
    assert await check(settings) == 1


async def test_an_unknown_job_is_a_404_problem(client: AsyncClient) -> None:
    response = await client.get("/api/v1/jobs/no-such-job")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


async def test_enqueueing_without_redis_is_a_503_problem(
    settings: Settings, serve: Serve, client: AsyncClient
) -> None:
    nowhere = settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"})

    async with serve(create_app(nowhere)) as without_redis:
        without_redis.headers.update(credentials_of(client))
        response = await without_redis.post("/api/v1/jobs/text-analysis", json={"text": TEXT})

    assert response.status_code == 503
    assert response.json()["code"] == "service_unavailable"
{% else %}


async def test_a_job_runs_after_the_response_is_sent(
    capsys: pytest.CaptureFixture[str], settings: Settings, serve: Serve, client: AsyncClient
) -> None:
    async with serve(create_app(settings.model_copy(update={"log_json": True}))) as logged:
        logged.headers.update(credentials_of(client))
        response = await logged.post("/api/v1/jobs/text-analysis", json={"text": TEXT})

    assert response.status_code == 202
    assert response.json()["status"] == "queued"
    lines = json_lines(capsys.readouterr().out)
    [done] = [line for line in lines if line["event"] == "text_analyzed"]
    assert done["job_id"] == response.json()["job_id"]
    assert done["words"] == 4


async def test_a_failing_job_is_logged_and_does_not_escape(
    capsys: pytest.CaptureFixture[str], settings: Settings
) -> None:
    configure_logging(settings.model_copy(update={"log_json": True}))
    background_tasks = BackgroundTasks()

    job_id = await JobQueue(background_tasks).enqueue(explode)
    await background_tasks()

    lines = json_lines(capsys.readouterr().out)
    [failed] = [line for line in lines if line["event"] == "job_failed"]
    assert failed["job_id"] == job_id
    assert failed["job"] == "explode"
    assert "RuntimeError" in failed["exception"]
{% endif %}
