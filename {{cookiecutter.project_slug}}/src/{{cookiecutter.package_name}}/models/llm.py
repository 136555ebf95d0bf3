"""Bodies of the LLM endpoints."""

import json
{% if cookiecutter.database != "none" %}
from datetime import UTC, date, datetime
{% endif %}
from typing import Annotated, Any, Literal, Self

import jsonschema_rs
from pydantic import (
    BaseModel,
    Field,
    StringConstraints,
    computed_field,
    field_validator,
    model_validator,
)

from {{ cookiecutter.package_name }}.core.llm_types import ProviderName

MAX_CONTENT_CHARS = 200_000
MAX_SCHEMA_CHARS = 16_384
MAX_SCHEMA_DEPTH = 16
MAX_TOOLS = 16
NAME_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
# Keywords refused in a client's schema: references (which could point anywhere) and
# regular expressions (a backtracking pattern could make validating an answer take
# exponential time).
UNSAFE_SCHEMA_KEYWORDS = frozenset(
    {"pattern", "patternProperties", "$ref", "$dynamicRef", "$recursiveRef"}
)

Effort = Literal["low", "medium", "high", "max"]
# A model's name as providers spell them ("claude-sonnet-4-5", "llama3.1:8b"): no control
# characters, which no provider uses and PostgreSQL refuses to store.
ModelName = Annotated[
    str, StringConstraints(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f\x7f]+$")
]
{% if cookiecutter.database != "none" %}
USAGE_DEFAULT_DAYS = 30
USAGE_MAX_DAYS = 366
{% endif %}


class Message(BaseModel):
    role: Literal["user", "assistant"]
    content: str = Field(min_length=1, max_length=MAX_CONTENT_CHARS)


def _schema_problems(node: object, depth: int = 0) -> str | None:
    if depth > MAX_SCHEMA_DEPTH:
        return f"nested deeper than {MAX_SCHEMA_DEPTH} levels"
    if isinstance(node, dict):
        for key, value in node.items():
            if key in UNSAFE_SCHEMA_KEYWORDS:
                return f"uses `{key}`, which is not supported"
            if problem := _schema_problems(value, depth + 1):
                return problem
    elif isinstance(node, list):
        for item in node:
            if problem := _schema_problems(item, depth + 1):
                return problem
    return None


class ResponseFormat(BaseModel):
    """Answer with JSON matching a JSON Schema: the provider's structured-output mode is
    used, and the answer is validated before it is returned.
    """

    name: str = Field(default="answer", pattern=NAME_PATTERN)
    json_schema: dict[str, Any] = Field(
        description=f"A JSON Schema (an object schema), at most {MAX_SCHEMA_CHARS} characters; "
        "`pattern`, `patternProperties` and references are not supported."
    )

    @field_validator("json_schema")
    @classmethod
    def _bounded_schema(cls, schema: dict[str, Any]) -> dict[str, Any]:
        if len(json.dumps(schema)) > MAX_SCHEMA_CHARS:
            msg = f"the schema is longer than {MAX_SCHEMA_CHARS} characters"
            raise ValueError(msg)
        if schema.get("type") != "object":
            msg = 'the schema must describe an object ("type": "object")'
            raise ValueError(msg)
        if problem := _schema_problems(schema):
            msg = f"the schema {problem}"
            raise ValueError(msg)
        try:
            jsonschema_rs.validator_for(schema)
        except ValueError as exc:
            msg = f"the schema is not valid: {exc}"
            raise ValueError(msg[:300]) from exc
        return schema


class LLMOptions(BaseModel):
    """How to answer: the model and its settings, tools, the answer's format."""

    model: ModelName | None = Field(
        default=None, description="One of the configured models; the provider's default if unset."
    )
    max_tokens: int = Field(default=1024, ge=1, le=32_000)
    temperature: float | None = Field(
        default=None, ge=0, le=2, description="Unset leaves the provider's default."
    )
    thinking: bool = Field(
        default=False, description="Let the model think first (models that can: `LLM_MODELS`)."
    )
    effort: Effort | None = Field(
        default=None, description="How hard a thinking model works; the model's default if unset."
    )
    tools: list[str] = Field(
        default_factory=list,
        max_length=MAX_TOOLS,
        description="Names of the service's tools the model may call (`GET /llm/tools`).",
    )
    response_format: ResponseFormat | None = Field(
        default=None, description="Answer with JSON matching this schema."
    )


class LLMRequest(LLMOptions):
    """A prompt, or a conversation ending with the user's turn."""

    prompt: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_CONTENT_CHARS,
        description="Shorthand for a single user message.",
    )
    messages: list[Message] | None = Field(default=None, min_length=1, max_length=100)
    system: str | None = Field(default=None, max_length=MAX_CONTENT_CHARS)

    @model_validator(mode="after")
    def _prompt_or_messages(self) -> Self:
        if (self.prompt is None) == (self.messages is None):
            msg = "give exactly one of prompt or messages"
            raise ValueError(msg)
        if self.messages is not None and self.messages[-1].role != "user":
            msg = "the last message must be the user's"
            raise ValueError(msg)
        return self

    @property
    def conversation(self) -> list[Message]:
        if self.messages is not None:
            return self.messages
        return [Message(role="user", content=self.prompt or "")]


