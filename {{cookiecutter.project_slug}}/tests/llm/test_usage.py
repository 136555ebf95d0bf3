"""Every call is stored, and ``GET /api/v1/llm/usage`` adds them up per day and model."""

from datetime import UTC, date, datetime
from typing import Any

import pytest
{% if cookiecutter.auth == "none" %}
from httpx import ASGITransport, AsyncClient
{% else %}
from httpx import AsyncClient
{% endif %}
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.core.llm_types import ProviderName
from {{ cookiecutter.package_name }}.database.models import Base, LLMCall
{% if cookiecutter.auth == "none" %}
from {{ cookiecutter.package_name }}.models.llm import UsageQuery
from {{ cookiecutter.package_name }}.services.llm.usage_store import UsageReports
from tests.conftest import Serve, Start, app_of
{% else %}
from {{ cookiecutter.package_name }}.scripts.create_admin import CreatedAdmin
from tests.conftest import Account, Serve, app_of, sign_up
{% endif %}
from tests.llm.conftest import COMPLETE, SECOND_MODEL, STREAM, log_lines
from tests.llm.stub import Reply, StubProvider

ONE_PROVIDER = True
USAGE = "/api/v1/llm/usage"


@pytest.fixture
{% if cookiecutter.auth != "none" %}
def caller(admin: CreatedAdmin) -> str:
    """Whom the calls of ``client`` count for: the admin it is signed in as."""
    return f"user:{admin.user_id}"
{% else %}
def caller() -> str:
    """Whom the calls of ``client`` count for: its address."""
    return "ip:127.0.0.1"
{% endif %}


def by_model(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["model"]: item for item in report["items"]}


def stored_call(day: date, caller: str, **values: Any) -> LLMCall:
    defaults: dict[str, Any] = {
        "provider": "fake",
        "model": "fake",
        "input_tokens": 10,
        "output_tokens": 5,
        "cost": 0.5,
        "duration_ms": 12.5,
        "status": "ok",
        "created_at": datetime(day.year, day.month, day.day, 12, tzinfo=UTC),
    }
    return LLMCall(caller=caller, day=day, **(defaults | values))


async def test_each_call_is_stored_once_with_its_outcome(
    client: AsyncClient, primary: StubProvider, session: AsyncSession, caller: str
) -> None:
    primary.will(Reply(input_tokens=100, cache_read_tokens=40, output_tokens=20))

    response = await client.post(COMPLETE, json={"prompt": "Hello?"})

    body = response.json()
    [row] = await session.scalars(select(LLMCall))
    assert row.request_id == response.headers["x-request-id"]
    assert row.caller == caller
    assert (row.provider, row.model) == (body["provider"], body["model"])
    assert (row.input_tokens, row.cache_read_tokens, row.output_tokens) == (100, 40, 20)
    assert row.cost == pytest.approx(body["cost"])
    assert row.status == "ok"
    assert row.error_code is None
    assert (row.cached, row.streamed, row.fallback_from) == (False, False, [])
    assert row.day == row.created_at.date()


