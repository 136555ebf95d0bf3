"""Bodies of the conversation endpoints."""

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from {{ cookiecutter.package_name }}.models.llm import (
    MAX_CONTENT_CHARS,
    LLMOptions,
    ModelName,
    ToolCall,
    ToolResult,
)
from {{ cookiecutter.package_name }}.models.requests import NO_NUL, RequestBody, Title
from {{ cookiecutter.package_name }}.models.responses import Page

Content = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_CONTENT_CHARS, pattern=NO_NUL)
]


class ConversationCreate(RequestBody):
    title: Title
    system: Content | None = Field(default=None, description="The system prompt of every reply.")
    model: ModelName | None = Field(
        default=None,
        description="The model of every reply, unless a reply names one; "
        "the provider's default if unset.",
    )


class ConversationReply(LLMOptions):
    """The user's next message, and how to answer it (the conversation's model by default)."""

    model_config = ConfigDict(extra="forbid")

    content: Content


class ConversationResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
{% if cookiecutter.auth != "none" %}
    owner_id: UUID | None
{% endif %}
    title: str
    system: str | None
    model: str | None
    created_at: datetime
    updated_at: datetime = Field(description="The time of the last message.")


class ConversationPage(Page):
    items: list[ConversationResponse]


class ConversationMessageResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    position: int = Field(description="From 0, in the order of the conversation.")
    role: Literal["user", "assistant"]
    content: str
    tool_calls: list[ToolCall] = Field(description="The tools the assistant called, in order.")
    tool_results: list[ToolResult]
    input_tokens: int
    output_tokens: int
    cost: float = Field(description="US dollars; 0 for the user's messages.")
    provider: str | None = Field(description="Who answered; null for the user's messages.")
    model: str | None
    created_at: datetime


class ConversationMessagePage(Page):
    items: list[ConversationMessageResponse]


class ConversationDetail(ConversationResponse):
    messages: ConversationMessagePage
