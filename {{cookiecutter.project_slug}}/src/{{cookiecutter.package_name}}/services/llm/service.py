{% set anthropic = cookiecutter.llm in ["anthropic", "anthropic_and_openai"] %}
{% set openai = cookiecutter.llm in ["openai", "anthropic_and_openai"] %}
"""LLM calls: limits, cache, retries, circuit breakers, fallback, usage and cost.

``LLMService`` is the one way the API reaches a provider. For each call it
counts the caller's requests and tokens, answers identical deterministic
requests from the cache, and otherwise tries the configured providers in
order: each with a few tries (exponential backoff with jitter, or the wait the
provider asked for, up to a cap) behind its own circuit breaker, falling back
to the next provider when one fails. Every call, whatever its outcome, is
handed once to the usage recorders, with what it used: the usage the provider
reported, or for a call that broke off (a failure midway, a client that left,
a timeout) what was reported until then, completed by estimates (the prompt's
length, the text received).
"""

import asyncio
import hashlib
import json
import logging
import ssl
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AsyncExitStack, aclosing, asynccontextmanager
from dataclasses import dataclass, field
from functools import cache, partial
from http import HTTPStatus
from typing import TypeVar

import structlog
from asgi_correlation_id import correlation_id
from cashews import Cache
from cashews.exceptions import CacheBackendInteractionError
{% if anthropic %}
from httpx2 import create_ssl_context
{% else %}
from httpx import create_ssl_context
{% endif %}
{% if cookiecutter.observability == "yes" %}
from opentelemetry.trace import TracerProvider
{% endif %}
from purgatory import AsyncCircuitBreakerFactory, ContextChanged, Event
from purgatory.domain.model import OpenedState
{% if cookiecutter.observability == "yes" %}
from purgatory.typing import Hook
{% endif %}
from pydantic import ValidationError
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, wait_random_exponential

from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.core.errors import (
    AppError,
    BadRequestError,
    ServiceUnavailableError,
)
from {{ cookiecutter.package_name }}.core.health import CheckFailedError
from {{ cookiecutter.package_name }}.core.llm_types import ProviderName
from {{ cookiecutter.package_name }}.core.outage import Outage
from {{ cookiecutter.package_name }}.core.problems import ProblemDetail
from {{ cookiecutter.package_name }}.core.rate_limit import RateLimiter
{% if cookiecutter.redis == "yes" %}
from {{ cookiecutter.package_name }}.core.redis import redis_timeouts
{% endif %}
from {{ cookiecutter.package_name }}.models.llm import (
    LLMRequest,
    LLMResponse,
    StreamDelta,
    StreamUsage,
    TokenUsage,
)
{% if anthropic %}
from {{ cookiecutter.package_name }}.services.llm.providers.anthropic import AnthropicProvider
{% endif %}
from {{ cookiecutter.package_name }}.services.llm.providers.base import (
    Completion,
    LLMProvider,
    ProviderCall,
    ProviderError,
    ProviderRejectedError,
    StreamChunk,
    TransientProviderError,
    cleanup_scope,
)
from {{ cookiecutter.package_name }}.services.llm.providers.fake import FakeProvider
{% if openai %}
from {{ cookiecutter.package_name }}.services.llm.providers.openai import OpenAIProvider
{% endif %}
from {{ cookiecutter.package_name }}.services.llm.quota import (
    LLMQuota,
    estimate_prompt_tokens,
    estimate_tokens,
    tokens_in,
)
{% if cookiecutter.observability == "yes" %}
from {{ cookiecutter.package_name }}.services.llm.telemetry import TracedProvider
{% endif %}
from {{ cookiecutter.package_name }}.services.llm.usage import (
    CallStatus,
    LLMCallRecord,
    LogUsageRecorder,
    UsageRecorder,
    cost_of,
)

T = TypeVar("T")
StreamEvent = StreamDelta | StreamUsage | ProblemDetail
"""Deltas, then one ``StreamUsage``, or a ``ProblemDetail`` if the stream fails midway."""
OpenedStream = tuple[AsyncGenerator[StreamChunk], StreamChunk]

logger = structlog.get_logger(__name__)


class LLMTimeoutError(AppError):
    status_code = HTTPStatus.GATEWAY_TIMEOUT
    code = "llm_timeout"