async def test_usage_adds_up_calls_per_day_and_model(
    client: AsyncClient, primary: StubProvider, settings: Settings, providers: list[ProviderName]
) -> None:
    primary.will(
        Reply(input_tokens=1000, output_tokens=200),
        Reply(status=400),
        Reply(input_tokens=30, cache_read_tokens=24, output_tokens=4),
    )
    second_model = SECOND_MODEL[providers[0]]
    deterministic = {"prompt": "What is 2 + 2?", "temperature": 0}

    answered = (await client.post(COMPLETE, json=deterministic)).json()
    cached = (await client.post(COMPLETE, json=deterministic)).json()
    refused = await client.post(COMPLETE, json={"prompt": "Something the provider refuses"})
    streamed = await client.post(STREAM, json={"prompt": "Stream it", "model": second_model})
    response = await client.get(USAGE)

    assert cached["cached"] is True
    assert refused.status_code == 400
    assert streamed.status_code == 200
    assert response.status_code == 200
    report = response.json()
    items = by_model(report)
    assert items.keys() == {answered["model"], second_model}
    default = items[answered["model"]]
    assert default["day"] == report["end"]
    assert (default["requests"], default["errors"], default["cache_hits"]) == (3, 1, 1)
    assert default["usage"]["input_tokens"] == 1000
    assert default["usage"]["output_tokens"] == 200
    assert default["cost"] == pytest.approx(answered["cost"])
    price = settings.llm_prices[second_model]
    second = items[second_model]
    assert (second["requests"], second["errors"], second["cache_hits"]) == (1, 0, 0)
    assert second["usage"]["total_tokens"] == 34
    cost = 6 * price.input + 24 * price.cache_read + 4 * price.output
    assert second["cost"] == pytest.approx(cost / 1_000_000)
    assert (default["cache_read_share"], second["cache_read_share"]) == (0, 0.8)
    total = report["total"]
    assert total["cache_read_share"] == round(24 / 1030, 4)
    assert (total["requests"], total["errors"], total["cache_hits"]) == (4, 1, 1)
    assert total["usage"]["total_tokens"] == 1234
    assert total["cost"] == pytest.approx(default["cost"] + second["cost"])


async def test_usage_covers_the_days_asked_for(
    client: AsyncClient, session: AsyncSession, caller: str
) -> None:
    session.add_all(
        [
            stored_call(date(2020, 1, 10), caller),
            stored_call(date(2020, 1, 20), caller),
            stored_call(date(2020, 1, 20), caller, model="other", status="error", cost=0.25),
            stored_call(date(2020, 2, 1), caller, cached=True, cost=0.0),
        ]
    )
    await session.commit()

    january = (await client.get(USAGE, params={"start": "2020-01-15", "end": "2020-01-31"})).json()
    one_day = (await client.get(USAGE, params={"start": "2020-01-10", "end": "2020-01-10"})).json()
    recent = (await client.get(USAGE)).json()

    assert (january["start"], january["end"]) == ("2020-01-15", "2020-01-31")
    assert [(item["day"], item["model"]) for item in january["items"]] == [
        ("2020-01-20", "fake"),
        ("2020-01-20", "other"),
    ]
    assert january["total"]["requests"] == 2
    assert january["total"]["errors"] == 1
    assert january["total"]["cost"] == pytest.approx(0.75)
    assert [item["day"] for item in one_day["items"]] == ["2020-01-10"]
    assert one_day["total"]["usage"]["total_tokens"] == 15
    assert recent["items"] == []
    assert recent["total"]["requests"] == 0
    assert date.fromisoformat(recent["end"]) == datetime.now(UTC).date()
    assert (date.fromisoformat(recent["end"]) - date.fromisoformat(recent["start"])).days == 29


@pytest.mark.parametrize(
    "params",
    [
        {"start": "2020-02-01", "end": "2020-01-31"},
        {"start": "2019-01-01", "end": "2020-01-31"},
        {"start": "2020-02-30"},
        {"end": "yesterday"},
    ],
)
async def test_a_bad_date_range_is_a_422_problem(
    client: AsyncClient, params: dict[str, str]
) -> None:
    response = await client.get(USAGE, params=params)

    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"


async def test_a_period_ending_on_the_first_day_there_is_starts_on_it(
    client: AsyncClient,
) -> None:
    """Found by fuzzing: the default start, 29 days before, is no date at all (a 500)."""
    response = await client.get(USAGE, params={"end": "0001-01-01"})

    assert response.status_code == 200, response.text
    assert (response.json()["start"], response.json()["end"]) == ("0001-01-01", "0001-01-01")


