{% set auth = cookiecutter.auth != "none" %}
"""Conversations: stored, sent as history, cut to the context window{{ ", their owner's" if auth }}."""

import json
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.core.llm_types import ModelCapabilities, ProviderName
from {{ cookiecutter.package_name }}.database.models import (
    Conversation,
    ConversationMessage,
    LLMCall,
)
from {{ cookiecutter.package_name }}.models.llm import Message
from {{ cookiecutter.package_name }}.services.llm.conversations import history_of
from {{ cookiecutter.package_name }}.services.llm.providers.base import (
    ToolOutcome,
    ToolStep,
    ToolUse,
)
{% if auth %}
from tests.conftest import Account, sign_up
{% endif %}
from tests.llm.conftest import SECOND_MODEL, sse_events
from tests.llm.stub import Reply, StubProvider

CONVERSATIONS = "/api/v1/conversations"
ANSWER = "The quick brown fox"


async def start_conversation(client: AsyncClient, **fields: Any) -> str:
    response = await client.post(CONVERSATIONS, json={"title": "Foxes", **fields})
    assert response.status_code == 201, response.text
    conversation_id: str = response.json()["id"]
    return conversation_id


async def say(client: AsyncClient, conversation_id: str, content: str, **options: Any) -> Any:
    url = f"{CONVERSATIONS}/{conversation_id}/messages"
    response = await client.post(url, json={"content": content, **options})
    assert response.status_code == 200, response.text
    return response.json()


def turns_sent(body: dict[str, Any]) -> list[tuple[str, str]]:
    """The (role, text) turns a provider was sent, whichever API it speaks."""
    sent = []
    for item in body.get("messages") or body.get("input") or []:
        if item.get("role") not in {"user", "assistant"}:
            continue
        content = item["content"]
        if isinstance(content, list):
            content = "".join(block.get("text", "") for block in content)
        sent.append((item["role"], content))
    return sent


async def test_each_reply_is_stored_and_sent_with_the_conversation_so_far(
    client: AsyncClient, primary: StubProvider, session: AsyncSession
) -> None:
    primary.will(Reply(text=ANSWER, input_tokens=30, output_tokens=4), Reply(text="It jumps"))
    conversation_id = await start_conversation(client, system="Answer briefly.")

    first = await say(client, conversation_id, "Tell me about foxes")
    await say(client, conversation_id, "And then?")

    assert first["role"] == "assistant"
    assert (first["content"], first["position"]) == (ANSWER, 1)
    assert (first["input_tokens"], first["output_tokens"]) == (30, 4)
    calls = (await session.scalars(select(LLMCall).order_by(LLMCall.created_at))).all()
    assert first["cost"] == pytest.approx(calls[0].cost)
    assert first["cost"] > 0
    assert (first["provider"], first["model"]) == (calls[0].provider, calls[0].model)
    assert turns_sent(primary.received[1].body) == [
        ("user", "Tell me about foxes"),
        ("assistant", ANSWER),
        ("user", "And then?"),
    ]
    assert "Answer briefly." in str(primary.received[1].body)


async def test_a_conversation_is_read_with_a_page_of_its_messages(
    client: AsyncClient, primary: StubProvider
) -> None:
    conversation_id = await start_conversation(client)
    await say(client, conversation_id, "One")
    await say(client, conversation_id, "Two")

    first = (await client.get(f"{CONVERSATIONS}/{conversation_id}", params={"limit": 3})).json()
    rest = await client.get(f"{CONVERSATIONS}/{conversation_id}", params={"offset": 3})

    assert first["title"] == "Foxes"
    assert first["messages"]["total"] == 4
    assert [m["content"] for m in first["messages"]["items"]] == ["One", ANSWER, "Two"]
    assert [m["role"] for m in first["messages"]["items"]] == ["user", "assistant", "user"]
    assert [m["position"] for m in rest.json()["messages"]["items"]] == [3]


async def test_conversations_are_listed_a_page_at_a_time(client: AsyncClient) -> None:
    for title in ("one", "two", "three"):
        await start_conversation(client, title=title)

    page = (await client.get(CONVERSATIONS, params={"limit": 2, "offset": 1})).json()

    assert page["total"] == 3
    assert [item["title"] for item in page["items"]] == ["two", "three"]


