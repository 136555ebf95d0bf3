{% set anthropic = cookiecutter.llm in ["anthropic", "anthropic_and_openai"] %}
{% set db = cookiecutter.database != "none" %}
{% set auth = cookiecutter.auth != "none" %}
"""Tools, structured answers and what each model takes: through the real SDKs and the stub."""

import asyncio
import json
from typing import Any

import pytest
from fastapi import routing
from httpx import AsyncClient
from pydantic import BaseModel

from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.core.llm_types import ModelCapabilities
from {{ cookiecutter.package_name }}.services.llm.providers.base import ToolUse
from {{ cookiecutter.package_name }}.services.llm.tools import Tool, ToolContext, ToolRegistry
{% if auth and db %}
from tests.conftest import Serve, app_of, sign_up
{% else %}
from tests.conftest import Serve, app_of
{% endif %}
from tests.llm.conftest import COMPLETE, STREAM, calls_logged, sse_events
from tests.llm.stub import Reply, StubProvider

ONE_PROVIDER = True
TOOLS = "/api/v1/llm/tools"
CITY: dict[str, Any] = {
    "name": "city",
    "json_schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
        "additionalProperties": False,
    },
}


def asks_the_time(offset: int = 60) -> Reply:
    return Reply(text="", tool_calls=[("current_time", {"utc_offset_minutes": offset})])


async def test_the_model_calls_a_tool_and_answers_with_its_result(
    client: AsyncClient, primary: StubProvider, settings: Settings
) -> None:
    primary.will(asks_the_time(60), Reply(text="It is noon.", input_tokens=50, output_tokens=5))

    response = await client.post(
        COMPLETE, json={"prompt": "What time is it in Paris?", "tools": ["current_time"]}
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["text"] == "It is noon."
    assert body["steps"] == 2
    [call] = body["tool_calls"]
    assert (call["name"], json.loads(call["arguments"])) == (
        "current_time",
        {"utc_offset_minutes": 60},
    )
    [result] = body["tool_results"]
    assert (result["id"], result["name"], result["is_error"]) == (call["id"], "current_time", False)
    assert result["content"].endswith("+01:00")
    # Both turns are charged: 20 + 50 input and 4 + 5 output tokens.
    assert (body["usage"]["input_tokens"], body["usage"]["output_tokens"]) == (70, 9)
    price = settings.llm_prices[body["model"]]
    assert body["cost"] == pytest.approx((70 * price.input + 9 * price.output) / 1_000_000)
    first, second = primary.received
    assert [tool["name"] for tool in first.body["tools"]] == ["current_time"]
    assert result["content"] in json.dumps(second.body)


async def test_bad_arguments_and_unknown_tools_are_errors_the_model_reads(
    client: AsyncClient, primary: StubProvider
) -> None:
    primary.will(
        Reply(
            text="",
            tool_calls=[
                ("current_time", {"utc_offset_minutes": 5000}),
                ("launch_rockets", {}),
            ],
        ),
        Reply(text="Sorry, I could not tell."),
    )

    response = await client.post(COMPLETE, json={"prompt": "Time?", "tools": ["current_time"]})

    assert response.status_code == 200, response.text
    bad_arguments, unknown = response.json()["tool_results"]
    assert bad_arguments["is_error"]
    assert "utc_offset_minutes" in bad_arguments["content"]
    assert unknown["is_error"]
    assert "no tool named 'launch_rockets'" in unknown["content"]
    assert response.json()["text"] == "Sorry, I could not tell."


async def test_the_step_limit_makes_the_last_turn_answer_without_tools(
    settings: Settings, serve: Serve, primary: StubProvider, capsys: pytest.CaptureFixture[str]
) -> None:
    limited = settings.model_copy(update={"llm_max_tool_steps": 2})
    primary.will(asks_the_time(), asks_the_time(), Reply(text="Never asked for"))

    async with serve(app_of(limited)) as client:
        response = await client.post(COMPLETE, json={"prompt": "Time?", "tools": ["current_time"]})

    body = response.json()
    assert body["steps"] == 2
    assert len(body["tool_calls"]) == 1
    assert len(primary.received) == 2
    assert primary.received[0].body["tool_choice"] in ({"type": "auto"}, "auto")
    assert primary.received[1].body["tool_choice"] in ({"type": "none"}, "none")
    # One call, charged for both turns (the usage the budgets count).
    [logged] = calls_logged(capsys.readouterr().out)
    assert (logged["input_tokens"], logged["output_tokens"]) == (40, 8)


async def test_a_streamed_answer_shows_the_tool_calls_and_results(
    live: AsyncClient, primary: StubProvider
) -> None:
    primary.will(asks_the_time(0), Reply(text="It is late"))

    async with live.stream(
        "POST", STREAM, json={"prompt": "Time?", "tools": ["current_time"]}
    ) as response:
        assert response.status_code == 200
        events = [event async for event in sse_events(response)]

    names = [name for name, _ in events]
    assert names[:2] == ["tool_call", "tool_result"]
    assert names[-1] == "usage"
    assert "".join(data["text"] for name, data in events if name == "delta") == "It is late"
    assert events[1][1]["content"].endswith("+00:00")
    assert events[-1][1]["steps"] == 2


async def test_the_tools_are_listed_and_an_unknown_one_is_a_422(
    client: AsyncClient, primary: StubProvider
) -> None:
    listed = (await client.get(TOOLS)).json()

{% if cookiecutter.rag == "yes" %}
    assert [tool["name"] for tool in listed] == ["current_time", "search_notes", "search_documents"]
{% elif db %}
    assert [tool["name"] for tool in listed] == ["current_time", "search_notes"]
{% else %}
    assert [tool["name"] for tool in listed] == ["current_time"]
{% endif %}
    assert listed[0]["parameters"]["properties"]["utc_offset_minutes"]["maximum"] == 840
    response = await client.post(COMPLETE, json={"prompt": "Hi", "tools": ["rm_rf"]})
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "tools"]
    assert primary.received == []


