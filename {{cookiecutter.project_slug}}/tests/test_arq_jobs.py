"""Jobs on the Redis queue: queued by the app, run by the worker, polled for the result."""

from typing import Any
from uuid import uuid4

import pytest
from arq.worker import func
from httpx import AsyncClient

from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.core.redis import create_redis
from {{ cookiecutter.package_name }}.jobs.arq_queue import JobQueue
from {{ cookiecutter.package_name }}.jobs.worker import JOBS, check, create_worker
from {{ cookiecutter.package_name }}.main import create_app
from tests.conftest import Serve
from tests.test_job_limits import credentials_of
from tests.test_jobs import TEXT, explode
{% if cookiecutter.observability == "yes" %}
from tests.test_metrics import sample
{% endif %}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """A job queue of each test's own: the worker a test runs finds only the jobs it queued."""
    return settings.model_copy(update={"job_queue_name": f"test:{uuid4().hex}:jobs"})


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


{% if cookiecutter.observability == "yes" %}
async def test_the_jobs_waiting_for_a_worker_are_a_metric(client: AsyncClient) -> None:
    for _ in range(2):
        await client.post("/api/v1/jobs/text-analysis", json={"text": TEXT})

    metrics = await client.get("/metrics")

    assert sample(metrics.text, "jobs_queued") == 2


{% endif %}
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
