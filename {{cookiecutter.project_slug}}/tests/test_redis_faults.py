{% set jwt = cookiecutter.auth in ["jwt", "jwt_and_api_key"] %}
{% set rate_limited = cookiecutter.auth != "none" or cookiecutter.llm != "none" %}
"""Redis down: the service keeps answering, and says it is not ready.

Every use of Redis points at a port that refuses connections: readiness reports
Redis failed and the job queue answers 503 Problem Details.
{% if rate_limited %}
Rate limits let requests through, logging a warning: an outage of the counters
must not become an outage of the service.
{% endif %}
{% if cookiecutter.llm != "none" %}
LLM answers skip the cache and come from the provider.
{% endif %}
"""

import socket
from collections.abc import Iterator

import pytest
{% if cookiecutter.database != "none" and cookiecutter.auth == "none" and cookiecutter.llm != "none" %}
from sqlalchemy.ext.asyncio import AsyncEngine
{% endif %}

from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.main import create_app
{% if jwt and cookiecutter.llm != "none" %}
from {{ cookiecutter.package_name }}.scripts.create_admin import CreatedAdmin
from tests.conftest import ADMIN_EMAIL, Serve, bearer, log_in
{% elif jwt %}
from {{ cookiecutter.package_name }}.scripts.create_admin import CreatedAdmin
from tests.conftest import ADMIN_EMAIL, Serve, log_in
{% elif cookiecutter.auth == "api_key" and cookiecutter.llm != "none" %}
from {{ cookiecutter.package_name }}.scripts.create_admin import CreatedAdmin
from tests.conftest import Serve
{% else %}
from tests.conftest import Serve
{% endif %}


@pytest.fixture
def redis_down(settings: Settings) -> Iterator[Settings]:
    """The test settings with Redis at a local port held but not listening."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        nowhere = f"redis://127.0.0.1:{held.getsockname()[1]}/0"
        yield settings.model_copy(
            update={
                "redis_url": nowhere,
{% if rate_limited %}
                "rate_limit_storage_uri": nowhere,
{% endif %}
{% if cookiecutter.llm != "none" %}
                "llm_cache_url": nowhere,
{% endif %}
            }
        )


async def test_readiness_fails_and_jobs_are_refused(redis_down: Settings, serve: Serve) -> None:
    async with serve(create_app(redis_down)) as client:
        ready = await client.get("/health/ready")
        job = await client.post("/api/v1/jobs/text-analysis", json={"text": "Some words."})

    assert ready.status_code == 503
    assert ready.json()["checks"]["redis"]["status"] == "fail"
    assert job.status_code == 503
    assert job.headers["content-type"] == "application/problem+json"
    assert job.json()["code"] == "service_unavailable"
{% if jwt %}


async def test_logins_go_through_while_the_rate_limit_counters_are_down(
    redis_down: Settings, serve: Serve, admin: CreatedAdmin
) -> None:
    strict = redis_down.model_copy(update={"login_rate_limit_per_account": "1/minute"})

    async with serve(create_app(strict)) as client:
        first = await log_in(client, ADMIN_EMAIL)
        second = await log_in(client, ADMIN_EMAIL)

    assert first["access_token"] != second["access_token"]
{% elif cookiecutter.auth == "api_key" %}


async def test_failed_authentications_are_401_while_the_rate_limit_counters_are_down(
    redis_down: Settings, serve: Serve
) -> None:
    strict = redis_down.model_copy(update={"auth_failure_rate_limit": "1/minute"})

    async with serve(create_app(strict)) as client:
        responses = [
            await client.get("/api/v1/users", headers={"X-API-Key": "not-a-key"}) for _ in range(3)
        ]

    assert [response.status_code for response in responses] == [401, 401, 401]
{% endif %}
{% if cookiecutter.llm != "none" %}


{% if cookiecutter.auth != "none" %}
async def test_completions_are_answered_uncached_and_unlimited_while_redis_is_down(
    redis_down: Settings, serve: Serve, admin: CreatedAdmin
) -> None:
{% elif cookiecutter.database != "none" %}
async def test_completions_are_answered_uncached_and_unlimited_while_redis_is_down(
    redis_down: Settings, serve: Serve, database: AsyncEngine
) -> None:
{% else %}
async def test_completions_are_answered_uncached_and_unlimited_while_redis_is_down(
    redis_down: Settings, serve: Serve
) -> None:
{% endif %}
    strict = redis_down.model_copy(update={"llm_requests_per_minute": 1})
    request = {"prompt": "Say hello", "temperature": 0}

    async with serve(create_app(strict)) as client:
{% if jwt %}
        client.headers.update(bearer((await log_in(client, ADMIN_EMAIL))["access_token"]))
{% elif cookiecutter.auth == "api_key" %}
        client.headers["X-API-Key"] = admin.api_key
{% endif %}
        responses = [await client.post("/api/v1/llm/complete", json=request) for _ in range(2)]

    assert [response.status_code for response in responses] == [200, 200]
    assert [response.json()["cached"] for response in responses] == [False, False]
{% endif %}
