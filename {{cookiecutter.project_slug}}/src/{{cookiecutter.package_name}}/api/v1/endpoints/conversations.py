{% set auth = cookiecutter.auth != "none" %}
{% if auth %}
"""Conversations with a model, kept with their messages; a user's own (an admin's: anyone's)."""
{% else %}
"""Conversations with a model, kept with their messages."""
{% endif %}

from collections.abc import AsyncIterator
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, status
from fastapi.sse import EventSourceResponse, ServerSentEvent

from {{ cookiecutter.package_name }}.api.v1.events import (
    OpenedStream,
    opened,
    server_sent,
    stream_response,
)
{% if auth %}
from {{ cookiecutter.package_name }}.core.authorization import Scope
from {{ cookiecutter.package_name }}.core.dependencies import (
    ConversationServiceDep,
    ToolboxDep,
    require_scopes,
)
{% else %}
from {{ cookiecutter.package_name }}.core.dependencies import ConversationServiceDep, ToolboxDep
{% endif %}
from {{ cookiecutter.package_name }}.core.errors import problem_responses
from {{ cookiecutter.package_name }}.models.conversations import (
    ConversationCreate,
    ConversationDetail,
    ConversationMessagePage,
    ConversationMessageResponse,
    ConversationPage,
    ConversationReply,
    ConversationResponse,
)
from {{ cookiecutter.package_name }}.models.requests import PageQuery

{% if auth %}
router = APIRouter(
    prefix="/conversations",
    tags=["conversations"],
    dependencies=[Depends(require_scopes(Scope.LLM))],
    responses=problem_responses(401, 403, 429, 503),
)
{% else %}
router = APIRouter(
    prefix="/conversations", tags=["conversations"], responses=problem_responses(503)
)
{% endif %}


@router.post("", status_code=status.HTTP_201_CREATED, summary="Start a conversation")
async def create_conversation(
    body: ConversationCreate, conversations: ConversationServiceDep
) -> ConversationResponse:
    return ConversationResponse.model_validate(await conversations.create(body))


{% if auth %}
@router.get("", summary="List your conversations (an admin: anyone's), oldest first")
{% else %}
@router.get("", summary="List conversations, oldest first")
{% endif %}
async def list_conversations(
    query: Annotated[PageQuery, Query()], conversations: ConversationServiceDep
) -> ConversationPage:
    found, total = await conversations.get_page(query)
    return ConversationPage(
        items=[ConversationResponse.model_validate(conversation) for conversation in found],
        total=total,
        limit=query.limit,
        offset=query.offset,
    )


@router.get(
    "/{conversation_id}",
    summary="Get a conversation with a page of its messages, oldest first",
    responses=problem_responses(404),
)
async def get_conversation(
    conversation_id: UUID,
    query: Annotated[PageQuery, Query()],
    conversations: ConversationServiceDep,
) -> ConversationDetail:
    conversation, messages, total = await conversations.get(conversation_id, query)
    page = ConversationMessagePage(
        items=[ConversationMessageResponse.model_validate(message) for message in messages],
        total=total,
        limit=query.limit,
        offset=query.offset,
    )
    summary = ConversationResponse.model_validate(conversation)
    return ConversationDetail(**summary.model_dump(), messages=page)


@router.delete(
    "/{conversation_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a conversation and its messages",
    responses=problem_responses(404),
)
async def delete_conversation(conversation_id: UUID, conversations: ConversationServiceDep) -> None:
    await conversations.delete(conversation_id)


REPLY_PROBLEMS = (400, 404, 409, 422, 429, 502, 503, 504)


@router.post(
    "/{conversation_id}/messages",
    summary="Send the next message; the answer is stored with it",
    responses=problem_responses(*REPLY_PROBLEMS),
)
async def reply(
    conversation_id: UUID,
    body: ConversationReply,
    conversations: ConversationServiceDep,
    toolbox: ToolboxDep,
) -> ConversationMessageResponse:
    """The model answers with the conversation so far (its oldest messages left out when
    they do not fit the model's context window). Both messages are stored once the answer
    is complete.
    """
    answer = await conversations.reply(conversation_id, body, toolbox)
    return ConversationMessageResponse.model_validate(answer)


async def open_reply_stream(
    conversation_id: UUID,
    body: ConversationReply,
    conversations: ConversationServiceDep,
    toolbox: ToolboxDep,
) -> AsyncIterator[OpenedStream]:
    async with opened(conversations.stream_reply(conversation_id, body, toolbox)) as stream:
        yield stream


@router.post(
    "/{conversation_id}/messages/stream",
    summary="Send the next message; the answer is streamed, then stored with it",
    response_class=EventSourceResponse,
    responses={200: stream_response(), **problem_responses(*REPLY_PROBLEMS)},
)
async def stream_reply(
    events: Annotated[OpenedStream, Depends(open_reply_stream)],
) -> AsyncIterator[ServerSentEvent]:
    """As `POST /conversations/{conversation_id}/messages`, as Server-Sent Events. Both
    messages are stored before the `usage` event; a stream that fails or that the client
    leaves stores nothing.
    """
    async for event in server_sent(events):
        yield event
