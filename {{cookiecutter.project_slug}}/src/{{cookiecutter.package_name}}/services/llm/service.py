{% set anthropic = cookiecutter.llm in ["anthropic", "anthropic_and_openai"] %}
{% set openai = cookiecutter.llm in ["openai", "anthropic_and_openai"] %}
"""LLM calls: limits, cache, retries, circuit breakers, fallback, tools, usage and cost.

``LLMService`` is the one way the API reaches a provider. For each call it
checks that the model takes what the request asks for, counts the caller's
requests and tokens, answers identical deterministic requests from the cache
(``cache.py``) and otherwise tries the configured providers in order: each with a
few tries behind its own circuit breaker, falling back to the next provider when
one fails (``resilience.py``). When the model calls tools, they run and the model
is asked again, up to ``LLM_MAX_TOOL_STEPS`` turns, on the provider that answered
first; an answer in a ``response_format`` is validated (and asked for once more
if invalid). Every call, whatever its outcome, is handed once to the usage
recorders, with what all its turns used: the usage the provider reported, or for
a turn that broke off (a failure midway, a client that left, a timeout) what was
reported until then, completed by estimates (the prompt's length, the text
received).
"""

import asyncio
import json
import logging
import ssl
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Sequence
from contextlib import AsyncExitStack, aclosing, asynccontextmanager
from dataclasses import dataclass, field, replace
from functools import partial
from http import HTTPStatus
from typing import Any

import jsonschema_rs
import structlog
from asgi_correlation_id import correlation_id
from cashews import Cache
{% if cookiecutter.observability == "yes" %}
from opentelemetry.trace import TracerProvider
{% endif %}
{% if cookiecutter.rag == "yes" %}
from purgatory.domain.model import OpenedState
{% endif %}
{% if cookiecutter.observability == "yes" %}
from purgatory.typing import Hook
{% endif %}
from pydantic import SecretStr

from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.core.errors import (
    AppError,
    BadRequestError,
    InvalidRequestError,
    ServiceUnavailableError,
)
from {{ cookiecutter.package_name }}.core.health import CheckFailedError
{% if cookiecutter.rag == "yes" %}
from {{ cookiecutter.package_name }}.core.llm_types import EmbeddingProviderName, ProviderName
{% else %}
from {{ cookiecutter.package_name }}.core.llm_types import ProviderName
{% endif %}
from {{ cookiecutter.package_name }}.core.problems import FieldError, ProblemDetail
from {{ cookiecutter.package_name }}.core.rate_limit import RateLimiter
{% if cookiecutter.redis == "yes" %}
from {{ cookiecutter.package_name }}.core.redis import redis_timeouts
{% endif %}
from {{ cookiecutter.package_name }}.core.tls import outgoing_tls
from {{ cookiecutter.package_name }}.models.llm import (
    LLMRequest,
    LLMResponse,
    Message,
    StreamDelta,
    StreamUsage,
    TokenUsage,
    ToolCall,
    ToolInfo,
    ToolResult,
)
from {{ cookiecutter.package_name }}.services.llm.cache import ResponseCache
from {{ cookiecutter.package_name }}.services.llm.catalog import service_tools
from {{ cookiecutter.package_name }}.services.llm.providers.base import (
    Completion,
    LLMProvider,
    OutputFormat,
    ProviderCall,
    ProviderError,
{% if cookiecutter.rag == "yes" %}
    ProviderRejectedError,
{% endif %}
    StreamChunk,
    ToolStep,
    Turn,
    cleanup_scope,
)
from {{ cookiecutter.package_name }}.services.llm.providers.fake import FakeProvider
{% if openai %}
{% endif %}
from {{ cookiecutter.package_name }}.services.llm.quota import (
    LLMQuota,
    estimate_prompt_tokens,
    estimate_turn_tokens,
    tokens_in,
)
from {{ cookiecutter.package_name }}.services.llm.resilience import Resilience
{% if cookiecutter.observability == "yes" %}
from {{ cookiecutter.package_name }}.services.llm.telemetry import TracedProvider
{% endif %}
from {{ cookiecutter.package_name }}.services.llm.tools import (
    Tool,
    Toolbox,
    ToolContext,
    ToolRegistry,
)
from {{ cookiecutter.package_name }}.services.llm.usage import (
    CallStatus,
    LLMCallRecord,
    LogUsageRecorder,
    UsageRecorder,
    cost_of,
)
{% if cookiecutter.rag == "yes" %}
from {{ cookiecutter.package_name }}.services.rag.embeddings import Embedder, Purpose, open_embedder
{% endif %}

