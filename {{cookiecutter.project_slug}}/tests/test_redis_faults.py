{% set jwt = cookiecutter.auth in ["jwt", "jwt_and_api_key"] %}
{% set auth = cookiecutter.auth != "none" %}
"""Redis down, or hanging: the service keeps answering, and says it is not ready.

Two outages, made real: Redis at a port that refuses connections, and a Redis that
accepts connections and never answers (a local server that reads and stays silent).
Either way readiness reports Redis failed and the job queue answers 503 Problem
Details, each within a few of Redis's deadlines (``REDIS_TIMEOUT``, short here),
not at the request timeout.
Rate limits keep limiting, with counters of the process, and the outage is logged
once.
{% if cookiecutter.llm != "none" %}
LLM answers skip the cache and come from the provider.
{% endif %}
"""

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Iterator

import pytest
from httpx import AsyncClient, Response
{% if auth %}
from sqlalchemy.ext.asyncio import AsyncEngine
{% endif %}

from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.main import create_app
{% if jwt %}
from {{ cookiecutter.package_name }}.scripts.create_admin import CreatedAdmin
from tests.conftest import ADMIN_EMAIL, PASSWORD, TOKEN_URL, Serve
{% else %}
from tests.conftest import Serve
{% endif %}

CREDENTIAL_HEADERS = {"authorization", "x-api-key"}
REDIS_DEADLINE = 0.1
"""``REDIS_CONNECT_TIMEOUT`` and ``REDIS_TIMEOUT`` while Redis hangs (0.5 s by default)."""
HANG_BOUND = 1.0
"""Seconds a request may take while Redis hangs: a few deadlines, far below the request
timeout (5 s here), with room for a busy machine."""
JOB = {"text": "Some words."}
{% if auth %}
{% if cookiecutter.auth == "jwt" %}
BAD_CREDENTIALS = {"Authorization": "Bearer not-a-token"}
{% else %}
BAD_CREDENTIALS = {"X-API-Key": "not-a-key"}
{% endif %}
{% endif %}


def redis_at(settings: Settings, url: str) -> Settings:
    """``settings`` with every use of Redis at ``url``."""
    update: dict[str, object] = {"redis_url": url, "rate_limit_storage_uri": url}
{% if cookiecutter.llm != "none" %}
    update["llm_cache_url"] = url
{% endif %}
    return settings.model_copy(update=update)


