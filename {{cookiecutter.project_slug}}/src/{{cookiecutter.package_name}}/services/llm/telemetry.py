"""Prometheus metrics and OpenTelemetry spans of the LLM calls.

``MetricsUsageRecorder`` counts every call the service records: calls, errors,
tokens and cost, and how long they took, by provider and model; it also shows
which providers' circuit breakers are open, and the daily cost budget the alerts
compare the spending with. With tracing on,
``TracedProvider`` makes every request to a provider (each try of a call) a
client span, named and described after OpenTelemetry's GenAI conventions.
"""

from collections.abc import AsyncGenerator, Iterator, Sequence
from contextlib import aclosing, contextmanager

from opentelemetry.trace import Span, SpanKind, StatusCode, Tracer
from opentelemetry.util.types import AttributeValue
from purgatory import ContextChanged, Event
from purgatory.domain.model import CLOSED

from {{ cookiecutter.package_name }}.core.llm_types import ProviderName
from {{ cookiecutter.package_name }}.core.metrics import Metrics
from {{ cookiecutter.package_name }}.models.llm import TokenUsage
from {{ cookiecutter.package_name }}.services.llm.providers.base import (
    Completion,
    LLMProvider,
    ProviderCall,
    ProviderError,
    StreamChunk,
)
from {{ cookiecutter.package_name }}.services.llm.usage import LLMCallRecord

# A call may take minutes (LLM_TOTAL_TIMEOUT, 300 s by default): retries, long answers.
DURATION_BUCKETS = (0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300)
UNKNOWN = "none"
"""The label of a provider or model not chosen yet (a call refused before)."""


class MetricsUsageRecorder:
    """Counts every LLM call in the app's metrics; ``outcome`` is ok, cached, error or cancelled."""

    def __init__(self, metrics: Metrics, daily_cost_budget: float = 0) -> None:
        labels = ("provider", "model", "outcome")
        self._calls = metrics.counter("llm_calls", "LLM calls, by outcome.", labels)
        self._duration = metrics.histogram(
            "llm_call_duration_seconds",
            "Time to answer LLM calls, retries and fallback included, in seconds.",
            labels,
            buckets=DURATION_BUCKETS,
        )
        self._errors = metrics.counter(
            "llm_errors",
            "Failed LLM calls, by the problem code the caller got.",
            ("provider", "model", "code"),
        )
        self._tokens = metrics.counter(
            "llm_tokens",
            "Tokens of LLM calls: input (cached ones included), output (reasoning included), "
            "cache_read, cache_write, reasoning.",
            ("provider", "model", "kind"),
        )
        self._cost = metrics.counter(
            "llm_cost_usd", "US dollars spent on LLM calls.", ("provider", "model")
        )
        self._circuit_open = metrics.gauge(
            "llm_circuit_open",
            "1 while the provider's circuit breaker is open or half-open (trying it again).",
            ("provider",),
        )
        budget = metrics.gauge(
            "llm_daily_cost_budget_usd", "LLM_DAILY_COST_BUDGET: US dollars per caller and day."
        )
        budget.set(daily_cost_budget)

    def circuit_changed(self, provider: str, _: str, event: Event) -> None:
        """A listener of the circuit breakers (``open_llm_service``'s ``circuit_listeners``)."""
        if isinstance(event, ContextChanged):
            self._circuit_open.labels(provider).set(0 if event.state == CLOSED else 1)

    async def record(self, call: LLMCallRecord) -> None:
        provider, model = call.provider or UNKNOWN, call.model or UNKNOWN
        outcome = "cached" if call.cached else call.status
        self._calls.labels(provider, model, outcome).inc()
        self._duration.labels(provider, model, outcome).observe(call.duration_ms / 1000)
        if call.error_code:
            self._errors.labels(provider, model, call.error_code).inc()
        tokens = {
            "input": call.usage.input_tokens,
            "output": call.usage.output_tokens,
            "cache_read": call.usage.cache_read_tokens,
            "cache_write": call.usage.cache_write_tokens,
        }
        tokens["reasoning"] = call.usage.reasoning_tokens
        for kind, count in tokens.items():
            if count:
                self._tokens.labels(provider, model, kind).inc(count)
        if call.cost:
            self._cost.labels(provider, model).inc(call.cost)


def _record_usage(span: Span, usage: TokenUsage) -> None:
    span.set_attributes(
        {
            "gen_ai.usage.input_tokens": usage.input_tokens,
            "gen_ai.usage.output_tokens": usage.output_tokens,
            "gen_ai.usage.cache_read.input_tokens": usage.cache_read_tokens,
            "gen_ai.usage.cache_creation.input_tokens": usage.cache_write_tokens,
            "gen_ai.usage.reasoning.output_tokens": usage.reasoning_tokens,
        }
    )


def _record_completion(span: Span, call: ProviderCall, completion: Completion) -> None:
    _record_usage(span, completion.usage)
    span.set_attributes(
        {
            "gen_ai.response.model": call.model,
            "gen_ai.response.finish_reasons": [completion.finish_reason],
        }
    )


class TracedProvider:
    """A provider whose every request is a client span: provider, model, tokens, error."""

    def __init__(self, provider: LLMProvider, tracer: Tracer) -> None:
        self._provider = provider
        self._tracer = tracer

    @property
    def name(self) -> ProviderName:
        return self._provider.name

    @property
    def models(self) -> Sequence[str]:
        return self._provider.models

    @contextmanager
    def _span(self, call: ProviderCall) -> Iterator[Span]:
        """Never made the current span, so it may stay open while a stream yields."""
        attributes: dict[str, AttributeValue] = {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": self.name,
            "gen_ai.system": self.name,  # the name older GenAI backends read
            "gen_ai.request.model": call.model,
            "gen_ai.request.max_tokens": call.max_tokens,
        }
        if call.temperature is not None:
            attributes["gen_ai.request.temperature"] = call.temperature
        if call.output is not None:
            attributes["gen_ai.output.type"] = "json"
        if call.tools:
            attributes["gen_ai.request.tools"] = [tool.name for tool in call.tools]
        span = self._tracer.start_span(
            f"chat {call.model}", kind=SpanKind.CLIENT, attributes=attributes
        )
        try:
            yield span
        except Exception as exc:
            # A provider's error messages are safe to export; other errors are only named.
            span.set_attribute("error.type", type(exc).__name__)
            span.set_status(StatusCode.ERROR, str(exc) if isinstance(exc, ProviderError) else None)
            raise
        finally:
            span.end()

    async def complete(self, call: ProviderCall) -> Completion:
        with self._span(call) as span:
            completion = await self._provider.complete(call)
            _record_completion(span, call, completion)
            return completion

    async def stream(self, call: ProviderCall) -> AsyncGenerator[StreamChunk]:
        with self._span(call) as span:
            async with aclosing(self._provider.stream(call)) as chunks:
                async for chunk in chunks:
                    if isinstance(chunk, Completion):
                        _record_completion(span, call, chunk)
                    elif isinstance(chunk, TokenUsage):
                        _record_usage(span, chunk)  # so far: the stream may yet break off
                    yield chunk

    async def count_tokens(self, call: ProviderCall) -> int | None:
        return await self._provider.count_tokens(call)

    async def check(self, *, reachability: bool) -> None:
        await self._provider.check(reachability=reachability)

    async def aclose(self) -> None:
        await self._provider.aclose()
