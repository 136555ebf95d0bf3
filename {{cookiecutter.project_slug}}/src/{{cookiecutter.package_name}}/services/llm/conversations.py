{% set auth = cookiecutter.auth != "none" %}
"""Conversations: their messages stored, and each reply answered with the history before it.

A reply loads the conversation's latest messages, cuts them to fit the model's context
window (``services/llm/context.py``), asks the model, then stores the user's message and
the answer (its tool calls and results, usage and cost) together. Each step is a unit of
work of its own: no database connection is held while the model answers.
{% if auth %}

A user reaches only their own conversations, an admin everyone's. A conversation of
someone else is "not found" (404), so that its existence is not revealed.
{% endif %}
"""

from collections.abc import AsyncGenerator, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Literal, Self, cast
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

{% if auth %}
from {{ cookiecutter.package_name }}.core.authorization import Principal
{% endif %}
from {{ cookiecutter.package_name }}.core.clock import utc_now
from {{ cookiecutter.package_name }}.core.errors import AppError, NotFoundError
from {{ cookiecutter.package_name }}.core.llm_types import ProviderName
from {{ cookiecutter.package_name }}.database.models import Conversation, ConversationMessage
from {{ cookiecutter.package_name }}.database.repository import (
    ConversationMessageRepository,
    ConversationRepository,
)
from {{ cookiecutter.package_name }}.database.session import unit_of_work
from {{ cookiecutter.package_name }}.models.conversations import (
    ConversationCreate,
    ConversationReply,
)
from {{ cookiecutter.package_name }}.models.llm import (
    LLMRequest,
    LLMResponse,
    Message,
    StreamDelta,
    StreamUsage,
    ToolCall,
    ToolResult,
)
from {{ cookiecutter.package_name }}.models.requests import PageQuery
from {{ cookiecutter.package_name }}.services.audit_trail import AuditTrail
from {{ cookiecutter.package_name }}.services.llm.context import fit_history
from {{ cookiecutter.package_name }}.services.llm.providers.base import (
    ToolOutcome,
    ToolStep,
    ToolUse,
    Turn,
)
from {{ cookiecutter.package_name }}.services.llm.service import (
    LLMService,
    StreamEvent,
    problem_event,
)
from {{ cookiecutter.package_name }}.services.llm.tools import Toolbox

MAX_HISTORY_MESSAGES = 200
"""The most stored messages a reply loads; older ones are never sent."""


@dataclass(frozen=True, slots=True)
class Answer:
    """What the model answered, as it is stored."""

    text: str
    provider: str
    model: str
    input_tokens: int
    output_tokens: int
    cost: float
    tool_calls: Sequence[ToolCall] = field(default=())
    tool_results: Sequence[ToolResult] = field(default=())

    @classmethod
    def of(cls, response: LLMResponse) -> Self:
        return cls(
            text=response.text,
            provider=response.provider,
            model=response.model,
            input_tokens=response.usage.input_tokens,
            output_tokens=response.usage.output_tokens,
            cost=response.cost,
            tool_calls=response.tool_calls,
            tool_results=response.tool_results,
        )


def history_of(messages: Sequence[ConversationMessage]) -> list[Turn]:
    """Stored messages as the model's turns, starting with a user's.

    An answer that called tools comes back as the step that called them, then its text.
    """
    turns: list[Turn] = []
    for message in messages:
        if not turns and message.role != "user":
            continue  # the loaded messages start in the middle of an exchange
        if message.tool_calls:
            turns.append(_tool_step(message))
        if message.content:
            turns.append(Message(role=_role(message), content=message.content))
    return turns


def _role(message: ConversationMessage) -> Literal["user", "assistant"]:
    return "user" if message.role == "user" else "assistant"


def _tool_step(message: ConversationMessage) -> ToolStep:
    calls = [ToolCall.model_validate(call) for call in message.tool_calls]
    results = [ToolResult.model_validate(result) for result in message.tool_results]
    return ToolStep(
        provider=cast("ProviderName", message.provider),
        text="",
        calls=tuple(
            ToolUse(id=call.id, name=call.name, arguments=call.arguments) for call in calls
        ),
        outcomes=tuple(
            ToolOutcome(id=result.id, content=result.content, is_error=result.is_error)
            for result in results
        ),
    )


