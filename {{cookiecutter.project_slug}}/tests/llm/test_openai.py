"""Both OpenAI providers through the real SDK: the Responses API, and Chat Completions
(``OPENAI_API=chat_completions``) for OpenAI-compatible servers.
"""

import json
import ssl
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest
from pydantic import SecretStr

from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.models.llm import Message, TokenUsage
from {{ cookiecutter.package_name }}.services.llm.providers.base import (
    Completion,
    OutputFormat,
    ProviderCall,
    ProviderRejectedError,
    StreamChunk,
    ToolOutcome,
    ToolSpec,
    ToolStep,
    ToolUse,
    TransientProviderError,
)
from {{ cookiecutter.package_name }}.services.llm.providers.openai import OpenAIProvider
from {{ cookiecutter.package_name }}.services.llm.providers.openai_chat import OpenAIChatProvider
from tests.conftest import Serve, app_of
from tests.llm.conftest import API_KEYS, COMPLETE
from tests.llm.stub import Reply, StubProvider

pytestmark = pytest.mark.parametrize("providers", [["openai"]], ids=["openai"])

WEATHER = ToolSpec(
    name="weather",
    description="Today's weather in a city.",
    parameters={"type": "object", "properties": {"city": {"type": "string"}}},
)
ANSWER = OutputFormat(
    name="forecast",
    schema={"type": "object", "properties": {"summary": {"type": "string"}}},
)
QUESTION = Message(role="user", content="Weather in Oslo?")
OSLO = Reply(
    text="Let me look.",
    tool_calls=[("weather", {"city": "Oslo"})],
    input_tokens=100,
    cache_read_tokens=40,
    output_tokens=30,
    reasoning_tokens=12,
)
"""A reasoning model that thinks, says a word and calls a tool."""


def asking(*turns: Message | ToolStep, **options: Any) -> ProviderCall:
    """The question (and the turns after it), with ``options`` of ``ProviderCall``."""
    call = ProviderCall(
        model="gpt-4.1-mini", messages=[QUESTION, *turns], system="Be brief.", max_tokens=200
    )
    return replace(call, **options)


def stepped(completion: Completion, result: str = "12°C, clear") -> ToolStep:
    """The completion's tool calls, answered."""
    return ToolStep(
        provider="openai",
        text=completion.text,
        calls=completion.tool_calls,
        outcomes=tuple(ToolOutcome(id=use.id, content=result) for use in completion.tool_calls),
        native=completion.native,
    )


async def drained(chunks: AsyncIterator[StreamChunk]) -> list[StreamChunk]:
    return [chunk async for chunk in chunks]


@pytest.fixture
async def responses(settings: Settings) -> AsyncIterator[OpenAIProvider]:
    provider = OpenAIProvider(settings, SecretStr(API_KEYS["openai"]), ssl.create_default_context())
    yield provider
    await provider.aclose()


@pytest.fixture
async def chat(settings: Settings) -> AsyncIterator[OpenAIChatProvider]:
    provider = OpenAIChatProvider(
        settings, SecretStr(API_KEYS["openai"]), ssl.create_default_context()
    )
    yield provider
    await provider.aclose()


async def test_a_responses_request_carries_every_option(
    responses: OpenAIProvider, primary: StubProvider
) -> None:
    primary.will(Reply(text='{"summary": "Sunny"}', reasoning_tokens=3))

    completion = await responses.complete(
        asking(temperature=0.3, thinking=True, effort="high", tools=[WEATHER], output=ANSWER)
    )

    [sent] = primary.received
    assert sent.body["instructions"] == "Be brief."
    assert sent.body["input"] == [{"role": "user", "content": "Weather in Oslo?"}]
    assert sent.body["max_output_tokens"] == 200
    assert sent.body["temperature"] == 0.3
    assert sent.body["store"] is False
    assert sent.body["reasoning"] == {"effort": "high"}
    assert sent.body["include"] == ["reasoning.encrypted_content"]
    assert sent.body["text"] == {
        "format": {
            "type": "json_schema",
            "name": "forecast",
            "schema": ANSWER.schema,
            "strict": False,
        }
    }
    assert sent.body["tools"] == [
        {
            "type": "function",
            "name": "weather",
            "description": "Today's weather in a city.",
            "parameters": WEATHER.parameters,
            "strict": False,
        }
    ]
    assert sent.body["tool_choice"] == "auto"
    assert completion.text == '{"summary": "Sunny"}'
    assert completion.finish_reason == "stop"
    assert completion.usage.reasoning_tokens == 3


async def test_a_plain_responses_request_leaves_the_options_out(
    responses: OpenAIProvider, primary: StubProvider
) -> None:
    await responses.complete(
        ProviderCall(model="gpt-4.1", messages=[QUESTION], system=None, max_tokens=10)
    )

    [sent] = primary.received
    assert set(sent.body) == {"model", "input", "max_output_tokens", "store"}