{% if cookiecutter.auth != "none" %}
async def test_users_see_their_own_usage_and_admins_everyones(
    client: AsyncClient, session: AsyncSession, member: Account
) -> None:
    session.add(stored_call(datetime.now(UTC).date(), "user:someone-else"))
    await session.commit()
    other = await sign_up(client, "other@example.com")

    calls = [
        await client.post(COMPLETE, json={"prompt": "Hello?"}, headers=member.headers),
        await client.post(COMPLETE, json={"prompt": "Hello?"}, headers=member.headers),
        await client.post(COMPLETE, json={"prompt": "Hello?"}, headers=other.headers),
        await client.post(COMPLETE, json={"prompt": "Hello?"}),
    ]
    mine = (await client.get(USAGE, headers=member.headers)).json()
    theirs = (await client.get(USAGE, headers=other.headers)).json()
    everyone = (await client.get(USAGE)).json()

    assert [call.status_code for call in calls] == [200] * 4
    assert mine["caller"] == f"user:{member.id}"
    assert mine["total"]["requests"] == 2
    assert theirs["caller"] == f"user:{other.id}"
    assert theirs["total"]["requests"] == 1
    assert everyone["caller"] is None
    assert everyone["total"]["requests"] == 5
{% else %}
async def test_callers_see_only_their_own_usage(
    settings: Settings, start: Start, session: AsyncSession
) -> None:
    session.add(stored_call(datetime.now(UTC).date(), "ip:192.0.2.1"))
    await session.commit()

    async with start(app_of(settings)) as app:

        def client_at(address: str) -> AsyncClient:
            transport = ASGITransport(app=app, client=(address, 40000))
            return AsyncClient(transport=transport, base_url="http://testserver")

        async with client_at("198.51.100.7") as client, client_at("203.0.113.9") as other:
            for _ in range(2):
                await client.post(COMPLETE, json={"prompt": "Hello?"})
            await other.post(COMPLETE, json={"prompt": "Hello?"})
            mine = (await client.get(USAGE)).json()
            theirs = (await other.get(USAGE)).json()

    assert mine["caller"] == "ip:198.51.100.7"
    assert mine["total"]["requests"] == 2
    assert theirs["caller"] == "ip:203.0.113.9"
    assert theirs["total"]["requests"] == 1


async def test_a_report_of_every_caller_adds_them_all_up(session: AsyncSession) -> None:
    """What administrators will see, once authentication tells them apart."""
    day = date(2020, 1, 10)
    session.add_all([stored_call(day, f"ip:192.0.2.{host}") for host in (1, 2)])
    await session.commit()
    query = UsageQuery(start=day, end=day)

    everyone = await UsageReports(session).report(query, caller=None)
    one = await UsageReports(session).report(query, caller="ip:192.0.2.2")

    assert everyone.caller is None
    assert everyone.total.requests == 2
    assert one.total.requests == 1
{% endif %}


async def test_rows_written_in_batches_are_all_stored_by_a_graceful_shutdown(
    settings: Settings, serve: Serve, session: AsyncSession
) -> None:
    batched = settings.model_copy(update={"llm_usage_flush_seconds": 60})
    async with serve(app_of(batched)) as client:
        answered = [await client.post(COMPLETE, json={"prompt": "Hello?"}) for _ in range(3)]
        # Off the request path: the rows wait for their batch.
        waiting = await session.scalar(select(func.count()).select_from(LLMCall))

    assert [response.status_code for response in answered] == [200, 200, 200]
    assert waiting == 0
    assert await session.scalar(select(func.count()).select_from(LLMCall)) == 3


async def test_a_call_succeeds_even_when_it_cannot_be_stored(
    settings: Settings,
    serve: Serve,
    connection: AsyncConnection,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Dropped in the test's transaction: the tests after it have the table again.
    await connection.run_sync(Base.metadata.tables[LLMCall.__tablename__].drop)

    async with serve(app_of(settings)) as client:
        response = await client.post(COMPLETE, json={"prompt": "Hello?"})

    assert response.status_code == 200
    failures = [
        line
        for line in log_lines(capsys.readouterr().out)
        if line["event"] == "llm_usage_recorder_failed"
    ]
    assert [failure["recorder"] for failure in failures] == ["DatabaseUsageRecorder"]