@dataclass
class _Call:
    """What is known of a call so far; becomes its ``LLMCallRecord``."""

    caller: str
    streamed: bool
    started: float = field(default_factory=time.perf_counter)
    provider: ProviderName | None = None
    model: str | None = None
    usage: TokenUsage = field(default_factory=TokenUsage)
    cost: float = 0.0
    status: CallStatus = "error"
    error_code: str | None = None
    cached: bool = False
    fallback_from: list[ProviderName] = field(default_factory=list)
    answer: str | None = None
    prompt_tokens: int = 0
    """The prompt's tokens, estimated before the call."""
    reached: bool = False
    """A provider got the request and did not refuse it: it may charge for it."""
    reported: TokenUsage | None = None
    """The usage the provider reported so far (a stream reports it as it goes)."""
    received: list[str] = field(default_factory=list)
    """The text streamed so far."""

    @property
    def duration_ms(self) -> float:
        return round((time.perf_counter() - self.started) * 1000, 2)

    def usage_so_far(self) -> TokenUsage:
        """What a call that broke off used: the reported usage, else estimates."""
        reported = self.reported or TokenUsage()
        return reported.model_copy(
            update={
                "input_tokens": reported.input_tokens or self.prompt_tokens,
                "output_tokens": max(reported.output_tokens, tokens_in("".join(self.received))),
            }
        )

    def succeeded(self, usage: TokenUsage, cost: float, answer: str) -> None:
        self.usage, self.cost, self.answer, self.status = usage, cost, answer, "ok"

    def failed(self, exc: BaseException) -> None:
        if isinstance(exc, asyncio.CancelledError | GeneratorExit):
            self.status = "cancelled"
        else:
            self.status = "error"
            self.error_code = exc.code if isinstance(exc, AppError) else "internal_error"


def _problem(exc: AppError) -> ProblemDetail:
    return ProblemDetail(
        title=HTTPStatus(exc.status_code).phrase,
        status=exc.status_code,
        detail=exc.detail,
        code=exc.code,
        request_id=correlation_id.get(),
    )


