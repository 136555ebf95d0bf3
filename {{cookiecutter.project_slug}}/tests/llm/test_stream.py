"""Streaming over real HTTP: tokens as they come, the usage last, disconnects, failures."""

import asyncio

import pytest
from httpx import AsyncClient

from {{ cookiecutter.package_name }}.core.config import Settings
from tests.conftest import Start, app_of
from tests.llm.conftest import STREAM, OverHttp, calls_logged, sse_events
from tests.llm.stub import Reply, StubProvider

QUESTION = {"prompt": "Tell me about foxes"}
DISCONNECT_WAIT = 10


async def tasks_ended(tasks_before: set[asyncio.Task[object]]) -> None:
    """Return once every other task started since ``tasks_before`` has ended."""
    while started := asyncio.all_tasks() - tasks_before - {asyncio.current_task()}:
        await asyncio.wait(started)


async def test_tokens_are_forwarded_as_they_arrive_and_the_usage_comes_last(
    live: AsyncClient, primary: StubProvider, settings: Settings
) -> None:
    primary.will(Reply(text="The quick brown fox", input_tokens=30, output_tokens=4, hold=True))

    async with live.stream("POST", STREAM, json=QUESTION) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = sse_events(response)
        # The stub holds the rest of its answer until released: this piece came alone.
        assert await anext(events) == ("delta", {"text": "The"})
        primary.release()
        rest = [event async for event in events]

    deltas = [data["text"] for name, data in rest if name == "delta"]
    assert deltas == [" quick", " brown", " fox"]
    name, final = rest[-1]
    assert name == "usage"
    assert final["usage"]["input_tokens"] == 30
    assert final["usage"]["output_tokens"] == 4
    price = settings.llm_prices[final["model"]]
    assert final["cost"] == pytest.approx((30 * price.input + 4 * price.output) / 1_000_000)
    assert final["request_id"] == response.headers["x-request-id"]


{% if cookiecutter.auth != "none" %}
async def test_a_client_that_leaves_cancels_the_upstream_request(
    settings: Settings,
    start: Start,
    over_http: OverHttp,
    primary: StubProvider,
    admin_headers: dict[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    primary.will(Reply(hold=True))
    tasks_before = asyncio.all_tasks()

    async with start(app_of(settings)) as app, over_http(app) as url:
        async with (
            AsyncClient(base_url=url, headers=admin_headers) as client,
{% else %}
async def test_a_client_that_leaves_cancels_the_upstream_request(
    settings: Settings,
    start: Start,
    over_http: OverHttp,
    primary: StubProvider,
    capsys: pytest.CaptureFixture[str],
) -> None:
    primary.will(Reply(hold=True))
    tasks_before = asyncio.all_tasks()

    async with start(app_of(settings)) as app, over_http(app) as url:
        async with (
            AsyncClient(base_url=url) as client,
{% endif %}
            client.stream("POST", STREAM, json=QUESTION) as response,
        ):
            assert await anext(sse_events(response)) == ("delta", {"text": "The"})
        # The stub was never released: only the client leaving ends its stream.
        await asyncio.wait_for(primary.disconnected.wait(), DISCONNECT_WAIT)
        # Every task the request started ends: the server's, the app's, the SDK's.
        await asyncio.wait_for(tasks_ended(tasks_before), DISCONNECT_WAIT)

    [call] = calls_logged(capsys.readouterr().out)
    assert call["status"] == "cancelled"
    assert call["streamed"] is True


async def test_a_failure_midway_ends_the_stream_with_an_error_event(
    live: AsyncClient, primary: StubProvider
) -> None:
    primary.will(Reply(fail_midway=True))

    async with live.stream("POST", STREAM, json=QUESTION) as response:
        events = [event async for event in sse_events(response)]

    assert response.status_code == 200
    assert events[0] == ("delta", {"text": "The"})
    name, problem = events[-1]
    assert name == "error"
    assert problem["status"] == 503
    assert problem["code"] == "service_unavailable"
    assert problem["request_id"] == response.headers["x-request-id"]
    assert len(primary.received) == 1


async def test_a_failure_before_the_first_token_is_a_problem_response(
    client: AsyncClient, primary: StubProvider
) -> None:
    primary.will(Reply(malformed=True))

    response = await client.post(STREAM, json=QUESTION)

    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "service_unavailable"
    assert len(primary.received) == 1


async def test_a_stream_is_retried_until_its_first_token(
    live: AsyncClient, primary: StubProvider
) -> None:
    primary.will(Reply(status=503), Reply(text="Second time lucky"))

    async with live.stream("POST", STREAM, json=QUESTION) as response:
        events = [event async for event in sse_events(response)]

    text = "".join(data["text"] for name, data in events if name == "delta")
    assert text == "Second time lucky"
    assert events[-1][0] == "usage"
    assert len(primary.received) == 2
