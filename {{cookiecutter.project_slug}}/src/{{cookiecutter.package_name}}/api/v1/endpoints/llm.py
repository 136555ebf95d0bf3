"""Completions from the configured LLM providers, as JSON or as Server-Sent Events{{ "; their usage" if cookiecutter.database != "none" }}."""

from collections.abc import AsyncGenerator
{% if cookiecutter.database != "none" %}
from typing import Annotated
{% endif %}

{% if cookiecutter.auth != "none" %}
from fastapi import APIRouter, Depends, Query
{% elif cookiecutter.database != "none" %}
from fastapi import APIRouter, Query
{% else %}
from fastapi import APIRouter
{% endif %}
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

{% if cookiecutter.auth != "none" %}
from {{ cookiecutter.package_name }}.core import authorization
from {{ cookiecutter.package_name }}.core.dependencies import (
    CallerIdDep,
    LLMServiceDep,
    UsageReportsDep,
    UsageScopeDep,
    require_scopes,
)
{% elif cookiecutter.database != "none" %}
from {{ cookiecutter.package_name }}.core.dependencies import (
    CallerIdDep,
    LLMServiceDep,
    UsageReportsDep,
    UsageScopeDep,
)
{% else %}
from {{ cookiecutter.package_name }}.core.dependencies import CallerIdDep, LLMServiceDep
{% endif %}
from {{ cookiecutter.package_name }}.core.errors import problem_responses
from {{ cookiecutter.package_name }}.models.llm import (
    LLMRequest,
    LLMResponse,
    StreamDelta,
    StreamUsage,
{% if cookiecutter.database != "none" %}
    UsageQuery,
    UsageReport,
{% endif %}
)
from {{ cookiecutter.package_name }}.services.llm.providers.base import cleanup_scope
from {{ cookiecutter.package_name }}.services.llm.service import StreamEvent

{% if cookiecutter.auth != "none" %}
router = APIRouter(
    prefix="/llm",
    tags=["llm"],
    dependencies=[Depends(require_scopes(authorization.Scope.LLM))],
    responses=problem_responses(401, 403, 429),
)
{% else %}
router = APIRouter(prefix="/llm", tags=["llm"])
{% endif %}

# No caching, and no buffering by a proxy (nginx) in front.
STREAM_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}

STREAM_DESCRIPTION = (
    "With `stream: true`, Server-Sent Events: `delta` events carrying the next piece of "
    "text, then one `usage` event with the usage and cost; or, if the provider fails "
    "midway, one `error` event carrying a problem."
)


def _frame(event: StreamEvent) -> bytes:
    if isinstance(event, StreamDelta):
        name = "delta"
    elif isinstance(event, StreamUsage):
        name = "usage"
    else:
        name = "error"
    return f"event: {name}\ndata: {event.model_dump_json(exclude_none=True)}\n\n".encode()


class EventStreamResponse(StreamingResponse):
    """Server-Sent Events that always close their source, even when the client left early.

    Closing the source cancels the provider's stream: no request upstream
    outlives the client's.
    """

    media_type = "text/event-stream"

    def __init__(self, first: StreamEvent, events: AsyncGenerator[StreamEvent]) -> None:
        self._events = events
        self._frames = self._encode(first)
        super().__init__(self._frames, headers=STREAM_HEADERS)

    async def _encode(self, first: StreamEvent) -> AsyncGenerator[bytes]:
        yield _frame(first)
        async for event in self._events:
            yield _frame(event)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            with cleanup_scope():
                await self._frames.aclose()
                await self._events.aclose()


async def event_stream(events: AsyncGenerator[StreamEvent]) -> EventStreamResponse:
    """``events`` as Server-Sent Events. Failures before the first event are raised:
    they still get a proper status code and problem.
    """
    first = await anext(events)
    return EventStreamResponse(first, events)


@router.post(
    "/complete",
    summary="Complete a prompt or a conversation",
    response_model=LLMResponse,
    responses={
        200: {"content": {"text/event-stream": {}}, "description": STREAM_DESCRIPTION},
        **problem_responses(400, 429, 503, 504),
    },
)
async def complete(
    body: LLMRequest, llm: LLMServiceDep, caller: CallerIdDep
) -> LLMResponse | EventStreamResponse:
    if not body.stream:
        return await llm.complete(body, caller)
    return await event_stream(llm.stream(body, caller))
{% if cookiecutter.database != "none" %}


@router.get(
    "/usage",
    summary="Requests, tokens, cost, errors and cache hits per day and model",
    responses=problem_responses(503),
)
async def get_usage(
    query: Annotated[UsageQuery, Query()], usage: UsageReportsDep, scope: UsageScopeDep
) -> UsageReport:
{% if cookiecutter.auth != "none" %}
    """The caller's calls of the LLM endpoints (an admin's: everyone's), added up per UTC
    day and model.
    """
{% else %}
    """The caller's calls of the LLM endpoints, added up per UTC day and model."""
{% endif %}
    return await usage.report(query, scope)
{% endif %}