class LLMService:
    def __init__(
        self,
        settings: Settings,
        providers: Sequence[LLMProvider],
        *,
        cache: Cache,
        breakers: AsyncCircuitBreakerFactory,
        quota: LLMQuota,
        recorders: Sequence[UsageRecorder],
    ) -> None:
        self._settings = settings
        self._providers = providers
        self._cache = cache
        self._breakers = breakers
        self._quota = quota
        self._recorders = recorders
        self._backoff = wait_random_exponential(
            multiplier=settings.llm_retry_base_delay, max=settings.llm_retry_max_delay
        )
        self._cache_outage = Outage("llm_cache")

    async def check_readiness(self) -> None:
        """The readiness check: every provider has its key (and answers, if so configured)."""
        problems = []
        for provider in self._providers:
            try:
                await provider.check(reachability=self._settings.llm_health_check_reachability)
            except CheckFailedError as exc:
                problems.append(str(exc))
        if problems:
            raise CheckFailedError("; ".join(problems))

    async def complete(self, request: LLMRequest, caller: str) -> LLMResponse:
        call = _Call(caller=caller, streamed=False, prompt_tokens=estimate_prompt_tokens(request))
        try:
            return await self._complete(request, call)
        except BaseException as exc:
            call.failed(exc)
            raise
        finally:
            with cleanup_scope():
                self._settle(call)
                await self._record(request, call)

    async def stream(self, request: LLMRequest, caller: str) -> AsyncGenerator[StreamEvent]:
        """Errors before the first event are raised; later ones end the stream as an event."""
        call = _Call(caller=caller, streamed=True, prompt_tokens=estimate_prompt_tokens(request))
        try:
            async with aclosing(self._stream(request, call)) as events:
                async for event in events:
                    yield event
        except BaseException as exc:
            call.failed(exc)
            raise
        finally:
            with cleanup_scope():
                self._settle(call)
                await self._record(request, call)

    async def _complete(self, request: LLMRequest, call: _Call) -> LLMResponse:
        candidates = self._candidates(request, call)
        await self._quota.admit(call.caller)
{% if cookiecutter.auth != "none" %}
        cache_key = self._cache_key(request, candidates[0][1].model, call.caller)
{% else %}
        cache_key = self._cache_key(request, candidates[0][1].model)
{% endif %}
        if cache_key and (hit := await self._cached(cache_key)):
            call.provider, call.model, call.cached = hit.provider, hit.model, True
            call.succeeded(TokenUsage(), 0.0, hit.text)
            return hit.model_copy(
                update={
                    "usage": TokenUsage(),
                    "cost": 0.0,
                    "cached": True,
                    "duration_ms": call.duration_ms,
                    "request_id": correlation_id.get(),
                    "fallback_from": [],
                }
            )
        await self._quota.reserve(call.caller, estimate_tokens(request))
        try:
            async with asyncio.timeout(self._settings.llm_total_timeout):
                provider, provider_call, completion = await self._first_available(
                    candidates, _completion_from, call
                )
        except TimeoutError as exc:
            raise LLMTimeoutError("The LLM call took too long.") from exc
        cost = self._cost(provider_call.model, completion.usage)
        call.succeeded(completion.usage, cost, completion.text)
        response = LLMResponse(
            text=completion.text,
            usage=completion.usage,
            cost=cost,
            duration_ms=call.duration_ms,
            model=provider_call.model,
            provider=provider.name,
            request_id=correlation_id.get(),
            cached=False,
            fallback_from=call.fallback_from,
        )
        if cache_key:
            await self._store(cache_key, response)
        return response

    async def _stream(self, request: LLMRequest, call: _Call) -> AsyncGenerator[StreamEvent]:
        candidates = self._candidates(request, call)
        await self._quota.admit(call.caller)
        await self._quota.reserve(call.caller, estimate_tokens(request))
        deadline = asyncio.get_running_loop().time() + self._settings.llm_total_timeout
        try:
            async with asyncio.timeout_at(deadline):
                provider, provider_call, (chunks, chunk) = await self._first_available(
                    candidates, partial(self._open_stream, call=call), call
                )
        except TimeoutError as exc:
            raise LLMTimeoutError("The LLM call took too long.") from exc

        try:
            while not isinstance(chunk, Completion):
                if isinstance(chunk, TokenUsage):
                    call.reported = chunk
                else:
                    call.received.append(chunk)
                    yield StreamDelta(text=chunk)
                try:
                    # A deadline per step: a timeout scope must not span a ``yield``.
                    async with asyncio.timeout_at(deadline):
                        chunk = await anext(chunks)
                except TimeoutError:
                    failure: AppError = LLMTimeoutError("The LLM call took too long.")
                except (ProviderError, StopAsyncIteration) as exc:
                    logger.warning("llm_stream_failed", provider=call.provider, error=str(exc))
                    failure = ServiceUnavailableError("The LLM provider failed mid-answer.")
                else:
                    continue
                call.answer, call.error_code = "".join(call.received), failure.code
                yield _problem(failure)
                return
        finally:
            with cleanup_scope():
                await chunks.aclose()
        cost = self._cost(provider_call.model, chunk.usage)
        call.succeeded(chunk.usage, cost, chunk.text)
        yield StreamUsage(
            usage=chunk.usage,
            cost=cost,
            duration_ms=call.duration_ms,
            model=provider_call.model,
            provider=provider.name,
            request_id=correlation_id.get(),
            fallback_from=call.fallback_from,
        )

    async def _open_stream(
        self, provider: LLMProvider, provider_call: ProviderCall, *, call: _Call
    ) -> OpenedStream:
        """Start a stream and wait for its first text (or its end), so that failures are retried.

        The usage the provider reports before that is kept in ``call``.
        """
        chunks = provider.stream(provider_call)
        try:
            chunk = await anext(chunks)
            while isinstance(chunk, TokenUsage):
                call.reported = chunk
                chunk = await anext(chunks)
        except StopAsyncIteration as exc:
            msg = f"{provider.name} sent an empty stream"
            raise ProviderError(msg) from exc
        return chunks, chunk

    def _candidates(
        self, request: LLMRequest, call: _Call
    ) -> list[tuple[LLMProvider, ProviderCall]]:
        """The providers to try, in order, each with the call it gets.

        The model is recorded in ``call`` only once it is known to be a configured one:
        a made-up name reaches neither the logs nor the stored usage.
        """
        if request.model is None:
            chosen = [(provider, provider.models[0]) for provider in self._providers]
        else:
            chosen = [(p, request.model) for p in self._providers if request.model in p.models]
        if not chosen:
            offered = sorted({model for provider in self._providers for model in provider.models})
            msg = f"Unknown model {request.model!r}; choose one of: {', '.join(offered)}."
            raise BadRequestError(msg)
        call.model = chosen[0][1]
        return [
            (
                provider,
                ProviderCall(
                    model=model,
                    messages=request.conversation,
                    system=request.system,
                    max_tokens=request.max_tokens,
                    temperature=request.temperature,
                ),
            )
            for provider, model in chosen
        ]

    async def _first_available(
        self,
        candidates: Sequence[tuple[LLMProvider, ProviderCall]],
        operation: Callable[[LLMProvider, ProviderCall], Awaitable[T]],
        call: _Call,
    ) -> tuple[LLMProvider, ProviderCall, T]:
        """The first provider that answers; each failure is logged and falls back to the next."""
        for provider, provider_call in candidates:
            call.provider, call.model = provider.name, provider_call.model
            try:
                result = await self._with_retries(
                    provider, partial(operation, provider, provider_call), call
                )
            except ProviderRejectedError as exc:
                raise BadRequestError(f"The provider refused the request ({exc}).") from exc
            except OpenedState:
                logger.warning("llm_circuit_open", provider=provider.name)
            except ProviderError as exc:
                logger.warning("llm_provider_failed", provider=provider.name, error=str(exc))
            else:
                return provider, provider_call, result
            call.fallback_from.append(provider.name)
        msg = "No LLM provider could answer; try again later."
        raise ServiceUnavailableError(msg)

    async def _with_retries(
        self, provider: LLMProvider, operation: Callable[[], Awaitable[T]], call: _Call
    ) -> T:
        """Tries on transient failures; each one counts for the provider's circuit breaker.

        While a try is under way, ``call`` counts as having reached the provider: a
        timeout or a client that leaves does not stop the provider from charging.
        """
        breaker = await self._breakers.get_breaker(provider.name)

        async def guarded() -> T:
            async with breaker:
                call.reached, call.reported = True, None
                try:
                    return await operation()
                except ProviderError:
                    # The provider answered with an error, or could not be reached.
                    call.reached = False
                    raise

        retrying = AsyncRetrying(
            retry=retry_if_exception_type(TransientProviderError),
            stop=self._stop,
            wait=self._wait,
            before_sleep=partial(self._log_retry, provider.name),
            reraise=True,
        )
        return await retrying(guarded)

    def _retry_after(self, state: RetryCallState) -> float | None:
        exc = state.outcome.exception() if state.outcome else None
        return exc.retry_after if isinstance(exc, TransientProviderError) else None

    def _stop(self, state: RetryCallState) -> bool:
        """Out of tries, or asked to wait longer than the cap: better try the next provider."""
        retry_after = self._retry_after(state)
        too_long = retry_after is not None and retry_after > self._settings.llm_retry_max_delay
        return too_long or state.attempt_number >= self._settings.llm_max_attempts

    def _wait(self, state: RetryCallState) -> float:
        retry_after = self._retry_after(state)
        return self._backoff(state) if retry_after is None else retry_after

    def _log_retry(self, provider: ProviderName, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        logger.warning(
            "llm_retry",
            provider=provider,
            attempt=state.attempt_number,
            wait_s=round(state.upcoming_sleep, 3),
            error=str(exc),
        )

    def _cost(self, model: str, usage: TokenUsage) -> float:
        return cost_of(usage, self._settings.llm_prices.get(model))

    def _settle(self, call: _Call) -> None:
        """Give a call that broke off after reaching a provider the usage it had so far.

        The provider charges for it all the same: so do the budgets.
        """
        if call.status == "ok" or not call.reached or call.model is None:
            return
        if call.usage.total_tokens:
            return  # complete already; only the answer's last event was not delivered
        call.usage = call.usage_so_far()
        call.cost = self._cost(call.model, call.usage)

{% if cookiecutter.auth != "none" %}
    def _cache_key(self, request: LLMRequest, model: str, caller: str) -> str | None:
        """Only deterministic answers are worth reusing: temperature 0, unless configured.

        Each caller has answers of their own, unless ``LLM_CACHE_SHARED``: an answer
        served from someone else's call tells that they asked the same.
        """
{% else %}
    def _cache_key(self, request: LLMRequest, model: str) -> str | None:
        """Only deterministic answers are worth reusing: temperature 0, unless configured."""
{% endif %}
        if not self._settings.llm_cache_ttl:
            return None
        if request.temperature != 0 and not self._settings.llm_cache_any_temperature:
            return None
        canonical = json.dumps(
            {
{% if cookiecutter.auth != "none" %}
                "caller": None if self._settings.llm_cache_shared else caller,
{% endif %}
                "model": model,
                "system": request.system,
                "messages": [message.model_dump() for message in request.conversation],
                "max_tokens": request.max_tokens,
                "temperature": request.temperature,
            },
            sort_keys=True,
        )
        return self._settings.llm_cache_prefix + hashlib.sha256(canonical.encode()).hexdigest()

    async def _cached(self, key: str) -> LLMResponse | None:
        """The cached answer, if any; none while the cache is down (tried again after a while)."""
        if self._cache_outage.ongoing:
            return None
        try:
            raw = await self._cache.get(key)
        except CacheBackendInteractionError as exc:
            self._cache_outage.failed(exc.__cause__ or exc)
            return None
        self._cache_outage.answered()
        try:
            return None if raw is None else LLMResponse.model_validate_json(raw)
        except ValidationError as exc:
            logger.warning("llm_cache_entry_invalid", error=repr(exc))
            return None

    async def _store(self, key: str, response: LLMResponse) -> None:
        if self._cache_outage.ongoing:
            return
        try:
            ttl = self._settings.llm_cache_ttl
            await self._cache.set(key, response.model_dump_json(), expire=ttl)
        except CacheBackendInteractionError as exc:
            self._cache_outage.failed(exc.__cause__ or exc)

    async def _record(self, request: LLMRequest, call: _Call) -> None:
        log_content = self._settings.llm_log_content
        record = LLMCallRecord(
            request_id=correlation_id.get(),
            caller=call.caller,
            provider=call.provider,
            model=call.model,
            usage=call.usage,
            cost=call.cost,
            duration_ms=call.duration_ms,
            status=call.status,
            error_code=call.error_code,
            cached=call.cached,
            streamed=call.streamed,
            fallback_from=tuple(call.fallback_from),
            prompt=_prompt_text(request) if log_content else None,
            answer=call.answer if log_content else None,
        )
        for recorder in self._recorders:
            try:
                await recorder.record(record)
            except Exception:
                logger.exception("llm_usage_recorder_failed", recorder=type(recorder).__name__)


async def _completion_from(provider: LLMProvider, call: ProviderCall) -> Completion:
    return await provider.complete(call)


def _prompt_text(request: LLMRequest) -> str:
    turns = [f"{message.role}: {message.content}" for message in request.conversation]
    return "\n".join([f"system: {request.system}", *turns] if request.system else turns)


class UnconfiguredProvider:
    """Stands in for a provider without an API key: fails its calls and the readiness check."""

    def __init__(self, name: ProviderName, models: Sequence[str], key_setting: str) -> None:
        self.name = name
        self.models = models
        self._problem = f"{key_setting} is not set"

    async def complete(self, call: ProviderCall) -> Completion:
        raise ProviderError(self._problem)

    async def stream(self, call: ProviderCall) -> AsyncGenerator[StreamChunk]:
        yield await self.complete(call)

    async def check(self, *, reachability: bool) -> None:
        raise CheckFailedError(self._problem)

    async def aclose(self) -> None:
        return None


@cache
def _provider_tls() -> ssl.SSLContext:
    """How the SDK clients verify providers: as their HTTP client does by default (certifi's
    CA bundle, or ``SSL_CERT_FILE``/``SSL_CERT_DIR``), loaded once per process: loading
    it takes tens of milliseconds, which each client would spend again.
    """
    return create_ssl_context()


def _provider(name: ProviderName, settings: Settings, tls: ssl.SSLContext) -> LLMProvider:
{% if anthropic %}
    if name == "anthropic":
        key = settings.anthropic_api_key
        if key is None or not key.get_secret_value():
            return UnconfiguredProvider(name, settings.anthropic_models, "ANTHROPIC_API_KEY")
        return AnthropicProvider(settings, key, tls)
{% endif %}
{% if openai %}
    if name == "openai":
        key = settings.openai_api_key
        if key is None or not key.get_secret_value():
            return UnconfiguredProvider(name, settings.openai_models, "OPENAI_API_KEY")
        return OpenAIProvider(settings, key, tls)
{% endif %}
    return FakeProvider()


def _log_circuit_change(provider: str, kind: str, event: Event) -> None:
    if isinstance(event, ContextChanged):
        logger.warning("llm_circuit_changed", provider=provider, state=event.state)


def _quiet_sdk_loggers() -> None:
    """The SDKs log whole requests, prompts included, at DEBUG: never let them."""
{% if anthropic and openai %}
    for name in ("anthropic", "openai", "httpx2", "httpcore2"):
{% elif anthropic %}
    for name in ("anthropic", "httpx2", "httpcore2"):
{% else %}
    for name in ("openai", "httpx2", "httpcore2"):
{% endif %}
        logging.getLogger(name).setLevel(logging.WARNING)


@asynccontextmanager
{% if cookiecutter.observability == "yes" %}
async def open_llm_service(
    settings: Settings,
    limiter: RateLimiter,
    recorders: Sequence[UsageRecorder] = (),
    tracer_provider: TracerProvider | None = None,
    circuit_listeners: Sequence[Hook] = (),
) -> AsyncIterator[LLMService]:
    """The service with its SDK clients and cache, closed again on exit.

    Each call is logged and charged to the budgets, then handed to ``recorders``.
    With a ``tracer_provider``, each request to a provider is a span. Each of
    ``circuit_listeners`` hears of every event of the providers' circuit breakers.
    """
{% else %}
async def open_llm_service(
    settings: Settings, limiter: RateLimiter, recorders: Sequence[UsageRecorder] = ()
) -> AsyncIterator[LLMService]:
    """The service with its SDK clients and cache, closed again on exit.

    Each call is logged and charged to the budgets, then handed to ``recorders``.
    """
{% endif %}
    _quiet_sdk_loggers()
    async with AsyncExitStack() as resources:
        tls = await asyncio.to_thread(_provider_tls)
        providers = [_provider(name, settings, tls) for name in settings.llm_providers]
        for provider in providers:
            resources.push_async_callback(provider.aclose)
{% if cookiecutter.observability == "yes" %}
        if tracer_provider is not None:
            tracer = tracer_provider.get_tracer(__name__)
            providers = [TracedProvider(provider, tracer) for provider in providers]
{% endif %}
        cache = Cache()
{% if cookiecutter.redis == "yes" %}
        # Errors are raised (and the cache skipped a while), not logged with a traceback each.
        if settings.llm_cache_url.startswith(("redis://", "rediss://")):
            cache.setup(
                settings.llm_cache_url,
                suppress=False,
                wait_for_connection_timeout=settings.redis_timeout,
                **redis_timeouts(settings),
            )
        else:
            cache.setup(settings.llm_cache_url, suppress=False)
{% else %}
        # Errors are raised (and the cache skipped a while), not logged with a traceback each.
        cache.setup(settings.llm_cache_url, suppress=False)
{% endif %}
        resources.push_async_callback(cache.close)
        breakers = AsyncCircuitBreakerFactory(
            default_threshold=settings.llm_breaker_threshold,
            default_ttl=settings.llm_breaker_reset_seconds,
            exclude=[ProviderRejectedError, asyncio.CancelledError],
        )
        breakers.add_listener(_log_circuit_change)
{% if cookiecutter.observability == "yes" %}
        for listener in circuit_listeners:
            breakers.add_listener(listener)
{% endif %}
        quota = LLMQuota(limiter, settings)
        yield LLMService(
            settings,
            providers,
            cache=cache,
            breakers=breakers,
            quota=quota,
            recorders=[LogUsageRecorder(), quota, *recorders],
        )
