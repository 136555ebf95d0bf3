"""The LLM's answers as Server-Sent Events, for every endpoint that streams them."""

from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi.sse import ServerSentEvent

from {{ cookiecutter.package_name }}.core.problems import ProblemDetail
from {{ cookiecutter.package_name }}.models.llm import StreamDelta, StreamUsage, ToolCall, ToolResult
from {{ cookiecutter.package_name }}.services.llm.providers.base import cleanup_scope
from {{ cookiecutter.package_name }}.services.llm.service import StreamEvent

OpenedStream = tuple[StreamEvent, AsyncGenerator[StreamEvent]]
EVENT_NAMES: dict[type[StreamEvent], str] = {
    StreamDelta: "delta",
    ToolCall: "tool_call",
    ToolResult: "tool_result",
    StreamUsage: "usage",
    ProblemDetail: "error",
}
STREAM_DESCRIPTION = (
    "Server-Sent Events: `delta` events carrying the next piece of text; when the model "
    "calls tools, a `tool_call` event for each call and a `tool_result` event for what "
    "the tool gave back, before the model goes on; then one `usage` event with the usage "
    "and cost of every turn (and, with `response_format`, the parsed `output`). If the "
    "answer fails midway, one `error` event carrying a problem instead. While the model "
    "is silent, `: ping` comments keep the connection open."
)


def stream_response() -> dict[str, Any]:
    """The stream's OpenAPI description: an item schema per event (OpenAPI 3.2's
    ``itemSchema``), its ``data`` being the JSON of the event's model."""
    events = []
    for model, name in EVENT_NAMES.items():
        schema = model.model_json_schema(
            mode="serialization", ref_template="#/components/schemas/{model}"
        )
        schema.pop("$defs", None)  # each is a component of the API's schema already
        data = {"type": "string", "contentMediaType": "application/json", "contentSchema": schema}
        events.append(
            {
                "type": "object",
                "required": ["event", "data"],
                "properties": {"event": {"const": name}, "data": data},
            }
        )
    return {
        "description": STREAM_DESCRIPTION,
        "content": {"text/event-stream": {"itemSchema": {"oneOf": events}}},
    }


@asynccontextmanager
async def opened(events: AsyncGenerator[StreamEvent]) -> AsyncIterator[OpenedStream]:
    """The stream with its first event awaited (in a dependency, so that a failure
    before it still gets its status code and problem), and closed on exit (which
    cancels the provider's stream when the client leaves early).
    """
    try:
        first = await anext(events)
        yield first, events
    finally:
        with cleanup_scope():
            await events.aclose()


async def server_sent(stream: OpenedStream) -> AsyncIterator[ServerSentEvent]:
    first, events = stream
    yield _event(first)
    async for event in events:
        yield _event(event)


def _event(event: StreamEvent) -> ServerSentEvent:
    return ServerSentEvent(
        event=EVENT_NAMES[type(event)], raw_data=event.model_dump_json(exclude_none=True)
    )