StreamEvent = StreamDelta | ToolCall | ToolResult | StreamUsage | ProblemDetail
"""Deltas (with the tool calls and their results between the turns), then one
``StreamUsage``, or a ``ProblemDetail`` if the stream fails midway."""
OpenedStream = tuple[AsyncGenerator[StreamChunk], StreamChunk]
Candidates = list[tuple[LLMProvider, ProviderCall]]
OUTPUT_RETRY_PROMPT = (
    "That answer is not valid: {problem}. Answer again with only the JSON, matching the schema."
)

logger = structlog.get_logger(__name__)


class LLMTimeoutError(AppError):
    status_code = HTTPStatus.GATEWAY_TIMEOUT
    code = "llm_timeout"


class LLMOutputInvalidError(AppError):
    """The model's answer did not match the requested ``response_format``, twice."""

    status_code = HTTPStatus.BAD_GATEWAY
    code = "llm_output_invalid"


class _InvalidOutputError(ValueError):
    pass


def _plus(first: TokenUsage, second: TokenUsage) -> TokenUsage:
    return TokenUsage(
        input_tokens=first.input_tokens + second.input_tokens,
        output_tokens=first.output_tokens + second.output_tokens,
        cache_read_tokens=first.cache_read_tokens + second.cache_read_tokens,
        cache_write_tokens=first.cache_write_tokens + second.cache_write_tokens,
        reasoning_tokens=first.reasoning_tokens + second.reasoning_tokens,
    )


def _parse_output(request: LLMRequest, text: str) -> Any:
    """The answer as JSON that matches ``request.response_format``."""
    if request.response_format is None:
        return None
    try:
        output = json.loads(text)
    except ValueError as exc:
        msg = "it is not JSON"
        raise _InvalidOutputError(msg) from exc
    validator = jsonschema_rs.validator_for(request.response_format.json_schema)
    if error := next(validator.iter_errors(output), None):
        path = "/".join(map(str, error.instance_path)) or "the answer"
        raise _InvalidOutputError(f"{path}: {error.message}"[:300])
    return output


def _field_error(field_name: str, message: str) -> FieldError:
    return FieldError(loc=["body", field_name], msg=message, type="unsupported_by_model")


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
    """The text streamed so far (of this turn)."""
    spent: TokenUsage = field(default_factory=TokenUsage)
    """What the turns finished so far used (a tool call asks the model again)."""
    steps: int = 0

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

    def turn_done(self, usage: TokenUsage) -> None:
        self.spent, self.steps = _plus(self.spent, usage), self.steps + 1
        self.reached, self.reported, self.received = False, None, []

    def succeeded(self, usage: TokenUsage, cost: float, answer: str) -> None:
        self.usage, self.cost, self.answer, self.status = usage, cost, answer, "ok"

    def failed(self, exc: BaseException) -> None:
        if isinstance(exc, asyncio.CancelledError | GeneratorExit):
            self.status = "cancelled"
        else:
            self.status = "error"
            self.error_code = exc.code if isinstance(exc, AppError) else "internal_error"


