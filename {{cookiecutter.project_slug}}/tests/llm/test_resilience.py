"""Retries, circuit breakers{% if cookiecutter.llm == "anthropic_and_openai" %}, fallback{% endif %} and timeouts, against a misbehaving stub."""

import time
from typing import Any

import pytest
from httpx import AsyncClient
from purgatory.domain import model as breaker_model

from {{ cookiecutter.package_name }}.core.config import Settings
from tests.conftest import Serve, app_of
{% if cookiecutter.llm == "anthropic_and_openai" %}
from tests.llm.conftest import COMPLETE, STREAM, calls_logged, log_lines
{% else %}
from tests.llm.conftest import COMPLETE, calls_logged, log_lines
{% endif %}
{% if cookiecutter.llm == "anthropic_and_openai" %}
from tests.llm.stub import ProviderStub, Reply, StubProvider
{% else %}
from tests.llm.stub import Reply, StubProvider
{% endif %}

PROMPT = {"prompt": "Hello?"}


def events_named(output: str, name: str) -> list[dict[str, Any]]:
    return [line for line in log_lines(output) if line["event"] == name]


class ShiftedClock:
    """``time`` for the circuit breaker, ahead of the real clock by ``offset`` seconds."""

    def __init__(self) -> None:
        self.offset = 0.0

    def time(self) -> float:
        return time.time() + self.offset


async def test_a_transient_failure_is_retried_honouring_retry_after(
    settings: Settings, serve: Serve, primary: StubProvider, capsys: pytest.CaptureFixture[str]
) -> None:
    primary.will(Reply(status=429, headers={"retry-after-ms": "20"}), Reply(status=500))

    async with serve(app_of(settings)) as client:
        response = await client.post(COMPLETE, json=PROMPT)

    assert response.status_code == 200
    assert len(primary.received) == 3
    retries = events_named(capsys.readouterr().out, "llm_retry")
    assert [retry["wait_s"] for retry in retries] == [0.02, 0.0]


async def test_a_retry_after_beyond_the_cap_is_not_waited_for(
    client: AsyncClient, primary: StubProvider
) -> None:
    primary.will(Reply(status=429, headers={"retry-after": "3600"}))

    response = await client.post(COMPLETE, json=PROMPT)

    assert response.status_code == 503
    assert len(primary.received) == 1


async def test_exhausted_retries_are_a_503_problem(
    settings: Settings, serve: Serve, primary: StubProvider, capsys: pytest.CaptureFixture[str]
) -> None:
    primary.will(*[Reply(status=500)] * settings.llm_max_attempts)

    async with serve(app_of(settings)) as client:
        response = await client.post(COMPLETE, json=PROMPT)

    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "service_unavailable"
    assert len(primary.received) == settings.llm_max_attempts
    [call] = calls_logged(capsys.readouterr().out)
    assert call["status"] == "error"
    assert call["error_code"] == "service_unavailable"


async def test_a_request_the_provider_refuses_is_a_400_and_not_retried(
    client: AsyncClient, primary: StubProvider
) -> None:
    primary.will(Reply(status=400))

    response = await client.post(COMPLETE, json=PROMPT)

    assert response.status_code == 400
    assert "Stub says no" in response.json()["detail"]
    assert len(primary.received) == 1


async def test_a_malformed_answer_is_not_retried(
    client: AsyncClient, primary: StubProvider
) -> None:
    primary.will(Reply(malformed=True))

    response = await client.post(COMPLETE, json=PROMPT)

    assert response.status_code == 503
    assert len(primary.received) == 1


