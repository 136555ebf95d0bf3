"""Jobs in the app's process: accepted at once, run after the response is sent."""

import pytest
from fastapi import BackgroundTasks
from httpx import AsyncClient

from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.core.logging import configure_logging
from {{ cookiecutter.package_name }}.jobs.background_queue import JobQueue
from {{ cookiecutter.package_name }}.main import create_app
from tests.conftest import Serve
from tests.test_job_limits import credentials_of
from tests.test_jobs import TEXT, explode
from tests.test_logging import json_lines


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
