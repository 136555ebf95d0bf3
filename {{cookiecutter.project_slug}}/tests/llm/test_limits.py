"""Rate limits and daily budgets: 429 with Retry-After, counted per caller."""

{% if cookiecutter.auth == "none" %}
from httpx import ASGITransport, AsyncClient

{% endif %}
from {{ cookiecutter.package_name }}.core.config import Settings
{% if cookiecutter.auth != "none" %}
from tests.conftest import Account, Serve, app_of
{% else %}
from tests.conftest import Serve, Start, app_of
{% endif %}
from tests.llm.conftest import COMPLETE
from tests.llm.stub import Reply, StubProvider

ONE_PROVIDER = True
PROMPT = {"prompt": "Hello?", "max_tokens": 50}


{% if cookiecutter.auth != "none" %}
async def test_requests_past_the_per_minute_limit_are_refused_per_user(
    settings: Settings, serve: Serve, primary: StubProvider, member: Account
) -> None:
    limited = settings.model_copy(update={"llm_requests_per_minute": 2})

    async with serve(app_of(limited)) as client:
        allowed = [await client.post(COMPLETE, json=PROMPT) for _ in range(2)]
        refused = await client.post(COMPLETE, json=PROMPT)
        someone_else = await client.post(COMPLETE, json=PROMPT, headers=member.headers)
{% else %}
async def test_requests_past_the_per_minute_limit_are_refused_per_caller(
    settings: Settings, start: Start, primary: StubProvider
) -> None:
    app = app_of(settings.model_copy(update={"llm_requests_per_minute": 2}))

    async with start(app) as served:

        def client_at(address: str) -> AsyncClient:
            transport = ASGITransport(app=served, client=(address, 40000))
            return AsyncClient(transport=transport, base_url="http://testserver")

        async with client_at("198.51.100.7") as client, client_at("203.0.113.9") as other:
            allowed = [await client.post(COMPLETE, json=PROMPT) for _ in range(2)]
            refused = await client.post(COMPLETE, json=PROMPT)
            someone_else = await other.post(COMPLETE, json=PROMPT)
{% endif %}

    assert [response.status_code for response in allowed] == [200, 200]
    assert refused.status_code == 429
    assert refused.json()["code"] == "rate_limited"
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert someone_else.status_code == 200
    assert len(primary.received) == 3


async def test_tokens_past_the_per_minute_limit_are_refused(
    settings: Settings, serve: Serve, primary: StubProvider
) -> None:
    limited = settings.model_copy(update={"llm_tokens_per_minute": 100})

    async with serve(app_of(limited)) as client:
        first = await client.post(COMPLETE, json=PROMPT)
        second = await client.post(COMPLETE, json=PROMPT)

    assert first.status_code == 200
    assert second.status_code == 429
    assert "retry-after" in second.headers
    assert len(primary.received) == 1


{% if cookiecutter.auth != "none" %}
async def test_a_spent_daily_token_budget_refuses_further_calls_of_that_user(
    settings: Settings, serve: Serve, primary: StubProvider, member: Account
) -> None:
    budgeted = settings.model_copy(update={"llm_daily_token_budget": 100})
    primary.will(Reply(input_tokens=80, output_tokens=40))

    async with serve(app_of(budgeted)) as client:
        spending = await client.post(COMPLETE, json=PROMPT)
        refused = await client.post(COMPLETE, json=PROMPT)
        someone_else = await client.post(COMPLETE, json=PROMPT, headers=member.headers)

    assert spending.status_code == 200
    assert refused.status_code == 429
    assert "Budget" in refused.json()["detail"]
    assert someone_else.status_code == 200
    assert len(primary.received) == 2
{% else %}
async def test_a_spent_daily_token_budget_refuses_further_calls(
    settings: Settings, serve: Serve, primary: StubProvider
) -> None:
    budgeted = settings.model_copy(update={"llm_daily_token_budget": 100})
    primary.will(Reply(input_tokens=80, output_tokens=40))

    async with serve(app_of(budgeted)) as client:
        spending = await client.post(COMPLETE, json=PROMPT)
        refused = await client.post(COMPLETE, json=PROMPT)

    assert spending.status_code == 200
    assert refused.status_code == 429
    assert "Budget" in refused.json()["detail"]
    assert len(primary.received) == 1
{% endif %}


async def test_a_spent_daily_cost_budget_refuses_further_calls(
    settings: Settings, serve: Serve, primary: StubProvider
) -> None:
    budgeted = settings.model_copy(update={"llm_daily_cost_budget": 0.01})
    primary.will(Reply(input_tokens=100_000, output_tokens=1000))

    async with serve(app_of(budgeted)) as client:
        spending = await client.post(COMPLETE, json=PROMPT)
        refused = await client.post(COMPLETE, json=PROMPT)

    assert spending.json()["cost"] > 0.01
    assert refused.status_code == 429
    assert len(primary.received) == 1
