"""Queueing jobs is rate limited per caller, and a job's input is bounded."""

from httpx import AsyncClient, Response

from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.main import create_app
from tests.conftest import Serve

JOBS = "/api/v1/jobs/text-analysis"
TEXT = {"text": "Hello brave new world"}
CREDENTIAL_HEADERS = {"authorization", "x-api-key"}


def credentials_of(client: AsyncClient) -> dict[str, str]:
    """The credential headers that ``client`` sends, for a client of another app."""
    return {name: value for name, value in client.headers.items() if name in CREDENTIAL_HEADERS}


def assert_problem(response: Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code


async def test_queueing_jobs_is_rate_limited(
    settings: Settings, serve: Serve, client: AsyncClient
) -> None:
    limited = settings.model_copy(update={"job_rate_limit": "2/hour"})

    async with serve(create_app(limited)) as limited_client:
        limited_client.headers.update(credentials_of(client))
        responses = [await limited_client.post(JOBS, json=TEXT) for _ in range(3)]

    assert [response.status_code for response in responses[:2]] == [202, 202]
    assert_problem(responses[2], 429, "rate_limited")
    assert int(responses[2].headers["retry-after"]) >= 1


async def test_a_job_input_over_the_limit_is_a_413_problem(
    settings: Settings, serve: Serve, client: AsyncClient
) -> None:
    bounded = settings.model_copy(update={"job_max_payload_bytes": 100})

    async with serve(create_app(bounded)) as bounded_client:
        bounded_client.headers.update(credentials_of(client))
        small = await bounded_client.post(JOBS, json={"text": "x" * 50})
        large = await bounded_client.post(JOBS, json={"text": "x" * 101})

    assert small.status_code == 202
    assert_problem(large, 413, "payload_too_large")
