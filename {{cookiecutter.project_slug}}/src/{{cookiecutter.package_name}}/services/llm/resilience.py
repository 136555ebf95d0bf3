"""Retries with backoff, a circuit breaker per provider, and fallback along the list.

Each provider gets a few tries on transient failures (exponential backoff with
jitter, or the wait the provider asked for, up to a cap) behind its own circuit
breaker; when it fails for good, or its breaker is open, the next one is tried.
A provider that refuses the request itself (a 4xx) is not retried and not
replaced: the request is at fault.
"""

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Protocol, TypeVar

import structlog
from purgatory import AsyncCircuitBreakerFactory, ContextChanged, Event
from purgatory.domain.model import OpenedState
from purgatory.typing import Hook
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, wait_random_exponential

from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.core.errors import BadRequestError, ServiceUnavailableError
from {{ cookiecutter.package_name }}.core.llm_types import ProviderName
from {{ cookiecutter.package_name }}.models.llm import TokenUsage
from {{ cookiecutter.package_name }}.services.llm.providers.base import (
    LLMProvider,
    ProviderCall,
    ProviderError,
    ProviderRejectedError,
    TransientProviderError,
)

T = TypeVar("T")
logger = structlog.get_logger(__name__)


class Tries(Protocol):
    """What a call keeps of a provider's tries: whether the one under way reached the
    provider (which then charges for it), and the usage it reported."""

    reached: bool
    reported: TokenUsage | None


class Attempts(Tries, Protocol):
    """A call's tries along the providers: who is answering, and who failed before."""

    provider: ProviderName | None
    model: str | None
    fallback_from: list[ProviderName]


class Resilience:
    def __init__(self, settings: Settings, *, listeners: Sequence[Hook] = ()) -> None:
        """``listeners`` hear of every event of the providers' circuit breakers."""
        self._settings = settings
        self._breakers = AsyncCircuitBreakerFactory(
            default_threshold=settings.llm_breaker_threshold,
            default_ttl=settings.llm_breaker_reset_seconds,
            exclude=[ProviderRejectedError, asyncio.CancelledError],
        )
        for listener in (_log_circuit_change, *listeners):
            self._breakers.add_listener(listener)
        self._backoff = wait_random_exponential(
            multiplier=settings.llm_retry_base_delay, max=settings.llm_retry_max_delay
        )

    async def first_available(
        self,
        candidates: Sequence[tuple[LLMProvider, ProviderCall]],
        operation: Callable[[LLMProvider, ProviderCall], Awaitable[T]],
        call: Attempts,
    ) -> tuple[LLMProvider, ProviderCall, T]:
        """The first provider that answers; each failure is logged and falls back to the next."""
        for provider, provider_call in candidates:
            call.provider, call.model = provider.name, provider_call.model
            try:
                result = await self.with_retries(
                    provider.name, partial(operation, provider, provider_call), call
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

    async def with_retries(
        self, name: str, operation: Callable[[], Awaitable[T]], call: Tries
    ) -> T:
        """Tries on transient failures; each one counts for the circuit breaker of ``name``.

        While a try is under way, ``call`` counts as having reached the provider: a
        timeout or a client that leaves does not stop the provider from charging.
        """
        breaker = await self._breakers.get_breaker(name)

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
            before_sleep=partial(self._log_retry, name),
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

    def _log_retry(self, provider: str, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        logger.warning(
            "llm_retry",
            provider=provider,
            attempt=state.attempt_number,
            wait_s=round(state.upcoming_sleep, 3),
            error=str(exc),
        )


def _log_circuit_change(provider: str, kind: str, event: Event) -> None:
    if isinstance(event, ContextChanged):
        logger.warning("llm_circuit_changed", provider=provider, state=event.state)