async def test_a_tool_call_turn_goes_back_with_its_reasoning_and_results(
    responses: OpenAIProvider, primary: StubProvider
) -> None:
    primary.will(OSLO, Reply(text="Clear, 12°C."))

    first = await responses.complete(asking(thinking=True, tools=[WEATHER]))
    second = await responses.complete(asking(stepped(first), thinking=True, tools=[WEATHER]))

    assert first.finish_reason == "tool_calls"
    assert first.tool_calls == (
        ToolUse(id="call_stub_0", name="weather", arguments=json.dumps({"city": "Oslo"})),
    )
    assert first.usage == TokenUsage(
        input_tokens=100, output_tokens=30, cache_read_tokens=40, reasoning_tokens=12
    )
    assert [item["type"] for item in first.native] == ["reasoning", "message", "function_call"]
    assert (second.text, second.finish_reason) == ("Clear, 12°C.", "stop")
    # The turn goes back as it came (the encrypted reasoning too, the unstored IDs not),
    # then the tool's result.
    input_items = primary.received[1].body["input"]
    assert input_items[1:-1] == [
        {key: value for key, value in item.items() if key != "id"} for item in first.native
    ]
    assert input_items[1]["encrypted_content"]
    assert input_items[-1] == {
        "type": "function_call_output",
        "call_id": "call_stub_0",
        "output": "12°C, clear",
    }


async def test_reasoning_without_its_encrypted_content_stays_behind(
    responses: OpenAIProvider, primary: StubProvider
) -> None:
    primary.will(OSLO)

    first = await responses.complete(asking(tools=[WEATHER]))
    await responses.complete(asking(stepped(first), tools=[WEATHER]))

    assert first.native[0]["type"] == "reasoning"
    sent = primary.received[1].body["input"]
    assert [item.get("type") for item in sent] == [
        None,
        "message",
        "function_call",
        "function_call_output",
    ]


async def test_a_tool_step_without_native_items_is_rebuilt(
    responses: OpenAIProvider, primary: StubProvider
) -> None:
    call = ToolUse(id="toolu_1", name="weather", arguments='{"city": "Oslo"}')
    step = ToolStep(
        provider="openai",
        text="Let me look.",
        calls=(call,),
        outcomes=(ToolOutcome(id="toolu_1", content="no such city", is_error=True),),
    )

    await responses.complete(asking(step, tools=[WEATHER]))

    assert primary.received[0].body["input"][1:] == [
        {"role": "assistant", "content": "Let me look."},
        {
            "type": "function_call",
            "call_id": "toolu_1",
            "name": "weather",
            "arguments": '{"city": "Oslo"}',
        },
        {"type": "function_call_output", "call_id": "toolu_1", "output": "no such city"},
    ]


async def test_a_result_for_a_call_never_made_is_refused(
    responses: OpenAIProvider, primary: StubProvider
) -> None:
    step = ToolStep(
        provider="openai", text="", calls=(), outcomes=(ToolOutcome(id="call_x", content="?"),)
    )

    with pytest.raises(ProviderRejectedError, match="call_x"):
        await responses.complete(asking(step))


async def test_a_response_stream_yields_text_usage_and_the_tool_calls(
    responses: OpenAIProvider, primary: StubProvider
) -> None:
    primary.will(OSLO)

    chunks = await drained(responses.stream(asking(thinking=True, tools=[WEATHER])))

    assert chunks[0] == "Let"
    assert "".join(chunk for chunk in chunks if isinstance(chunk, str)) == "Let me look."
    usage, completion = chunks[-2:]
    assert usage == TokenUsage(
        input_tokens=100, output_tokens=30, cache_read_tokens=40, reasoning_tokens=12
    )
    assert isinstance(completion, Completion)
    assert completion.finish_reason == "tool_calls"
    assert completion.tool_calls == (
        ToolUse(id="call_stub_0", name="weather", arguments='{"city": "Oslo"}'),
    )
    assert primary.received[0].body["stream"] is True


async def test_an_answer_cut_short_says_so(
    responses: OpenAIProvider, chat: OpenAIChatProvider, primary: StubProvider
) -> None:
    primary.default = Reply(output_tokens=50)
    short = asking(max_tokens=10)

    completed = await responses.complete(short)
    streamed = (await drained(responses.stream(short)))[-1]
    chatted = await chat.complete(short)
    chat_streamed = (await drained(chat.stream(short)))[-1]

    assert completed.finish_reason == "max_tokens"
    assert isinstance(streamed, Completion)
    assert streamed.finish_reason == "max_tokens"
    assert chatted.finish_reason == "max_tokens"
    assert isinstance(chat_streamed, Completion)
    assert chat_streamed.finish_reason == "max_tokens"