@pytest.mark.parametrize(("model", "status"), [("no-such-model", 400), ("gpt\x00", 422)])
async def test_a_conversation_with_a_model_no_provider_offers_is_refused(
    client: AsyncClient, session: AsyncSession, model: str, status: int
) -> None:
    response = await client.post(CONVERSATIONS, json={"title": "Foxes", "model": model})

    assert response.status_code == status
    assert "model" in response.text
    assert await session.scalar(select(func.count()).select_from(Conversation)) == 0


async def test_deleting_a_conversation_deletes_its_messages(
    client: AsyncClient, primary: StubProvider, session: AsyncSession
) -> None:
    conversation_id = await start_conversation(client)
    await say(client, conversation_id, "Hello")

    deleted = await client.delete(f"{CONVERSATIONS}/{conversation_id}")

    assert deleted.status_code == 204
    assert (await client.get(f"{CONVERSATIONS}/{conversation_id}")).status_code == 404
    assert await session.scalar(select(func.count()).select_from(ConversationMessage)) == 0


async def test_a_conversation_keeps_tool_calls_and_structured_answers_streamed_or_not(
    live: AsyncClient, primary: StubProvider
) -> None:
    time_call = ("current_time", {"utc_offset_minutes": 60})
    primary.will(
        Reply(text="", tool_calls=[time_call]),
        Reply(text='{"city": "Paris"}'),
        Reply(text="", tool_calls=[time_call]),
        Reply(text="Still Paris"),
    )
    city = {
        "name": "city",
        "json_schema": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    }
    conversation_id = await start_conversation(live)
    url = f"{CONVERSATIONS}/{conversation_id}/messages"

    first = await say(
        live, conversation_id, "Where and when?", tools=["current_time"], response_format=city
    )
    async with live.stream(
        "POST", f"{url}/stream", json={"content": "And now?", "tools": ["current_time"]}
    ) as response:
        events = [event async for event in sse_events(response)]

    assert first["content"] == '{"city": "Paris"}'
    [first_call] = first["tool_calls"]
    assert first["tool_results"][0]["id"] == first_call["id"]
    assert [name for name, _ in events][:2] == ["tool_call", "tool_result"]
    assert events[-1][0] == "usage"
    # The second reply's first request carries the first exchange's tool call and result.
    history = json.dumps(primary.received[2].body)
    assert first_call["id"] in history
    assert first["tool_results"][0]["content"] in history
    messages = (await live.get(f"{CONVERSATIONS}/{conversation_id}")).json()["messages"]
    stored = messages["items"]
    assert [m["role"] for m in stored] == ["user", "assistant", "user", "assistant"]
    assert stored[3]["content"] == "Still Paris"
    assert [call["name"] for call in stored[3]["tool_calls"]] == ["current_time"]
    assert stored[3]["tool_results"][0]["content"].endswith("+01:00")


async def test_a_streamed_reply_is_stored_once_it_is_complete(
    live: AsyncClient, primary: StubProvider
) -> None:
    primary.will(Reply(text=ANSWER, input_tokens=30, output_tokens=4), Reply(fail_midway=True))
    conversation_id = await start_conversation(live)
    url = f"{CONVERSATIONS}/{conversation_id}/messages"

    async with live.stream("POST", f"{url}/stream", json={"content": "Foxes?"}) as response:
        events = [event async for event in sse_events(response)]
    async with live.stream("POST", f"{url}/stream", json={"content": "More?"}) as response:
        failed = [name async for name, _ in sse_events(response)]

    assert "".join(data["text"] for name, data in events if name == "delta") == ANSWER
    assert events[-1][0] == "usage"
    assert failed[-1] == "error"
    messages = (await live.get(f"{CONVERSATIONS}/{conversation_id}")).json()["messages"]
    assert [m["content"] for m in messages["items"]] == ["Foxes?", ANSWER]
    assert (messages["items"][1]["input_tokens"], messages["items"][1]["output_tokens"]) == (30, 4)
    assert messages["items"][1]["cost"] == pytest.approx(events[-1][1]["cost"])