def problem_event(exc: AppError) -> ProblemDetail:
    """The ``error`` event that ends a stream failing with ``exc``."""
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
        cache: ResponseCache,
        resilience: Resilience,
        quota: LLMQuota,
        recorders: Sequence[UsageRecorder],
        tools: ToolRegistry,
{% if cookiecutter.rag == "yes" %}
        embedder: Embedder,
{% endif %}
    ) -> None:
        self._settings = settings
        self._tools = tools
        self._providers = providers
        self._cache = cache
        self._resilience = resilience
        self._quota = quota
        self._recorders = recorders
{% if cookiecutter.rag == "yes" %}
        self._embedder = embedder
{% endif %}

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

    @property
    def tools(self) -> list[ToolInfo]:
        return self._tools.info()

    def toolbox(self, context: ToolContext) -> Toolbox:
        """The service's tools, run for the caller of ``context``."""
        return self._tools.toolbox(context, timeout=self._settings.llm_tool_timeout)

    async def complete(
        self,
        request: LLMRequest,
        caller: str,
        *,
        toolbox: Toolbox | None = None,
        history: Sequence[Turn] = (),
    ) -> LLMResponse:
        """``history``: the turns before the request's (a stored conversation)."""
        prompt_tokens = estimate_prompt_tokens(request) + estimate_turn_tokens(history)
        call = _Call(caller=caller, streamed=False, prompt_tokens=prompt_tokens)
        try:
            return await self._complete(request, call, toolbox, history)
        except BaseException as exc:
            call.failed(exc)
            raise
        finally:
            with cleanup_scope():
                self._settle(call)
                await self._record(request, call)

    async def stream(
        self,
        request: LLMRequest,
        caller: str,
        *,
        toolbox: Toolbox | None = None,
        history: Sequence[Turn] = (),
    ) -> AsyncGenerator[StreamEvent]:
        """Errors before the first event are raised; later ones end the stream as an event."""
        prompt_tokens = estimate_prompt_tokens(request) + estimate_turn_tokens(history)
        call = _Call(caller=caller, streamed=True, prompt_tokens=prompt_tokens)
        try:
            async with aclosing(self._stream(request, call, toolbox, history)) as events:
                async for event in events:
                    yield event
        except BaseException as exc:
            call.failed(exc)
            raise
        finally:
            with cleanup_scope():
                self._settle(call)
                await self._record(request, call)

{% if cookiecutter.rag == "yes" %}
    async def embed(self, texts: Sequence[str], caller: str, purpose: Purpose) -> list[list[float]]:
        """The embeddings of ``texts``, in batches of ``EMBEDDING_BATCH_SIZE``.

        Each batch gets the provider's tries behind a circuit breaker of its own (the
        embeddings fail apart from the completions); the call counts against the
        caller's limits and budgets and goes to the usage ledger as one call, as a
        completion does.
        """
        embedder = self._embedder
        estimate = sum(tokens_in(text) for text in texts)
        call = _Call(caller=caller, streamed=False, prompt_tokens=estimate)
        call.model = embedder.model
        try:
            await self._quota.admit(caller)
            await self._quota.reserve(caller, estimate)
            vectors: list[list[float]] = []
            size = self._settings.embedding_batch_size
            for start in range(0, len(texts), size):
                batch = partial(embedder.embed, texts[start : start + size], purpose)
                try:
                    embedded = await self._resilience.with_retries(
                        f"{embedder.name}-embeddings", batch, call
                    )
                except ProviderRejectedError as exc:
                    msg = f"The embedding provider refused the request ({exc})."
                    raise BadRequestError(msg) from exc
                except (ProviderError, OpenedState) as exc:
                    logger.warning("embedding_failed", provider=embedder.name, error=str(exc))
                    msg = "The embedding provider could not answer; try again later."
                    raise ServiceUnavailableError(msg) from exc
                vectors.extend(embedded.vectors)
                call.turn_done(TokenUsage(input_tokens=embedded.tokens))
            call.succeeded(call.spent, self._cost(embedder.model, call.spent), "")
        except BaseException as exc:
            call.failed(exc)
            raise
        finally:
            with cleanup_scope():
                self._settle(call)
                await self._publish(self._record_of(call, provider=embedder.name))
        return vectors