class ConversationService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        llm: LLMService,
        caller: str,
{% if auth %}
        principal: Principal,
{% endif %}
    ) -> None:
        self.sessions = sessions
        self.llm = llm
        self.caller = caller
{% if auth %}
        self.principal = principal
{% endif %}

    async def create(self, data: ConversationCreate) -> Conversation:
        self.llm.check_model(data.model)
        async with unit_of_work(self.sessions) as session:
            conversation = Conversation(
{% if auth %}
                owner_id=self.principal.user_id,
{% endif %}
                title=data.title,
                system=data.system,
                model=data.model,
            )
            await ConversationRepository(session).create(conversation)
            await self._audit(session).created(conversation)
        return conversation

    async def get_page(self, query: PageQuery) -> tuple[list[Conversation], int]:
{% if auth %}
        owner_id = None if self.principal.is_admin else self.principal.user_id
        filters = ConversationRepository.filters(owner_id=owner_id)
{% else %}
        filters = ConversationRepository.filters()
{% endif %}
        async with unit_of_work(self.sessions) as session:
            conversations = ConversationRepository(session)
            found = await conversations.get_many(*filters, limit=query.limit, offset=query.offset)
            return found, await conversations.count(*filters)

    async def get(
        self, conversation_id: UUID, query: PageQuery
    ) -> tuple[Conversation, list[ConversationMessage], int]:
        """The conversation, a page of its messages (oldest first), and how many it has."""
        async with unit_of_work(self.sessions) as session:
            conversation = await self._get(session, conversation_id)
            messages = ConversationMessageRepository(session)
            filters = messages.filters(conversation_id=conversation.id)
            page = await messages.get_many(*filters, limit=query.limit, offset=query.offset)
            return conversation, page, await messages.count(*filters)

    async def delete(self, conversation_id: UUID) -> None:
        """Delete the conversation; the database deletes its messages."""
        async with unit_of_work(self.sessions) as session:
            conversation = await self._get(session, conversation_id)
            await self._audit(session).deleted(conversation)
            await ConversationRepository(session).delete(conversation)

    async def reply(
        self, conversation_id: UUID, data: ConversationReply, toolbox: Toolbox
    ) -> ConversationMessage:
        """Answer the user's message (with the tools it names); store it and the answer."""
        request, history = await self._prepare(conversation_id, data)
        response = await self.llm.complete(request, self.caller, toolbox=toolbox, history=history)
        return await self._store(conversation_id, data.content, Answer.of(response))

    async def stream_reply(
        self, conversation_id: UUID, data: ConversationReply, toolbox: Toolbox
    ) -> AsyncGenerator[StreamEvent]:
        """``LLMService.stream``'s events; the turns are stored before the last one (``usage``).

        Nothing is stored for a stream that fails or that the client leaves.
        """
        request, history = await self._prepare(conversation_id, data)
        received: list[str] = []
        calls: list[ToolCall] = []
        results: list[ToolResult] = []
        events = self.llm.stream(request, self.caller, toolbox=toolbox, history=history)
        async with aclosing(events):
            async for event in events:
                if isinstance(event, StreamDelta):
                    received.append(event.text)
                elif isinstance(event, ToolCall):
                    calls.append(event)
                elif isinstance(event, ToolResult):
                    results.append(event)
                elif isinstance(event, StreamUsage):
                    answer = Answer(
                        text="".join(received),
                        provider=event.provider,
                        model=event.model,
                        input_tokens=event.usage.input_tokens,
                        output_tokens=event.usage.output_tokens,
                        cost=event.cost,
                        tool_calls=calls,
                        tool_results=results,
                    )
                    try:
                        await self._store(conversation_id, data.content, answer)
                    except AppError as exc:
                        yield problem_event(exc)
                        return
                yield event

    async def _prepare(
        self, conversation_id: UUID, data: ConversationReply
    ) -> tuple[LLMRequest, list[Turn]]:
        """The request for the model, and the history that fits with it."""
        async with unit_of_work(self.sessions) as session:
            conversation = await self._get(session, conversation_id)
            stored = await ConversationMessageRepository(session).latest(
                conversation.id, limit=MAX_HISTORY_MESSAGES
            )
        options = data.model_dump(exclude={"content"}, exclude_unset=True)
        request = LLMRequest.model_validate(
            {
                "model": conversation.model,
                **options,
                "prompt": data.content,
                "system": conversation.system,
            }
        )
        return request, await fit_history(self.llm, request, history_of(stored))

    async def _store(
        self, conversation_id: UUID, content: str, answer: Answer
    ) -> ConversationMessage:
        """Store the user's message and the answer, the next two of the conversation.

        404 if the conversation was deleted meanwhile; 409 if another reply took its place.
        """
        async with unit_of_work(self.sessions) as session:
            conversation = await self._get(session, conversation_id)
            messages = ConversationMessageRepository(session)
            position = await messages.next_position(conversation.id)
            await messages.create(
                ConversationMessage(
                    conversation_id=conversation.id, position=position, role="user", content=content
                )
            )
            stored = await messages.create(
                ConversationMessage(
                    conversation_id=conversation.id,
                    position=position + 1,
                    role="assistant",
                    content=answer.text,
                    tool_calls=[call.model_dump() for call in answer.tool_calls],
                    tool_results=[result.model_dump() for result in answer.tool_results],
                    input_tokens=answer.input_tokens,
                    output_tokens=answer.output_tokens,
                    cost=answer.cost,
                    provider=answer.provider,
                    model=answer.model,
                )
            )
            conversation.updated_at = utc_now()
        return stored

    async def _get(self, session: AsyncSession, conversation_id: UUID) -> Conversation:
        conversation = await ConversationRepository(session).get(conversation_id)
{% if auth %}
        if conversation is None or not self._may_access(conversation):
{% else %}
        if conversation is None:
{% endif %}
            raise NotFoundError(f"No conversation with ID {conversation_id}.")
        return conversation
{% if auth %}

    def _may_access(self, conversation: Conversation) -> bool:
        return conversation.owner_id == self.principal.user_id or self.principal.is_admin

    def _audit(self, session: AsyncSession) -> AuditTrail:
        return AuditTrail(session, actor=self.principal.actor)
{% else %}

    def _audit(self, session: AsyncSession) -> AuditTrail:
        return AuditTrail(session)
{% endif %}
