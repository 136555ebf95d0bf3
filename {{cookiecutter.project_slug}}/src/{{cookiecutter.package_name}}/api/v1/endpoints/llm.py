"""Completions from the configured LLM providers, as JSON or as Server-Sent Events; the
tools the model may call{{ "; their usage" if cookiecutter.database != "none" }}."""

from collections.abc import AsyncIterator
from typing import Annotated

{% if cookiecutter.database != "none" %}
from fastapi import APIRouter, Depends, Query
{% else %}
from fastapi import APIRouter, Depends
{% endif %}
from fastapi.sse import EventSourceResponse, ServerSentEvent

from {{ cookiecutter.package_name }}.api.v1.events import (
    OpenedStream,
    opened,
    server_sent,
    stream_response,
)
{% if cookiecutter.auth != "none" %}
from {{ cookiecutter.package_name }}.core import authorization
{% endif %}
{% if cookiecutter.auth != "none" and cookiecutter.database != "none" %}
from {{ cookiecutter.package_name }}.core.dependencies import (
    CallerIdDep,
    LLMServiceDep,
    ToolboxDep,
    UsageReportsDep,
    UsageScopeDep,
    require_scopes,
)
{% elif cookiecutter.auth != "none" %}
from {{ cookiecutter.package_name }}.core.dependencies import (
    CallerIdDep,
    LLMServiceDep,
    ToolboxDep,
    require_scopes,
)
{% elif cookiecutter.database != "none" %}
from {{ cookiecutter.package_name }}.core.dependencies import (
    CallerIdDep,
    LLMServiceDep,
    ToolboxDep,
    UsageReportsDep,
    UsageScopeDep,
)
{% else %}
from {{ cookiecutter.package_name }}.core.dependencies import CallerIdDep, LLMServiceDep, ToolboxDep
{% endif %}
from {{ cookiecutter.package_name }}.core.errors import problem_responses
from {{ cookiecutter.package_name }}.models.llm import (
    LLMRequest,
    LLMResponse,
    ToolInfo,
{% if cookiecutter.database != "none" %}
    UsageQuery,
    UsageReport,
{% endif %}
)

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

LLM_PROBLEMS = (400, 422, 429, 502, 503, 504)


@router.post(
    "/complete",
    summary="Complete a prompt or a conversation",
    responses=problem_responses(*LLM_PROBLEMS),
)
async def complete(
    body: LLMRequest, llm: LLMServiceDep, caller: CallerIdDep, toolbox: ToolboxDep
) -> LLMResponse:
    """The model's answer, after any tools it called (listed with their results)."""
    return await llm.complete(body, caller, toolbox=toolbox)


async def open_stream(
    body: LLMRequest, llm: LLMServiceDep, caller: CallerIdDep, toolbox: ToolboxDep
) -> AsyncIterator[OpenedStream]:
    async with opened(llm.stream(body, caller, toolbox=toolbox)) as stream:
        yield stream


@router.post(
    "/stream",
    summary="Complete a prompt or a conversation, streamed",
    response_class=EventSourceResponse,
    responses={200: stream_response(), **problem_responses(*LLM_PROBLEMS)},
)
async def stream(
    events: Annotated[OpenedStream, Depends(open_stream)],
) -> AsyncIterator[ServerSentEvent]:
    async for event in server_sent(events):
        yield event


@router.get("/tools", summary="The tools the model may call")
async def list_tools(llm: LLMServiceDep) -> list[ToolInfo]:
    """Name them in a request's `tools` to let the model call them."""
    return llm.tools
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
