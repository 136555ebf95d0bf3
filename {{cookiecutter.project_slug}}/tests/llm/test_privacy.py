"""What the logs say about a call: one line each, without prompts, answers or keys."""

import pytest
from httpx import AsyncClient

from {{ cookiecutter.package_name }}.core.config import Settings
from tests.conftest import Serve, app_of
from tests.llm.conftest import API_KEYS, COMPLETE, STREAM, calls_logged
from tests.llm.stub import Reply, StubProvider

ONE_PROVIDER = True
SECRET_PROMPT = "my card number is 4111-1111"
SECRET_ANSWER = "noted your card"


async def test_calls_are_logged_once_each_without_prompt_answer_or_key(
    settings: Settings,
    serve: Serve,
    primary: StubProvider,
    capsys: pytest.CaptureFixture[str],
) -> None:
    primary.default = Reply(text=SECRET_ANSWER)
    primary.will(Reply(status=500))
    verbose = settings.model_copy(update={"log_level": "DEBUG"})

    async with serve(app_of(verbose)) as client:
        for path in (COMPLETE, STREAM):
            request = {"prompt": SECRET_PROMPT, "system": SECRET_PROMPT}
            response = await client.post(path, json=request)
            assert SECRET_ANSWER.split()[-1] in response.text

    output = capsys.readouterr().out
    calls = calls_logged(output)
    assert [call["streamed"] for call in calls] == [False, True]
    assert all(call["status"] == "ok" for call in calls)
    assert {call["provider"] for call in calls} == set(settings.llm_providers)
    assert SECRET_PROMPT not in output
    assert SECRET_ANSWER not in output
    for key in API_KEYS.values():
        assert key not in output


async def test_prompts_and_answers_are_logged_only_when_asked(
    settings: Settings, serve: Serve, primary: StubProvider, capsys: pytest.CaptureFixture[str]
) -> None:
    primary.default = Reply(text=SECRET_ANSWER)
    telling = settings.model_copy(update={"llm_log_content": True})

    async with serve(app_of(telling)) as client:
        await client.post(COMPLETE, json={"prompt": SECRET_PROMPT})

    [call] = calls_logged(capsys.readouterr().out)
    assert call["prompt"] == f"user: {SECRET_PROMPT}"
    assert call["answer"] == SECRET_ANSWER


async def test_readiness_reports_the_provider_configuration(
    settings: Settings, serve: Serve
) -> None:
    keyless = settings.model_copy(
        update={f"{provider}_api_key": None for provider in settings.llm_providers}
    )

    async with serve(app_of(settings)) as client:
        ready = await client.get("/health/ready")
    async with serve(app_of(keyless)) as client:
        unready = await client.get("/health/ready")

    assert ready.json()["checks"]["llm"]["status"] == "ok"
    assert unready.status_code == 503
    assert unready.json()["checks"]["llm"]["detail"].endswith("_API_KEY is not set")


async def test_readiness_can_also_ask_the_provider(
    settings: Settings, serve: Serve, primary: StubProvider
) -> None:
    probing = settings.model_copy(update={"llm_health_check_reachability": True})

    async with serve(app_of(probing)) as client:
        reachable = await client.get("/health/ready")
        primary.models_status = 500
        unreachable = await client.get("/health/ready")

    assert reachable.status_code == 200
    assert unreachable.status_code == 503
    assert "unreachable" in unreachable.json()["checks"]["llm"]["detail"]


async def test_the_endpoints_and_the_stream_events_are_documented(client: AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()

    complete = schema["paths"]["/api/v1/llm/complete"]["post"]
    assert set(complete["responses"]["200"]["content"]) == {"application/json"}
    stream = schema["paths"]["/api/v1/llm/stream"]["post"]
    [(media_type, content)] = stream["responses"]["200"]["content"].items()
    assert media_type == "text/event-stream"
    events = {
        item["properties"]["event"]["const"]: item["properties"]["data"]["contentSchema"]
        for item in content["itemSchema"]["oneOf"]
    }
    assert set(events) == {"delta", "tool_call", "tool_result", "usage", "error"}
    assert "steps" in events["usage"]["properties"]
{% if cookiecutter.auth != "none" %}
    problems = {"400", "401", "403", "422", "429", "502", "503", "504"}
{% else %}
    problems = {"400", "422", "429", "502", "503", "504"}
{% endif %}
    assert problems <= set(complete["responses"])
    assert problems <= set(stream["responses"])
