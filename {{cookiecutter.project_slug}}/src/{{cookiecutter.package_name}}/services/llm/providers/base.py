"""What the LLM service needs from a provider, and the errors a provider may raise.

Providers translate their SDK's exceptions into the three errors below, so the
service decides about retries, circuit breaking and fallback without knowing
any SDK. They never retry themselves (the SDK clients run with
``max_retries=0``): the service owns the one retry layer.
"""

import email.utils
import time
from collections.abc import AsyncGenerator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import anyio

from {{ cookiecutter.package_name }}.core.llm_types import ProviderName
from {{ cookiecutter.package_name }}.models.llm import Effort, Message, TokenUsage

CLEANUP_TIMEOUT = 5.0


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A tool offered to the model: its name, what it does, and its arguments' JSON Schema."""

    name: str
    description: str
    parameters: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class ToolUse:
    """The model asks for a tool. ``arguments`` is JSON text, as the model wrote it."""

    id: str
    name: str
    arguments: str


@dataclass(frozen=True, slots=True)
class ToolOutcome:
    """What a tool gave back (or why it failed), for the model's next turn."""

    id: str
    content: str
    is_error: bool = False


@dataclass(frozen=True, slots=True)
class ToolStep:
    """One model turn that called tools, and the tools' outcomes.

    ``native`` is that turn as its provider returned it (thinking or reasoning items
    included, which some models need back); another provider rebuilds it from the rest.
    """

    provider: ProviderName
    text: str
    calls: tuple[ToolUse, ...]
    outcomes: tuple[ToolOutcome, ...]
    native: tuple[Mapping[str, Any], ...] = ()


Turn = Message | ToolStep


@dataclass(frozen=True, slots=True)
class OutputFormat:
    """Answer with JSON that matches ``schema``."""

    name: str
    schema: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class ProviderCall:
    model: str
    messages: Sequence[Turn]
    system: str | None
    max_tokens: int
    temperature: float | None = None
    thinking: bool = False
    effort: Effort | None = None
    tools: Sequence[ToolSpec] = ()
    tool_choice: Literal["auto", "none"] = "auto"
    output: OutputFormat | None = None


FinishReason = Literal["stop", "max_tokens", "tool_calls", "refusal", "other"]


@dataclass(frozen=True, slots=True)
class Completion:
    text: str
    usage: TokenUsage
    finish_reason: FinishReason = "stop"
    tool_calls: tuple[ToolUse, ...] = ()
    native: tuple[Mapping[str, Any], ...] = field(default=())
    """The answer as the provider returned it, for a ``ToolStep`` (see there)."""


StreamChunk = str | TokenUsage | Completion
"""A stream yields the text as it arrives, and the usage each time the provider reports it
(the total so far), then one ``Completion`` with the final usage and any tool calls."""


class ProviderError(Exception):
    """The provider failed. The message is safe to log: no prompt, no secret."""


class TransientProviderError(ProviderError):
    """Worth another try: rate limited, overloaded, timed out or unreachable."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ProviderRejectedError(ProviderError):
    """The provider refused the request itself; neither a retry nor a fallback helps."""


class LLMProvider(Protocol):
    @property
    def name(self) -> ProviderName: ...

    @property
    def models(self) -> Sequence[str]:
        """The models callers may ask for; the first is the default."""

    async def complete(self, call: ProviderCall) -> Completion: ...

    def stream(self, call: ProviderCall) -> AsyncGenerator[StreamChunk]: ...

    async def count_tokens(self, call: ProviderCall) -> int | None:
        """The prompt's tokens as the provider counts them, or None where it cannot."""

    async def check(self, *, reachability: bool) -> None:
        """Raise ``CheckFailedError`` when the provider is not configured (or unreachable)."""

    async def aclose(self) -> None: ...


def cleanup_scope() -> anyio.CancelScope:
    """Shield cleanup from the cancellation that triggered it (a client that went away)."""
    return anyio.move_on_after(CLEANUP_TIMEOUT, shield=True)


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """The wait a response asks for: ``retry-after-ms``, else ``retry-after``."""
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return max(0.0, float(value) / scale)
        except ValueError:
            pass
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            continue
        return max(0.0, when.timestamp() - time.time())
    return None


def status_error(
    provider: ProviderName, status: int, headers: Mapping[str, str], detail: str | None
) -> ProviderError:
    """The error for an HTTP status the provider answered with.

    ``detail`` is the provider's own explanation; it describes the request, never
    quotes it, and only a refused request passes it on to the caller.
    """
    message = f"{provider} answered HTTP {status}"
    if status in {408, 409, 429} or status >= 500:
        return TransientProviderError(message, retry_after=retry_after_seconds(headers))
    if status in {401, 403}:
        return ProviderError(f"{message}: check its API key")
    return ProviderRejectedError(f"{message}: {detail}" if detail else message)