async def test_the_circuit_opens_after_failures_and_closes_after_a_good_try(
    settings: Settings,
    serve: Serve,
    primary: StubProvider,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    clock = ShiftedClock()
    monkeypatch.setattr(breaker_model, "time", clock)
    fragile = settings.model_copy(update={"llm_breaker_threshold": 2, "llm_max_attempts": 1})
    primary.will(Reply(status=500), Reply(status=500))

    async with serve(app_of(fragile)) as client:
        failures = [await client.post(COMPLETE, json=PROMPT) for _ in range(2)]
        failing_fast = await client.post(COMPLETE, json=PROMPT)
        calls_while_open = len(primary.received)
        clock.offset = fragile.llm_breaker_reset_seconds + 1
        recovered = await client.post(COMPLETE, json=PROMPT)
        after = await client.post(COMPLETE, json=PROMPT)

    assert [failure.status_code for failure in failures] == [503, 503]
    assert failing_fast.status_code == 503
    assert calls_while_open == 2
    assert recovered.status_code == 200
    assert after.status_code == 200
    output = capsys.readouterr().out
    states = [event["state"] for event in events_named(output, "llm_circuit_changed")]
    assert states == ["opened", "half-opened", "closed"]
    assert len(events_named(output, "llm_circuit_open")) == 1


async def test_a_call_that_takes_too_long_is_a_504(
    settings: Settings, serve: Serve, primary: StubProvider
) -> None:
    primary.will(Reply(hold=True))
    impatient = settings.model_copy(update={"llm_total_timeout": 0.2})

    async with serve(app_of(impatient)) as client:
        response = await client.post(COMPLETE, json=PROMPT)

    assert response.status_code == 504
    assert response.json()["code"] == "llm_timeout"


async def test_a_provider_silent_past_the_read_timeout_is_retried(
    settings: Settings, serve: Serve, primary: StubProvider
) -> None:
    primary.will(Reply(hold=True))
    impatient = settings.model_copy(update={"llm_read_timeout": 0.25})

    async with serve(app_of(impatient)) as client:
        response = await client.post(COMPLETE, json=PROMPT)

    assert response.status_code == 200
    assert len(primary.received) == 2
{% if cookiecutter.llm == "anthropic_and_openai" %}


@pytest.mark.parametrize("providers", [["anthropic", "openai"]])
async def test_a_failing_provider_falls_back_to_the_next(
    settings: Settings, serve: Serve, stub: ProviderStub, capsys: pytest.CaptureFixture[str]
) -> None:
    stub.anthropic.will(*[Reply(status=529)] * settings.llm_max_attempts)
    stub.openai.will(Reply(text="OpenAI here"))

    async with serve(app_of(settings)) as client:
        response = await client.post(COMPLETE, json=PROMPT)

    body = response.json()
    assert response.status_code == 200
    assert body["text"] == "OpenAI here"
    assert body["provider"] == "openai"
    assert body["model"] == settings.openai_models[0]
    assert body["fallback_from"] == ["anthropic"]
    output = capsys.readouterr().out
    [failed] = events_named(output, "llm_provider_failed")
    assert failed["provider"] == "anthropic"
    [call] = calls_logged(output)
    assert call["provider"] == "openai"
    assert call["fallback_from"] == ["anthropic"]


@pytest.mark.parametrize("providers", [["anthropic", "openai"]])
async def test_an_open_circuit_is_skipped_without_a_call(
    settings: Settings, serve: Serve, stub: ProviderStub
) -> None:
    fragile = settings.model_copy(update={"llm_breaker_threshold": 1, "llm_max_attempts": 1})
    stub.anthropic.will(Reply(status=500))

    async with serve(app_of(fragile)) as client:
        first = await client.post(COMPLETE, json=PROMPT)
        second = await client.post(COMPLETE, json=PROMPT)

    assert first.json()["provider"] == second.json()["provider"] == "openai"
    assert second.json()["fallback_from"] == ["anthropic"]
    assert len(stub.anthropic.received) == 1
    assert len(stub.openai.received) == 2


@pytest.mark.parametrize("providers", [["anthropic", "openai"]])
async def test_both_providers_failing_is_a_503(client: AsyncClient, stub: ProviderStub) -> None:
    stub.anthropic.default = stub.openai.default = Reply(status=500)

    response = await client.post(STREAM, json=PROMPT)

    assert response.status_code == 503
    assert response.json()["code"] == "service_unavailable"
    assert stub.anthropic.received
    assert stub.openai.received
{% endif %}
