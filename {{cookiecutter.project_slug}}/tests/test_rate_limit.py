import pytest
from limits import parse

from {{ cookiecutter.package_name }}.core.errors import RateLimitedError
from {{ cookiecutter.package_name }}.core.rate_limit import RateLimiter


async def test_requests_within_the_limit_pass_and_the_next_is_refused() -> None:
    limiter = RateLimiter("memory://")
    limit = parse("2/minute")

    await limiter.hit(limit, "client-a")
    await limiter.hit(limit, "client-a")
    with pytest.raises(RateLimitedError) as refused:
        await limiter.hit(limit, "client-a")

    assert 1 <= refused.value.retry_after <= 60
    assert refused.value.headers["Retry-After"] == str(refused.value.retry_after)


async def test_limits_are_counted_per_identifier() -> None:
    limiter = RateLimiter("memory://")
    limit = parse("1/minute")

    await limiter.hit(limit, "client-a")
    await limiter.hit(limit, "client-b")

    with pytest.raises(RateLimitedError):
        await limiter.hit(limit, "client-a")


async def test_cost_spends_several_units_at_once() -> None:
    limiter = RateLimiter("memory://")
    limit = parse("100/minute")

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