async def test_a_refusal_says_so(
    responses: OpenAIProvider, chat: OpenAIChatProvider, primary: StubProvider
) -> None:
    primary.default = Reply(refusal="I can't help with that.")

    answers = [
        await responses.complete(asking()),
        (await drained(responses.stream(asking())))[-1],
        await chat.complete(asking()),
        (await drained(chat.stream(asking())))[-1],
    ]

    for answer in answers:
        assert isinstance(answer, Completion)
        assert (answer.text, answer.finish_reason) == ("I can't help with that.", "refusal")


async def test_an_error_event_in_a_response_stream_is_transient(
    responses: OpenAIProvider, primary: StubProvider
) -> None:
    primary.will(Reply(fail_midway=True))
    chunks = responses.stream(asking())

    assert await anext(chunks) == "The"
    with pytest.raises(TransientProviderError, match="server_error"):
        await anext(chunks)


async def test_openai_counts_the_prompt_tokens_and_a_failed_count_is_none(
    responses: OpenAIProvider, chat: OpenAIChatProvider, primary: StubProvider
) -> None:
    counted = await responses.count_tokens(asking(tools=[WEATHER]))
    primary.count_status = 500
    failed = await responses.count_tokens(asking())

    sent = primary.counted[0]
    assert counted == len(json.dumps([sent["instructions"], sent["input"], sent["tools"]])) // 4
    assert failed is None
    assert sent["input"] == [{"role": "user", "content": "Weather in Oslo?"}]
    assert sent["instructions"] == "Be brief."
    assert sent["tools"][0]["name"] == "weather"
    assert "max_output_tokens" not in sent
    assert await chat.count_tokens(asking()) is None
    assert len(primary.counted) == 2
    assert primary.received == []


async def test_a_chat_request_carries_every_option_and_its_tool_steps(
    chat: OpenAIChatProvider, primary: StubProvider
) -> None:
    primary.will(OSLO, Reply(text="Clear."))

    first = await chat.complete(asking(thinking=True, tools=[WEATHER], output=ANSWER))
    second = await chat.complete(asking(stepped(first), tools=[WEATHER], tool_choice="none"))

    sent = primary.received[0].body
    assert sent["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Weather in Oslo?"},
    ]
    assert sent["max_completion_tokens"] == 200
    assert sent["reasoning_effort"] == "medium"
    assert sent["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "weather",
                "description": "Today's weather in a city.",
                "parameters": WEATHER.parameters,
                "strict": False,
            },
        }
    ]
    assert sent["tool_choice"] == "auto"
    assert sent["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "forecast", "schema": ANSWER.schema, "strict": False},
    }
    assert first.finish_reason == "tool_calls"
    assert first.tool_calls == (
        ToolUse(id="call_stub_0", name="weather", arguments='{"city": "Oslo"}'),
    )
    assert first.usage == TokenUsage(
        input_tokens=100, output_tokens=30, cache_read_tokens=40, reasoning_tokens=12
    )
    assert primary.received[1].body["messages"][2:] == [
        {
            "role": "assistant",
            "content": "Let me look.",
            "tool_calls": [
                {
                    "id": "call_stub_0",
                    "type": "function",
                    "function": {"name": "weather", "arguments": '{"city": "Oslo"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_stub_0", "content": "12°C, clear"},
    ]
    assert primary.received[1].body["tool_choice"] == "none"
    assert (second.text, second.finish_reason) == ("Clear.", "stop")


async def test_a_chat_stream_pieces_the_tool_calls_together(
    chat: OpenAIChatProvider, primary: StubProvider
) -> None:
    primary.will(
        Reply(
            text="Both.",
            tool_calls=[("weather", {"city": "Oslo"}), ("weather", {"city": "Bergen"})],
            reasoning_tokens=5,
        )
    )

    chunks = await drained(chat.stream(asking(tools=[WEATHER])))

    completion = chunks[-1]
    assert isinstance(completion, Completion)
    assert completion.text == "Both."
    assert completion.finish_reason == "tool_calls"
    assert completion.tool_calls == (
        ToolUse(id="call_stub_0", name="weather", arguments='{"city": "Oslo"}'),
        ToolUse(id="call_stub_1", name="weather", arguments='{"city": "Bergen"}'),
    )
    assert completion.usage.reasoning_tokens == 5


async def test_chat_completions_answer_when_configured(
    settings: Settings, serve: Serve, primary: StubProvider
) -> None:
    chat_settings = settings.model_copy(update={"openai_api": "chat_completions"})

    async with serve(app_of(chat_settings)) as client:
        response = await client.post(COMPLETE, json={"prompt": "Hi", "system": "Be brief."})

    assert response.status_code == 200
    assert response.json()["text"] == "The quick brown fox"
    [sent] = primary.received
    assert sent.body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
    ]
    assert sent.body["max_completion_tokens"] > 0
