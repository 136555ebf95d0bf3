{% if cookiecutter.redis == "yes" %}
from uuid import uuid4

{% endif %}
import pytest
{% if cookiecutter.redis == "yes" %}
from fastapi import FastAPI
{% endif %}
from limits import parse

{% if cookiecutter.redis == "yes" %}
from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.core.dependencies import RateLimiterDep
{% endif %}
from {{ cookiecutter.package_name }}.core.errors import RateLimitedError
from {{ cookiecutter.package_name }}.core.rate_limit import RateLimiter
{% if cookiecutter.redis == "yes" %}
from {{ cookiecutter.package_name }}.main import create_app
from tests.conftest import Serve
{% endif %}


async def test_requests_within_the_limit_pass_and_the_next_is_refused() -> None:
    limiter = RateLimiter("memory://")
    limit = parse("2/hour")

    await limiter.hit(limit, "client-a")
    await limiter.hit(limit, "client-a")
    with pytest.raises(RateLimitedError) as refused:
        await limiter.hit(limit, "client-a")

    assert 1 <= refused.value.retry_after <= 3600
    assert refused.value.headers["Retry-After"] == str(refused.value.retry_after)


async def test_limits_are_counted_per_identifier() -> None:
    limiter = RateLimiter("memory://")
    limit = parse("1/hour")

    await limiter.hit(limit, "client-a")
    await limiter.hit(limit, "client-b")

    with pytest.raises(RateLimitedError):
        await limiter.hit(limit, "client-a")


async def test_cost_spends_several_units_at_once() -> None:
    limiter = RateLimiter("memory://")
    limit = parse("100/hour")

    await limiter.hit(limit, "tokens", cost=60)
    with pytest.raises(RateLimitedError):
        await limiter.hit(limit, "tokens", cost=60)


async def test_a_budget_is_charged_after_the_fact_and_then_refuses() -> None:
    limiter = RateLimiter("memory://")
    budget = parse("100/day")

    await limiter.ensure_budget(budget, "client-a")
    await limiter.charge(budget, "client-a", cost=150)

    with pytest.raises(RateLimitedError) as refused:
        await limiter.ensure_budget(budget, "client-a")
    await limiter.ensure_budget(budget, "client-b")
    assert refused.value.retry_after >= 1
{% if cookiecutter.redis == "yes" %}


def test_rate_limits_are_counted_in_redis_unless_told_otherwise() -> None:
    settings = Settings(_env_file=None, redis_url="redis://cache:6379/2")
    in_memory = Settings(_env_file=None, rate_limit_storage_uri="memory://")

    assert settings.rate_limit_storage_uri == "redis://cache:6379/2"
    assert in_memory.rate_limit_storage_uri == "memory://"


def app_with_limited_route(settings: Settings, client_id: str) -> FastAPI:
    app = create_app(settings)

    @app.get("/limited")
    async def limited(limiter: RateLimiterDep) -> dict[str, str]:
        await limiter.hit(parse("2/hour"), "limited", client_id)
        return {"status": "ok"}

    return app


async def test_two_instances_share_one_limit_through_redis(
    settings: Settings, serve: Serve
) -> None:
    shared = settings.model_copy(update={"rate_limit_storage_uri": settings.redis_url})
    client_id = uuid4().hex  # keys of this test run only: other runs may share the Redis

    async with (
        serve(app_with_limited_route(shared, client_id)) as first,
        serve(app_with_limited_route(shared, client_id)) as second,
    ):
        answers = [
            await first.get("/limited"),
            await second.get("/limited"),
            await first.get("/limited"),
            await second.get("/limited"),
        ]

    assert [answer.status_code for answer in answers] == [200, 200, 429, 429]
    assert int(answers[2].headers["retry-after"]) >= 1
{% endif %}