async def test_a_tool_that_takes_too_long_or_fails_gives_the_model_an_error() -> None:
    class Nothing(BaseModel):
        pass

    async def slow(arguments: Nothing, context: ToolContext) -> str:
        await asyncio.sleep(10)
        return "too late"

    async def broken(arguments: Nothing, context: ToolContext) -> str:
        msg = "the secret is 42"
        raise RuntimeError(msg)

    tools = [Tool("slow", "", Nothing, slow), Tool("broken", "", Nothing, broken)]
    registry = ToolRegistry(tools)
    context: Any = object()
    toolbox = registry.toolbox(context, timeout=0.05)

    timed_out = await toolbox.run(ToolUse("1", "slow", "{}"), tools)
    failed = await toolbox.run(ToolUse("2", "broken", "{}"), tools)

    assert (timed_out.is_error, timed_out.content) == (True, "slow took too long.")
    assert (failed.is_error, failed.content) == (True, "broken failed.")


async def test_a_structured_answer_is_parsed_and_validated(
    client: AsyncClient, primary: StubProvider
) -> None:
    primary.will(Reply(text='{"city": "Paris"}'))

    response = await client.post(
        COMPLETE, json={"prompt": "Capital of France?", "response_format": CITY}
    )

    assert response.status_code == 200, response.text
    assert response.json()["output"] == {"city": "Paris"}
    # The schema went to the provider's structured-output mode, whatever its field.
    assert json.dumps(CITY["json_schema"]["properties"]) in json.dumps(primary.received[0].body)


async def test_an_invalid_structured_answer_is_asked_for_once_more_then_refused(
    client: AsyncClient, primary: StubProvider
) -> None:
    primary.will(Reply(text="Paris!"), Reply(text='{"city": "Paris"}'))
    fixed = await client.post(COMPLETE, json={"prompt": "Capital?", "response_format": CITY})
    primary.will(Reply(text='{"town": "Paris"}'), Reply(text="[]"))
    refused = await client.post(COMPLETE, json={"prompt": "Capital?", "response_format": CITY})

    assert fixed.status_code == 200, fixed.text
    assert (fixed.json()["output"], fixed.json()["steps"]) == ({"city": "Paris"}, 2)
    assert "not valid: it is not JSON" in json.dumps(primary.received[1].body)
    assert refused.status_code == 502
    assert refused.json()["code"] == "llm_output_invalid"
    assert len(primary.received) == 4


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "array"},
        {"type": "object", "properties": {"a": {"type": "string", "pattern": "^(a+)+$"}}},
        {"type": "object", "properties": {"a": {"$ref": "https://example.com/s.json"}}},
        {"type": "object", "properties": {"a": {"type": "no-such-type"}}},
    ],
    ids=["not-an-object", "pattern", "remote-ref", "invalid"],
)
async def test_a_response_format_the_service_cannot_check_is_a_422(
    client: AsyncClient, primary: StubProvider, schema: dict[str, Any]
) -> None:
    response = await client.post(
        COMPLETE, json={"prompt": "Hi", "response_format": {"json_schema": schema}}
    )

    assert response.status_code == 422
    assert primary.received == []