class TokenUsage(BaseModel):
    """Tokens of one call, the same way for every provider.

    ``input_tokens`` counts every input token, cached or not; the cache tokens
    are the part of it read from or written to the provider's prompt cache.
    """

    input_tokens: int = Field(default=0, ge=0)
    output_tokens: int = Field(default=0, ge=0)
    cache_read_tokens: int = Field(default=0, ge=0)
    cache_write_tokens: int = Field(default=0, ge=0)
    reasoning_tokens: int = Field(
        default=0, ge=0, description="The part of the output tokens spent thinking."
    )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


class ToolCall(BaseModel):
    """``event: tool_call``: the model called one of the service's tools."""

    id: str
    name: str
    arguments: str = Field(description="JSON text, as the model wrote it.")


class ToolResult(BaseModel):
    """``event: tool_result``: what the tool gave back to the model, or its error."""

    id: str = Field(description="The `id` of the tool call.")
    name: str
    content: str
    is_error: bool = False


class ToolInfo(BaseModel):
    name: str
    description: str
    parameters: dict[str, Any] = Field(description="The JSON Schema of its arguments.")


class LLMResponse(BaseModel):
    text: str
    output: Any = Field(
        default=None, description="With `response_format`: the answer, parsed and validated."
    )
    tool_calls: list[ToolCall] = Field(default_factory=list, description="In the order made.")
    tool_results: list[ToolResult] = Field(default_factory=list)
    steps: int = Field(default=1, description="Model turns it took (tool calls add turns).")
    usage: TokenUsage
    cost: float = Field(description="US dollars, from the price table and the reported usage.")
    duration_ms: float
    model: str
    provider: ProviderName
    request_id: str | None
    cached: bool = Field(description="Served from the response cache: no tokens, no cost.")
    fallback_from: list[ProviderName] = Field(
        default_factory=list, description="Providers that failed before this one answered."
    )


class StreamDelta(BaseModel):
    """``event: delta``: the next piece of the answer."""

    text: str


class StreamUsage(BaseModel):
    """``event: usage``: the last event of a successful stream (every step added up)."""

    output: Any = None
    steps: int = 1
    usage: TokenUsage
    cost: float
    duration_ms: float
    model: str
    provider: ProviderName
    request_id: str | None
    fallback_from: list[ProviderName] = Field(default_factory=list)
{% if cookiecutter.database != "none" %}


class UsageQuery(BaseModel):
    """Whole days in UTC, both ends included; by default the 30 days up to today."""

    start: date | None = Field(
        default=None, description="First day; 29 days before `end` if unset."
    )
    end: date | None = Field(default=None, description="Last day; today if unset.")

    @model_validator(mode="after")
    def _bounded(self) -> Self:
        start, end = self.period()
        if start > end:
            msg = "start must not be after end"
            raise ValueError(msg)
        if (end - start).days >= USAGE_MAX_DAYS:
            msg = f"at most {USAGE_MAX_DAYS} days at once"
            raise ValueError(msg)
        return self

    def period(self) -> tuple[date, date]:
        """The first and the last day asked for (never before the first day there is)."""
        end = self.end or datetime.now(UTC).date()
        if self.start is not None:
            return self.start, end
        first = max(end.toordinal() - (USAGE_DEFAULT_DAYS - 1), date.min.toordinal())
        return date.fromordinal(first), end


class UsageTotals(BaseModel):
    requests: int = Field(description="Calls, whatever their outcome.")
    errors: int = Field(description="Calls that failed with an error.")
    cache_hits: int = Field(description="Calls answered from the response cache.")
    usage: TokenUsage
    cost: float = Field(description="US dollars.")

    @computed_field(  # type: ignore[prop-decorator]
        description="The part of the input tokens read from the provider's prompt cache (0 to 1)."
    )
    @property
    def cache_read_share(self) -> float:
        input_tokens = self.usage.input_tokens
        return round(self.usage.cache_read_tokens / input_tokens, 4) if input_tokens else 0.0


class DailyUsage(UsageTotals):
    day: date = Field(description="UTC.")
    model: str | None = Field(description="Null for calls refused before a model was chosen.")


class UsageReport(BaseModel):
    caller: str | None = Field(description="Whose calls these are; null for every caller's.")
    start: date
    end: date
    items: list[DailyUsage] = Field(description="One per day and model with calls, oldest first.")
    total: UsageTotals = Field(description="All the items added up.")
{% endif %}
