"""What each LLM call used and cost, and where that is recorded.

The service hands one ``LLMCallRecord`` per call, whatever its outcome, to
every ``UsageRecorder`` it was given: the call's log line is written by one,
the daily budgets are charged by another, and a store of the calls (a
database table, metrics) is just one more.
"""

from dataclasses import dataclass
from typing import Literal, Protocol

import structlog

{% if cookiecutter.rag == "yes" %}
from {{ cookiecutter.package_name }}.core.llm_types import (
    EmbeddingProviderName,
    ModelPrice,
    ProviderName,
)
{% else %}
from {{ cookiecutter.package_name }}.core.llm_types import ModelPrice, ProviderName
{% endif %}
from {{ cookiecutter.package_name }}.models.llm import TokenUsage

CallStatus = Literal["ok", "error", "cancelled"]

logger = structlog.get_logger(__name__)


def cost_of(usage: TokenUsage, price: ModelPrice | None) -> float:
    """US dollars for ``usage``; a model without a price (the fake one) costs nothing."""
    if price is None:
        return 0.0
    uncached = usage.input_tokens - usage.cache_read_tokens - usage.cache_write_tokens
    per_million = (
        uncached * price.input
        + usage.cache_read_tokens * price.cache_read
        + usage.cache_write_tokens * price.cache_write
        + usage.output_tokens * price.output
    )
    return round(per_million / 1_000_000, 10)


@dataclass(frozen=True, slots=True, kw_only=True)
class LLMCallRecord:
    """One call of the LLM endpoints.

    ``provider`` is the one that answered (or last failed), None when none was
    reached; ``error_code`` is the problem code the caller got. ``prompt`` and
    ``answer`` are only filled in when ``LLM_LOG_CONTENT`` is on.
    """

    request_id: str | None
    caller: str
{% if cookiecutter.rag == "yes" %}
    provider: ProviderName | EmbeddingProviderName | None
{% else %}
    provider: ProviderName | None
{% endif %}
    model: str | None
    usage: TokenUsage
    cost: float
    duration_ms: float
    status: CallStatus
    error_code: str | None
    cached: bool
    streamed: bool
    fallback_from: tuple[ProviderName, ...]
    prompt: str | None = None
    answer: str | None = None


class UsageRecorder(Protocol):
    async def record(self, call: LLMCallRecord) -> None:
        """Keep ``call``; an exception is logged and never reaches the caller."""


class LogUsageRecorder:
    """The one structured log line of each call (the request ID is added by the logger)."""

    async def record(self, call: LLMCallRecord) -> None:
        content = {"prompt": call.prompt, "answer": call.answer} if call.prompt else {}
        log = logger.info if call.status == "ok" else logger.warning
        log(
            "llm_call",
            caller=call.caller,
            provider=call.provider,
            model=call.model,
            status=call.status,
            error_code=call.error_code,
            cached=call.cached,
            streamed=call.streamed,
            fallback_from=list(call.fallback_from),
            input_tokens=call.usage.input_tokens,
            output_tokens=call.usage.output_tokens,
            cache_read_tokens=call.usage.cache_read_tokens,
            cache_write_tokens=call.usage.cache_write_tokens,
            cost=call.cost,
            duration_ms=call.duration_ms,
            **content,
        )
