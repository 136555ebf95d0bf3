"""A call that reached a provider is charged, however it ended.

A client that leaves a stream before its last event, a provider that fails midway,
a call that times out: the provider charges for each all the same, so the usage it
reported until then (or, where it reported none yet, an estimate from the prompt's
length and the text received) is recorded and charged to the daily budgets. Else
leaving early would be a way around the budget.
"""

import asyncio
import math
import time
from typing import Any

import pytest
from httpx import AsyncClient

from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.core.llm_types import ProviderName
from tests.conftest import Serve, Start, app_of
from tests.llm.conftest import COMPLETE, STREAM, OverHttp, calls_logged, sse_events
from tests.llm.stub import Reply, StubProvider

PROMPT = "Tell me about foxes"
WAIT = 10
REPORTS_INPUT_FIRST = {"anthropic": True, "openai": False}
"""Whether the provider's stream reports the input tokens in its first event."""


@pytest.fixture
def budgeted(settings: Settings) -> Settings:
    """A daily budget of one token per caller: any charge at all spends it."""
    return settings.model_copy(update={"llm_daily_token_budget": 1})


@pytest.fixture
{% if cookiecutter.auth != "none" %}
def headers(admin_headers: dict[str, str]) -> dict[str, str]:
    """The admin's credentials, for the apps these tests serve over HTTP themselves."""
    return admin_headers
{% else %}
def headers() -> dict[str, str]:
    """None: without authentication the LLM routes need no credentials."""
    return {}
{% endif %}


def input_tokens_charged(provider: ProviderName, reported: int) -> int:
    """What a call cut short is charged for its input: reported, else estimated."""
    return reported if REPORTS_INPUT_FIRST[provider] else math.ceil(len(PROMPT) / 4)


async def call_logged(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    """The one ``llm_call`` line, once written: a call that ends early is recorded after."""
    output = ""
    deadline = time.monotonic() + WAIT
    while not (calls := calls_logged(output)) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        output += capsys.readouterr().out
    [call] = calls
    return call


async def test_a_client_that_leaves_a_stream_early_is_charged_what_it_used(
    budgeted: Settings,
    start: Start,
    over_http: OverHttp,
    headers: dict[str, str],
    primary: StubProvider,
    providers: list[ProviderName],
    capsys: pytest.CaptureFixture[str],
) -> None:
    primary.will(Reply(input_tokens=300, hold=True))

    async with (
        start(app_of(budgeted)) as app,
        over_http(app) as url,
        AsyncClient(base_url=url, headers=headers) as client,
    ):
        async with client.stream("POST", STREAM, json={"prompt": PROMPT}) as sse:
            assert await anext(sse_events(sse)) == ("delta", {"text": "The"})
        # Gone before the rest and the usage event: the provider is cancelled.
        await asyncio.wait_for(primary.disconnected.wait(), WAIT)
        call = await call_logged(capsys)
        refused = await client.post(COMPLETE, json={"prompt": PROMPT})

    assert call["status"] == "cancelled"
    assert call["input_tokens"] == input_tokens_charged(providers[0], 300)
    assert call["output_tokens"] >= 1
    assert call["cost"] > 0
    assert refused.status_code == 429
    assert "Budget" in refused.json()["detail"]
    assert len(primary.received) == 1


async def test_a_stream_that_fails_midway_is_charged_what_it_used(
    budgeted: Settings,
    start: Start,
    over_http: OverHttp,
    headers: dict[str, str],
    primary: StubProvider,
    providers: list[ProviderName],
    capsys: pytest.CaptureFixture[str],
) -> None:
    primary.will(Reply(input_tokens=300, fail_midway=True))

    async with (
        start(app_of(budgeted)) as app,
        over_http(app) as url,
        AsyncClient(base_url=url, headers=headers) as client,
    ):
        async with client.stream("POST", STREAM, json={"prompt": PROMPT}) as sse:
            events = [name async for name, _ in sse_events(sse)]
        call = await call_logged(capsys)
        refused = await client.post(COMPLETE, json={"prompt": PROMPT})

    assert events == ["delta", "error"]
    assert call["status"] == "error"
    assert call["input_tokens"] == input_tokens_charged(providers[0], 300)
    assert call["cost"] > 0
    assert refused.status_code == 429


async def test_a_completion_that_times_out_is_charged_its_prompt(
    budgeted: Settings, serve: Serve, primary: StubProvider, capsys: pytest.CaptureFixture[str]
) -> None:
    impatient = budgeted.model_copy(update={"llm_total_timeout": 0.25})
    primary.will(Reply(hold=True))

    async with serve(app_of(impatient)) as client:
        timed_out = await client.post(COMPLETE, json={"prompt": PROMPT})
        call = await call_logged(capsys)
        refused = await client.post(COMPLETE, json={"prompt": PROMPT})

    assert timed_out.status_code == 504
    assert call["error_code"] == "llm_timeout"
    assert call["input_tokens"] == math.ceil(len(PROMPT) / 4)
    assert refused.status_code == 429