@pytest.fixture
def settings(settings: Settings, providers: list[ProviderName]) -> Settings:
    """The second model has a context window of 1,024 tokens."""
    tiny = ModelCapabilities(context_window=1_024)
    models = settings.llm_models | {SECOND_MODEL[providers[0]]: tiny}
    return settings.model_copy(update={"llm_models": models})


async def test_the_oldest_exchanges_are_left_out_when_the_context_window_is_full(
    client: AsyncClient, primary: StubProvider, providers: list[ProviderName]
) -> None:
    conversation_id = await start_conversation(client, model=SECOND_MODEL[providers[0]])
    # About 250 tokens each: the budget (1,024 less max_tokens and a margin) holds two.
    long = ["one " * 250, "two " * 250, "three " * 170]
    for content in long:
        await say(client, conversation_id, content.strip(), max_tokens=100)

    await say(client, conversation_id, "And now?", max_tokens=100)

    sent = turns_sent(primary.received[-1].body)
    assert sent == [
        ("user", long[1].strip()),
        ("assistant", ANSWER),
        ("user", long[2].strip()),
        ("assistant", ANSWER),
        ("user", "And now?"),
    ]
    stored = (await client.get(f"{CONVERSATIONS}/{conversation_id}")).json()["messages"]
    assert stored["total"] == 8


async def test_a_message_too_long_for_the_context_window_is_a_400(
    client: AsyncClient, primary: StubProvider, providers: list[ProviderName]
) -> None:
    conversation_id = await start_conversation(client, model=SECOND_MODEL[providers[0]])

    url = f"{CONVERSATIONS}/{conversation_id}/messages"
    response = await client.post(url, json={"content": "word " * 1_000, "max_tokens": 100})

    assert response.status_code == 400
    assert "context window" in response.json()["detail"]
    assert primary.received == []


def test_an_answer_that_called_tools_comes_back_as_its_tool_step() -> None:
    call = {"id": "call_1", "name": "clock", "arguments": "{}"}
    result = {"id": "call_1", "name": "clock", "content": "12:00", "is_error": False}
    stored = [
        ConversationMessage(role="user", content="Time?", tool_calls=[], tool_results=[]),
        ConversationMessage(
            role="assistant",
            content="Noon.",
            provider="fake",
            tool_calls=[call],
            tool_results=[result],
        ),
    ]

    assert history_of(stored) == [
        Message(role="user", content="Time?"),
        ToolStep(
            provider="fake",
            text="",
            calls=(ToolUse(id="call_1", name="clock", arguments="{}"),),
            outcomes=(ToolOutcome(id="call_1", content="12:00"),),
        ),
        Message(role="assistant", content="Noon."),
    ]
{% if auth %}


async def test_a_conversation_is_reached_by_its_owner_and_admins_only(
    client: AsyncClient, primary: StubProvider
) -> None:
    alice: Account = await sign_up(client, "alice@example.com")
    bob: Account = await sign_up(client, "bob@example.com")
    conversation_id = await start_conversation(client, title="The admin's")
    response = await client.post(CONVERSATIONS, json={"title": "Mine"}, headers=alice.headers)
    mine = response.json()["id"]
    url = f"{CONVERSATIONS}/{mine}"

    responses = [
        await client.get(url, headers=bob.headers),
        await client.post(f"{url}/messages", json={"content": "Hi"}, headers=bob.headers),
        await client.delete(url, headers=bob.headers),
        await client.get(f"{CONVERSATIONS}/{conversation_id}", headers=alice.headers),
    ]

    for response in responses:
        assert response.status_code == 404, response.text
    assert primary.received == []
    assert response.json()["detail"] == f"No conversation with ID {conversation_id}."
    listed = (await client.get(CONVERSATIONS, headers=bob.headers)).json()
    assert listed["total"] == 0
    own = (await client.get(CONVERSATIONS, headers=alice.headers)).json()
    assert [item["title"] for item in own["items"]] == ["Mine"]
    assert own["items"][0]["owner_id"] == alice.id
    assert (await client.get(url)).status_code == 200  # the admin
    assert (await client.get(CONVERSATIONS)).json()["total"] == 2
{% endif %}