{% endif %}
    async def count_tokens(self, request: LLMRequest, history: Sequence[Turn] = ()) -> int:
        """The prompt's tokens (``history`` included), as the provider of the request's model
        counts them where it can, else a conservative estimate. Calls no model.
        """
        call = _Call(caller="", streamed=False)
        provider, provider_call = self._candidates(request, call, history)[0]
        try:
            counted = await provider.count_tokens(provider_call)
        except ProviderError as exc:
            logger.warning("llm_count_tokens_failed", provider=provider.name, error=str(exc))
            counted = None
        if counted is not None:
            return counted
        return estimate_prompt_tokens(request) + estimate_turn_tokens(history)

    def context_window(self, request: LLMRequest) -> int:
        """The tokens ``request`` has for prompt and answer: the least of the models that may
        answer it (fallback included), as ``LLM_MODELS`` has them.
        """
        candidates = self._candidates(request, _Call(caller="", streamed=False))
        return min(self._settings.capabilities(c.model).context_window for _, c in candidates)

    async def _complete(
        self, request: LLMRequest, call: _Call, toolbox: Toolbox | None, history: Sequence[Turn]
    ) -> LLMResponse:
        candidates = self._candidates(request, call, history)
        offered = self._offered(request, toolbox)
        await self._quota.admit(call.caller)
        model = candidates[0][1].model
        # An answer that ran tools, or that follows a stored conversation, is not reused.
{% if cookiecutter.auth != "none" %}
        cache_key = None if history or offered else self._cache.key(request, model, call.caller)
{% else %}
        cache_key = None if history or offered else self._cache.key(request, model)
{% endif %}
        if cache_key and (hit := await self._cache.get(cache_key)):
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
        await self._quota.reserve(call.caller, call.prompt_tokens + request.max_tokens)
        calls: list[ToolCall] = []
        results: list[ToolResult] = []
        try:
            async with asyncio.timeout(self._settings.llm_total_timeout):
                for _ in range(self._settings.llm_max_tool_steps):
                    provider, provider_call, completion = await self._resilience.first_available(
                        candidates, _completion_from, call
                    )
                    call.turn_done(completion.usage)
                    if not (completion.tool_calls and offered and toolbox) or self._last(call):
                        break
                    step = await self._run_tools(provider, completion, offered, toolbox)
                    calls += _tool_calls(step)
                    results += _tool_results(step)
                    candidates = self._next_turn(provider, provider_call, step, call)
                output, completion = await self._checked_output(
                    request, provider, provider_call, completion, call
                )
        except TimeoutError as exc:
            raise LLMTimeoutError("The LLM call took too long.") from exc
        cost = self._cost(provider_call.model, call.spent)
        call.succeeded(call.spent, cost, completion.text)
        response = LLMResponse(
            text=completion.text,
            output=output,
            tool_calls=calls,
            tool_results=results,
            steps=call.steps,
            usage=call.spent,
            cost=cost,
            duration_ms=call.duration_ms,
            model=provider_call.model,
            provider=provider.name,
            request_id=correlation_id.get(),
            cached=False,
            fallback_from=call.fallback_from,
        )
        if cache_key:
            await self._cache.put(cache_key, response)
        return response

    async def _checked_output(
        self,
        request: LLMRequest,
        provider: LLMProvider,
        provider_call: ProviderCall,
        completion: Completion,
        call: _Call,
    ) -> tuple[Any, Completion]:
        """The answer's JSON for a ``response_format``: asked for once more if invalid."""
        try:
            return _parse_output(request, completion.text), completion
        except _InvalidOutputError as exc:
            logger.warning("llm_output_invalid", provider=provider.name, problem=str(exc))
            retry = _retry_turn(provider_call, completion, str(exc))
        _, _, completion = await self._resilience.first_available(
            [(provider, retry)], _completion_from, call
        )
        call.turn_done(completion.usage)
        try:
            return _parse_output(request, completion.text), completion
        except _InvalidOutputError as exc:
            msg = f"The model's answer did not match the response format ({exc})."
            raise LLMOutputInvalidError(msg) from exc

    async def _run_tools(
        self,
        provider: LLMProvider,
        completion: Completion,
        offered: Sequence[Tool],
        toolbox: Toolbox,
    ) -> ToolStep:
        """One after the other: the tools of one request share its database session."""
        outcomes = [await toolbox.run(use, offered) for use in completion.tool_calls]
        return ToolStep(
            provider=provider.name,
            text=completion.text,
            calls=completion.tool_calls,
            outcomes=tuple(outcomes),
            native=completion.native,
        )

    def _last(self, call: _Call, ahead: int = 0) -> bool:
        """Whether the turn ``ahead`` of the last one done is the last the limit allows."""
        return call.steps + ahead >= self._settings.llm_max_tool_steps

    def _next_turn(
        self, provider: LLMProvider, provider_call: ProviderCall, step: ToolStep, call: _Call
    ) -> Candidates:
        """The next turn goes to the provider that made the tool calls. The last one the
        limit allows may not call tools: it must answer with what it has."""
        return [
            (
                provider,
                replace(
                    provider_call,
                    messages=[*provider_call.messages, step],
                    tool_choice="none" if self._last(call, ahead=1) else "auto",
                ),
            )
        ]

    async def _stream(
        self, request: LLMRequest, call: _Call, toolbox: Toolbox | None, history: Sequence[Turn]
    ) -> AsyncGenerator[StreamEvent]:
        candidates = self._candidates(request, call, history)
        offered = self._offered(request, toolbox)
        await self._quota.admit(call.caller)
        await self._quota.reserve(call.caller, call.prompt_tokens + request.max_tokens)
        deadline = asyncio.get_running_loop().time() + self._settings.llm_total_timeout
        started = False
        for _ in range(self._settings.llm_max_tool_steps):
            try:
                async with asyncio.timeout_at(deadline):
                    opened = await self._resilience.first_available(
                        candidates, partial(self._open_stream, call=call), call
                    )
                provider, provider_call, (chunks, chunk) = opened
            except TimeoutError as exc:
                failure: AppError = LLMTimeoutError("The LLM call took too long.")
                if not started:
                    raise failure from exc
                yield problem_event(failure)
                return
            except AppError as exc:
                if not started:
                    raise
                yield problem_event(exc)
                return
            started = True
            try:
                while not isinstance(chunk, Completion):
                    if isinstance(chunk, TokenUsage):
                        call.reported = chunk
                    elif chunk:
                        call.received.append(chunk)
                        yield StreamDelta(text=chunk)
                    try:
                        # A deadline per step: a timeout scope must not span a ``yield``.
                        async with asyncio.timeout_at(deadline):
                            chunk = await anext(chunks)
                    except TimeoutError:
                        failure = LLMTimeoutError("The LLM call took too long.")
                    except (ProviderError, StopAsyncIteration) as exc:
                        logger.warning("llm_stream_failed", provider=call.provider, error=str(exc))
                        failure = ServiceUnavailableError("The LLM provider failed mid-answer.")
                    else:
                        continue
                    call.answer, call.error_code = "".join(call.received), failure.code
                    yield problem_event(failure)
                    return
            finally:
                with cleanup_scope():
                    await chunks.aclose()
            completion = chunk
            call.turn_done(completion.usage)
            if not (completion.tool_calls and offered and toolbox) or self._last(call):
                break
            for use in completion.tool_calls:
                yield ToolCall(id=use.id, name=use.name, arguments=use.arguments)
            try:
                async with asyncio.timeout_at(deadline):
                    step = await self._run_tools(provider, completion, offered, toolbox)
            except TimeoutError:
                yield problem_event(LLMTimeoutError("The LLM call took too long."))
                return
            for result in _tool_results(step):
                yield result
            candidates = self._next_turn(provider, provider_call, step, call)
        try:
            output = _parse_output(request, completion.text)
        except _InvalidOutputError as exc:
            # The answer went out as it came: it cannot be asked for again.
            call.answer, call.error_code = completion.text, LLMOutputInvalidError.code
            msg = f"The model's answer did not match the response format ({exc})."
            yield problem_event(LLMOutputInvalidError(msg))
            return
        cost = self._cost(provider_call.model, call.spent)
        call.succeeded(call.spent, cost, completion.text)
        yield StreamUsage(
            output=output,
            steps=call.steps,
            usage=call.spent,
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
            while isinstance(chunk, TokenUsage) or chunk == "":
                if isinstance(chunk, TokenUsage):
                    call.reported = chunk
                chunk = await anext(chunks)
        except StopAsyncIteration as exc:
            msg = f"{provider.name} sent an empty stream"
            raise ProviderError(msg) from exc
        return chunks, chunk

    def _offered(self, request: LLMRequest, toolbox: Toolbox | None) -> list[Tool]:
        if not request.tools:
            return []
        if toolbox is None:
            msg = "Tools are not offered here."
            raise InvalidRequestError(msg, errors=[_field_error("tools", msg)])
        return self._tools.pick(request.tools)

    def _refusal(self, request: LLMRequest, model: str) -> FieldError | None:
        """What ``model`` does not take of what the request asks for."""
        can = self._settings.capabilities(model)
        if request.temperature is not None and not can.temperature:
            return _field_error("temperature", f"{model} takes no temperature.")
        if request.temperature is not None and request.thinking:
            return _field_error("temperature", "A model that thinks takes no temperature.")
        if request.thinking and not can.thinking:
            return _field_error("thinking", f"{model} does not think before answering.")
        if request.effort is not None and not can.thinking:
            return _field_error("effort", f"{model} takes no effort level.")
        if request.tools and not can.tools:
            return _field_error("tools", f"{model} calls no tools.")
        if request.response_format is not None and not can.structured_output:
            return _field_error("response_format", f"{model} has no structured output.")
        return None

    def check_model(self, model: str | None) -> None:
        """Refuse a model no configured provider offers (``None``: the provider's default)."""
        if model is None or any(model in provider.models for provider in self._providers):
            return
        offered = sorted({name for provider in self._providers for name in provider.models})
        msg = f"Unknown model {model!r}; choose one of: {', '.join(offered)}."
        raise BadRequestError(msg)

    def _candidates(
        self, request: LLMRequest, call: _Call, history: Sequence[Turn] = ()
    ) -> Candidates:
        """The providers to try, in order, each with the call it gets: those whose model
        takes everything the request asks for (a 422 naming the parameter if none does).

        The model is recorded in ``call`` only once it is known to be a configured one:
        a made-up name reaches neither the logs nor the stored usage.
        """
        self.check_model(request.model)
        if request.model is None:
            chosen = [(provider, provider.models[0]) for provider in self._providers]
        else:
            chosen = [(p, request.model) for p in self._providers if request.model in p.models]
        refusals = [self._refusal(request, model) for _, model in chosen]
        able = [pair for pair, refusal in zip(chosen, refusals, strict=True) if refusal is None]
        if not able and (refusal := refusals[0]):
            raise InvalidRequestError(refusal.msg, errors=[refusal])
        call.model = able[0][1]
        output = request.response_format
        return [
            (
                provider,
                ProviderCall(
                    model=model,
                    messages=[*history, *request.conversation],
                    system=request.system,
                    max_tokens=request.max_tokens,
                    temperature=request.temperature,
                    thinking=request.thinking,
                    effort=request.effort,
                    tools=[tool.spec() for tool in self._tools.pick(request.tools)],
                    output=OutputFormat(output.name, output.json_schema) if output else None,
                ),
            )
            for provider, model in able
        ]

    def _cost(self, model: str, usage: TokenUsage) -> float:
        return cost_of(usage, self._settings.llm_prices.get(model))

    def _settle(self, call: _Call) -> None:
        """Give a call that broke off the usage it had so far: its finished turns, and the
        one under way if it reached the provider.

        The provider charges for it all the same: so do the budgets.
        """
        if call.status == "ok" or call.model is None:
            return
        if call.usage.total_tokens:
            return  # complete already; only the answer's last event was not delivered
        call.usage = _plus(call.spent, call.usage_so_far() if call.reached else TokenUsage())
        call.cost = self._cost(call.model, call.usage)

    async def _record(self, request: LLMRequest, call: _Call) -> None:
        log_content = self._settings.llm_log_content
        await self._publish(
            self._record_of(
                call,
                provider=call.provider,
                prompt=_prompt_text(request) if log_content else None,
                answer=call.answer if log_content else None,
            )
        )

    def _record_of(
        self,
        call: _Call,
        *,
{% if cookiecutter.rag == "yes" %}
        provider: ProviderName | EmbeddingProviderName | None,
{% else %}
        provider: ProviderName | None,
{% endif %}
        prompt: str | None = None,
        answer: str | None = None,
    ) -> LLMCallRecord:
        return LLMCallRecord(
            request_id=correlation_id.get(),
            caller=call.caller,
            provider=provider,
            model=call.model,
            usage=call.usage,
            cost=call.cost,
            duration_ms=call.duration_ms,
            status=call.status,
            error_code=call.error_code,
            cached=call.cached,
            streamed=call.streamed,
            fallback_from=tuple(call.fallback_from),
            prompt=prompt,
            answer=answer,
        )

    async def _publish(self, record: LLMCallRecord) -> None:
        for recorder in self._recorders:
            try:
                await recorder.record(record)
            except Exception:
                logger.exception("llm_usage_recorder_failed", recorder=type(recorder).__name__)


async def _completion_from(provider: LLMProvider, call: ProviderCall) -> Completion:
    return await provider.complete(call)


def _retry_turn(provider_call: ProviderCall, completion: Completion, problem: str) -> ProviderCall:
    """The call again, with the invalid answer and what is wrong with it."""
    answer = Message(role="assistant", content=completion.text or "(no answer)")
    correction = Message(role="user", content=OUTPUT_RETRY_PROMPT.format(problem=problem))
    return replace(
        provider_call, messages=[*provider_call.messages, answer, correction], tool_choice="none"
    )


def _tool_calls(step: ToolStep) -> list[ToolCall]:
    return [ToolCall(id=use.id, name=use.name, arguments=use.arguments) for use in step.calls]


def _tool_results(step: ToolStep) -> list[ToolResult]:
    names = {use.id: use.name for use in step.calls}
    return [
        ToolResult(
            id=outcome.id,
            name=names.get(outcome.id, ""),
            content=outcome.content,
            is_error=outcome.is_error,
        )
        for outcome in step.outcomes
    ]


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

    async def count_tokens(self, call: ProviderCall) -> int | None:
        return None

    async def check(self, *, reachability: bool) -> None:
        raise CheckFailedError(self._problem)

    async def aclose(self) -> None:
        return None


class LazyProvider:
    """A provider made on its first use, in a worker thread: importing a provider's SDK
    takes a second or more, most of the service's cold start, and would hold up every
    request on the event loop meanwhile."""

    def __init__(
        self, name: ProviderName, models: Sequence[str], make: Callable[[], LLMProvider]
    ) -> None:
        self.name = name
        self.models = models
        self._make = make
        self._provider: LLMProvider | None = None
        self._making = asyncio.Lock()

    async def _ready(self) -> LLMProvider:
        async with self._making:
            if self._provider is None:
                self._provider = await asyncio.to_thread(self._make)
        return self._provider

    async def complete(self, call: ProviderCall) -> Completion:
        return await (self._provider or await self._ready()).complete(call)

    def stream(self, call: ProviderCall) -> AsyncGenerator[StreamChunk]:
        if self._provider is not None:
            return self._provider.stream(call)
        return self._first_stream(call)

    async def _first_stream(self, call: ProviderCall) -> AsyncGenerator[StreamChunk]:
        provider = await self._ready()
        async with aclosing(provider.stream(call)) as chunks:
            async for chunk in chunks:
                yield chunk

    async def count_tokens(self, call: ProviderCall) -> int | None:
        return await (self._provider or await self._ready()).count_tokens(call)

    async def check(self, *, reachability: bool) -> None:
        await (self._provider or await self._ready()).check(reachability=reachability)

    async def aclose(self) -> None:
        if self._provider is not None:
            await self._provider.aclose()
{% if anthropic %}


def _anthropic(settings: Settings, key: SecretStr, tls: ssl.SSLContext) -> LLMProvider:
    """The Anthropic provider: its module, and the SDK, are imported here, on first use."""
    from {{ cookiecutter.package_name }}.services.llm.providers.anthropic import (
        AnthropicProvider,
    )

    return AnthropicProvider(settings, key, tls)
{% endif %}
{% if openai %}


def _openai(settings: Settings, key: SecretStr, tls: ssl.SSLContext) -> LLMProvider:
    """The OpenAI provider: its module, and the SDK, are imported here, on first use."""
    if settings.openai_api == "chat_completions":
        from {{ cookiecutter.package_name }}.services.llm.providers.openai_chat import (
            OpenAIChatProvider,
        )

        return OpenAIChatProvider(settings, key, tls)
    from {{ cookiecutter.package_name }}.services.llm.providers.openai import (
        OpenAIProvider,
    )

    return OpenAIProvider(settings, key, tls)
{% endif %}


def _provider(name: ProviderName, settings: Settings, tls: ssl.SSLContext) -> LLMProvider:
{% if anthropic %}
    if name == "anthropic":
        key = settings.anthropic_api_key
        if key is None or not key.get_secret_value():
            return UnconfiguredProvider(name, settings.anthropic_models, "ANTHROPIC_API_KEY")
        make = partial(_anthropic, settings, key, tls)
        return LazyProvider(name, settings.anthropic_models, make)
{% endif %}
{% if openai %}
    if name == "openai":
        key = settings.openai_api_key
        if key is None or not key.get_secret_value():
            return UnconfiguredProvider(name, settings.openai_models, "OPENAI_API_KEY")
        make = partial(_openai, settings, key, tls)
        return LazyProvider(name, settings.openai_models, make)
{% endif %}
    return FakeProvider()


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
        tls = await asyncio.to_thread(outgoing_tls)
        providers = [_provider(name, settings, tls) for name in settings.llm_providers]
        for provider in providers:
            resources.push_async_callback(provider.aclose)
{% if cookiecutter.rag == "yes" and openai %}
        embedder = open_embedder(settings, tls)
        resources.push_async_callback(embedder.aclose)
{% elif cookiecutter.rag == "yes" %}
        embedder = open_embedder(settings)
        resources.push_async_callback(embedder.aclose)
{% endif %}
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
        quota = LLMQuota(limiter, settings)
        yield LLMService(
            settings,
            providers,
            cache=ResponseCache(settings, cache),
{% if cookiecutter.observability == "yes" %}
            resilience=Resilience(settings, listeners=circuit_listeners),
{% else %}
            resilience=Resilience(settings),
{% endif %}
            quota=quota,
            recorders=[LogUsageRecorder(), quota, *recorders],
            tools=service_tools(),
{% if cookiecutter.rag == "yes" %}
            embedder=embedder,
{% endif %}
        )
