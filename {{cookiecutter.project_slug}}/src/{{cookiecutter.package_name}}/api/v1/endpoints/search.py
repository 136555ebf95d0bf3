{% set auth = cookiecutter.auth != "none" %}
"""Hybrid search over the documents, and answers with sources."""

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.sse import EventSourceResponse, ServerSentEvent

from {{ cookiecutter.package_name }}.api.v1.events import (
    OpenedStream,
    opened,
    server_sent,
    stream_response,
)
{% if auth %}
from {{ cookiecutter.package_name }}.core.authorization import Scope
from {{ cookiecutter.package_name }}.core.dependencies import RagServiceDep, require_scopes
{% else %}
from {{ cookiecutter.package_name }}.core.dependencies import RagServiceDep
{% endif %}
from {{ cookiecutter.package_name }}.core.errors import problem_responses
from {{ cookiecutter.package_name }}.models.rag import (
    AnswerRequest,
    AnswerSources,
    SearchRequest,
    SearchResponse,
)
from {{ cookiecutter.package_name }}.services.rag.service import Answer

{% if auth %}
router = APIRouter(
    tags=["rag"],
    dependencies=[Depends(require_scopes(Scope.LLM))],
    responses=problem_responses(401, 403, 429, 503),
)
{% else %}
router = APIRouter(tags=["rag"], responses=problem_responses(503))
{% endif %}
SOURCES_DESCRIPTION = (
    " Last, one `sources` event: the numbered sources the model was given and the "
    "numbers it cited (`found` false when nothing relevant was found: then the one "
    "`delta` says so, and no model is asked)."
)


def _inlined(schema: Any, definitions: dict[str, Any]) -> Any:
    """``schema`` with its references to ``definitions`` replaced by what they name."""
    if isinstance(schema, dict):
        if (reference := schema.get("$ref", "")).startswith("#/$defs/"):
            return _inlined(definitions[reference.removeprefix("#/$defs/")], definitions)
        return {key: _inlined(value, definitions) for key, value in schema.items()}
    if isinstance(schema, list):
        return [_inlined(item, definitions) for item in schema]
    return schema


def answer_response() -> dict[str, Any]:
    """The answer's OpenAPI description: the stream's events, then the ``sources`` one."""
    described = stream_response()
    schema = AnswerSources.model_json_schema(mode="serialization")
    data = {
        "type": "string",
        "contentMediaType": "application/json",
        "contentSchema": _inlined(schema, schema.pop("$defs", {})),
    }
    described["content"]["text/event-stream"]["itemSchema"]["oneOf"].append(
        {
            "type": "object",
            "required": ["event", "data"],
            "properties": {"event": {"const": "sources"}, "data": data},
        }
    )
    described["description"] += SOURCES_DESCRIPTION
    return described


@router.post(
    "/search", summary="Find chunks by meaning and by words", responses=problem_responses(422)
)
async def search(body: SearchRequest, rag: RagServiceDep) -> SearchResponse:
    """The `top_k` best chunks of the collection: the nearest by embedding and those
    matching the query's words, fused by reciprocal rank fusion.
    """
    return SearchResponse(hits=await rag.search(body))


async def open_answer(
    body: AnswerRequest, rag: RagServiceDep
) -> AsyncIterator[tuple[OpenedStream, Answer]]:
    answer = await rag.answer(body)
    async with opened(answer.events) as stream:
        yield stream, answer


@router.post(
    "/rag/answer",
    summary="Answer a question from the documents, with sources, streamed",
    response_class=EventSourceResponse,
    responses={200: answer_response(), **problem_responses(400, 422, 502, 504)},
)
async def answer(
    opened_answer: Annotated[tuple[OpenedStream, Answer], Depends(open_answer)],
) -> AsyncIterator[ServerSentEvent]:
    stream, answer = opened_answer
    async for event in server_sent(stream):
        yield event
    yield ServerSentEvent(event="sources", raw_data=answer.cited().model_dump_json())