@pytest.fixture
def redis_down(settings: Settings) -> Iterator[Settings]:
    """The test settings with Redis at a local port held but not listening."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield redis_at(settings, f"redis://127.0.0.1:{held.getsockname()[1]}/0")


class Silent(asyncio.Protocol):
    """Takes a connection and whatever is sent on it, and never answers."""

    def __init__(self, connections: set[asyncio.BaseTransport]) -> None:
        self._connections = connections

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._connections.add(transport)


@pytest.fixture
async def redis_hangs(settings: Settings) -> AsyncIterator[Settings]:
    """The test settings with Redis at a local server that accepts and never answers.

    Redis's deadlines are short, so that the tests are, and so is the request timeout:
    a request stuck on Redis fails fast too.
    """
    connections: set[asyncio.BaseTransport] = set()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Silent(connections), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    hanging = redis_at(settings, f"redis://127.0.0.1:{port}/0")
    try:
        yield hanging.model_copy(
            update={
                "request_timeout": 5.0,
                "redis_connect_timeout": REDIS_DEADLINE,
                "redis_timeout": REDIS_DEADLINE,
            }
        )
    finally:
        server.close()
        for connection in list(connections):
            connection.close()
        await server.wait_closed()


@pytest.fixture
def credentials(client: AsyncClient) -> dict[str, str]:
{% if auth %}
    """The admin's credentials (the ``client`` fixture's): good for every app of this test."""
{% else %}
    """None are needed without authentication (``client`` makes the test's database, if any)."""
{% endif %}
    return {name: value for name, value in client.headers.items() if name in CREDENTIAL_HEADERS}


async def timed(request: Awaitable[Response]) -> tuple[Response, float]:
    """The response, and the seconds it took."""
    started = time.perf_counter()
    response = await request
    return response, time.perf_counter() - started


def log_events(output: str) -> list[str]:
    return [json.loads(line)["event"] for line in output.splitlines() if line.startswith("{")]


async def test_readiness_fails_and_jobs_are_refused(
    redis_down: Settings, serve: Serve, credentials: dict[str, str]
) -> None:
    async with serve(create_app(redis_down)) as client:
        client.headers.update(credentials)
        ready = await client.get("/health/ready")
        job = await client.post("/api/v1/jobs/text-analysis", json=JOB)

    assert ready.status_code == 503
    assert ready.json()["checks"]["redis"]["status"] == "fail"
    assert job.status_code == 503
    assert job.headers["content-type"] == "application/problem+json"
    assert job.json()["code"] == "service_unavailable"


async def test_a_redis_that_never_answers_fails_readiness_and_jobs_within_a_second(
    redis_hangs: Settings, serve: Serve, credentials: dict[str, str]
) -> None:
    async with serve(create_app(redis_hangs)) as client:
        client.headers.update(credentials)
        ready, ready_took = await timed(client.get("/health/ready"))
        job, job_took = await timed(client.post("/api/v1/jobs/text-analysis", json=JOB))

    assert ready.status_code == 503
    assert ready.json()["checks"]["redis"]["status"] == "fail"
    assert ready_took < HANG_BOUND
    assert job.status_code == 503
    assert job.json()["code"] == "service_unavailable"
    assert job_took < HANG_BOUND
{% if jwt %}


async def test_logins_take_about_a_second_at_most_while_redis_never_answers(
    redis_hangs: Settings, serve: Serve, admin: CreatedAdmin
) -> None:
    async with serve(create_app(redis_hangs)) as client:
        failed, failed_took = await timed(
            client.post(TOKEN_URL, data={"username": ADMIN_EMAIL, "password": "wrong"})
        )
        logged_in, logged_in_took = await timed(
            client.post(TOKEN_URL, data={"username": ADMIN_EMAIL, "password": PASSWORD})
        )

    assert failed.status_code == 401
    assert failed_took < HANG_BOUND
    assert logged_in.status_code == 200
    assert logged_in_took < HANG_BOUND
{% endif %}
{% if auth %}


async def test_failed_authentications_take_about_a_second_at_most_while_redis_never_answers(
    redis_hangs: Settings, serve: Serve, database: AsyncEngine
) -> None:
    async with serve(create_app(redis_hangs)) as client:
        timings = [
            await timed(client.get("/api/v1/users/me", headers=BAD_CREDENTIALS)) for _ in range(2)
        ]

    assert [response.status_code for response, _ in timings] == [401, 401]
    assert max(took for _, took in timings) < HANG_BOUND
{% endif %}
{% if cookiecutter.llm != "none" %}


async def test_completions_are_answered_uncached_within_a_second_while_redis_never_answers(
    redis_hangs: Settings, serve: Serve, credentials: dict[str, str]
) -> None:
    request = {"prompt": "Say hello", "temperature": 0}

    async with serve(create_app(redis_hangs)) as client:
        client.headers.update(credentials)
        timings = [await timed(client.post("/api/v1/llm/complete", json=request)) for _ in range(2)]

    assert [response.status_code for response, _ in timings] == [200, 200]
    assert [response.json()["cached"] for response, _ in timings] == [False, False]
    assert max(took for _, took in timings) < HANG_BOUND
{% endif %}
{% if jwt %}


async def test_guessing_a_password_is_still_limited_while_the_counters_are_down(
    redis_down: Settings, serve: Serve, admin: CreatedAdmin, capsys: pytest.CaptureFixture[str]
) -> None:
    """Twelve bad logins on one account: the first five are answered, the rest refused."""
    logged = redis_down.model_copy(update={"log_json": True})

    async with serve(create_app(logged)) as client:
        responses = [
            await client.post(TOKEN_URL, data={"username": ADMIN_EMAIL, "password": "guess"})
            for _ in range(12)
        ]

    assert [response.status_code for response in responses] == [401] * 5 + [429] * 7
    assert int(responses[-1].headers["retry-after"]) >= 1
    events = log_events(capsys.readouterr().out)
    assert events.count("rate_limit_storage_unavailable") == 1
{% endif %}
{% if auth %}


async def test_failed_authentications_are_still_limited_while_the_counters_are_down(
    redis_down: Settings, serve: Serve, database: AsyncEngine
) -> None:
    strict = redis_down.model_copy(update={"auth_failure_rate_limit": "3/hour"})

    async with serve(create_app(strict)) as client:
        responses = [
            await client.get("/api/v1/users/me", headers=BAD_CREDENTIALS) for _ in range(5)
        ]

    assert [response.status_code for response in responses] == [401, 401, 401, 429, 429]
{% endif %}
{% if cookiecutter.llm != "none" %}


async def test_completions_are_answered_uncached_and_still_limited_while_redis_is_down(
    redis_down: Settings, serve: Serve, credentials: dict[str, str]
) -> None:
    strict = redis_down.model_copy(update={"llm_requests_per_minute": 1})
    request = {"prompt": "Say hello", "temperature": 0}

    async with serve(create_app(strict)) as client:
        client.headers.update(credentials)
        responses = [await client.post("/api/v1/llm/complete", json=request) for _ in range(2)]

    assert [response.status_code for response in responses] == [200, 429]
    assert responses[0].json()["cached"] is False
{% endif %}