async def test_a_parameter_the_model_refuses_is_a_422_naming_it(
    settings: Settings, serve: Serve, primary: StubProvider
) -> None:
    strict = ModelCapabilities(temperature=False, tools=False, structured_output=False)
    refusing = settings.model_copy(
        update={"llm_models": dict.fromkeys(settings.llm_prices, strict)}
    )
    asks: dict[str, dict[str, Any]] = {
        "temperature": {"temperature": 0.5},
        "thinking": {"thinking": True},
        "effort": {"effort": "high"},
        "tools": {"tools": ["current_time"]},
        "response_format": {"response_format": CITY},
    }

    async with serve(app_of(refusing)) as client:
        for parameter, ask in asks.items():
            response = await client.post(COMPLETE, json={"prompt": "Hi", **ask})
            assert response.status_code == 422, parameter
            assert response.json()["errors"][0]["loc"] == ["body", parameter]

    assert primary.received == []
{% if anthropic %}


@pytest.mark.parametrize("providers", [["anthropic"]])
async def test_anthropic_thinks_adaptively_at_the_effort_asked(
    client: AsyncClient, primary: StubProvider
) -> None:
    primary.will(Reply(text="42", output_tokens=300, reasoning_tokens=280))

    response = await client.post(
        COMPLETE,
        json={"prompt": "Why?", "model": "claude-sonnet-4-6", "thinking": True, "effort": "high"},
    )
    refused = await client.post(
        COMPLETE,
        json={"prompt": "Why?", "model": "claude-sonnet-4-6", "thinking": True, "temperature": 1},
    )

    assert response.json()["usage"]["reasoning_tokens"] == 280
    [sent] = primary.received
    assert sent.body["thinking"] == {"type": "adaptive"}
    assert sent.body["output_config"] == {"effort": "high"}
    assert "temperature" not in sent.body
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["loc"] == ["body", "temperature"]


@pytest.mark.parametrize("providers", [["anthropic"]])
async def test_anthropic_gets_tool_results_for_its_tool_uses_and_the_schema_natively(
    client: AsyncClient, primary: StubProvider
) -> None:
    primary.will(asks_the_time(), Reply(text='{"city": "Paris"}'))

    response = await client.post(
        COMPLETE,
        json={"prompt": "Where?", "tools": ["current_time"], "response_format": CITY},
    )

    assert response.status_code == 200, response.text
    first, second = primary.received
    assert first.body["output_config"] == {
        "format": {"type": "json_schema", "schema": CITY["json_schema"]}
    }
    assert first.body["tools"][0]["input_schema"]["properties"]["utc_offset_minutes"]
    assistant, results = second.body["messages"][-2:]
    [tool_use] = [block for block in assistant["content"] if block["type"] == "tool_use"]
    [tool_result] = results["content"]
    assert tool_result["tool_use_id"] == tool_use["id"]
    assert tool_result["is_error"] is False
{% endif %}
{% if auth and db %}


async def test_a_tool_reaches_only_the_callers_own_notes(
    client: AsyncClient, serve: Serve, settings: Settings, primary: StubProvider
) -> None:
    member = await sign_up(client, "keeper@example.com")
    for owner, title in ((member.id, "Lighthouse log"), (None, "Lighthouse secrets")):
        note = {"title": title, **({"owner_id": owner} if owner else {})}
        assert (await client.post("/api/v1/notes", json=note)).status_code == 201
    primary.will(
        Reply(text="", tool_calls=[("search_notes", {"text": "lighthouse"})]), Reply(text="Found")
    )

    async with serve(app_of(settings)) as admin_client:
        admin_client.headers.clear()
        admin_client.headers.update(member.headers)
        response = await admin_client.post(
            COMPLETE, json={"prompt": "My notes?", "tools": ["search_notes"]}
        )

    [result] = response.json()["tool_results"]
    assert "Lighthouse log" in result["content"]
    assert "secrets" not in result["content"]
{% endif %}


async def test_the_stream_sends_pings_while_the_model_is_silent(
    live: AsyncClient, primary: StubProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(routing, "_PING_INTERVAL", 0.05)
    primary.will(Reply(text="Slow answer", hold=True))

    async with live.stream("POST", STREAM, json={"prompt": "Hi"}) as response:
        lines = response.aiter_lines()
        seen = [await anext(lines) for _ in range(3)]
        while ": ping" not in seen:
            seen.append(await anext(lines))
        primary.release()
        rest = [line async for line in lines]

    assert "event: usage" in rest
