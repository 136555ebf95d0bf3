"""Rate limits on the ``limits`` library, shared by every module that limits requests.

The storage comes from ``RATE_LIMIT_STORAGE_URI``: in-process memory by default,
Redis to share the counters across workers and machines. When a shared storage
fails, or does not answer in time, the limiter keeps limiting with counters of
this process (``limits``' memory storage) until the storage answers again: an
outage of the counters neither stops the service nor lifts its limits. The
outage is logged once, when it starts (``rate_limit_storage_unavailable``),
and once when it ends.

Budgets (``ensure_budget`` and ``charge``) are fixed windows charged after the
fact, with what a call turned out to cost: they refuse new calls once spent.
"""

import math
import time
{% if cookiecutter.redis == "yes" %}
from collections.abc import Awaitable, Callable, Mapping
{% else %}
from collections.abc import Awaitable, Callable
{% endif %}
from typing import Any, TypeVar

from limits import RateLimitItem
from limits.aio.strategies import FixedWindowRateLimiter, SlidingWindowCounterRateLimiter
from limits.errors import StorageError
from limits.storage import storage_from_string
{% if cookiecutter.redis == "yes" %}
from redis.asyncio import ConnectionPool
{% endif %}

from {{ cookiecutter.package_name }}.core.errors import RateLimitedError
from {{ cookiecutter.package_name }}.core.outage import Outage

T = TypeVar("T")


def _seconds_until(reset_time: float) -> int:
    return max(1, math.ceil(reset_time - time.time()))


class _Counters:
    """The limits (sliding windows) and the budgets (fixed windows) of one storage.

    Each method answers None when the request may go ahead, else the seconds to wait.
    """

    def __init__(self, storage_uri: str, **options: Any) -> None:
        storage = storage_from_string(storage_uri, wrap_exceptions=True, **options)
        self.limits = SlidingWindowCounterRateLimiter(storage)
        self.budgets = FixedWindowRateLimiter(storage)

    async def hit(
        self, limit: RateLimitItem, identifiers: tuple[str, ...], cost: int
    ) -> int | None:
        if await self.limits.hit(limit, *identifiers, cost=cost):
            return None
        stats = await self.limits.get_window_stats(limit, *identifiers)
        return _seconds_until(stats.reset_time)

    async def test(
        self, limit: RateLimitItem, identifiers: tuple[str, ...], cost: int
    ) -> int | None:
        if await self.limits.test(limit, *identifiers, cost=cost):
            return None
        stats = await self.limits.get_window_stats(limit, *identifiers)
        return _seconds_until(stats.reset_time)

    async def test_budget(self, budget: RateLimitItem, identifiers: tuple[str, ...]) -> int | None:
        if await self.budgets.test(budget, *identifiers):
            return None
        stats = await self.budgets.get_window_stats(budget, *identifiers)
        return _seconds_until(stats.reset_time)

    async def charge(self, budget: RateLimitItem, identifiers: tuple[str, ...], cost: int) -> None:
        await self.budgets.hit(budget, *identifiers, cost=cost)


class RateLimiter:
{% if cookiecutter.redis == "yes" %}
    def __init__(
        self,
        storage_uri: str,
        key_prefix: str = "ratelimit",
        connection_pool: ConnectionPool | None = None,
        redis_options: Mapping[str, Any] | None = None,
    ) -> None:
        """``connection_pool``: an open pool to the Redis of ``storage_uri``, to share;
        else the limiter opens one of its own with ``redis_options`` (its timeouts), and
        ``aclose`` closes it.
        """
        uri = storage_uri if storage_uri.startswith("async+") else f"async+{storage_uri}"
        options: dict[str, Any] = (
            {"key_prefix": key_prefix, "implementation": "redispy"}
            if uri.startswith("async+redis")
            else {}
        )
        self._own_pool: ConnectionPool | None = None
        if uri.startswith(("async+redis://", "async+rediss://")) and connection_pool is None:
            url = uri.removeprefix("async+")
            connection_pool = self._own_pool = ConnectionPool.from_url(url, **(redis_options or {}))
        if options and connection_pool is not None:
            options["connection_pool"] = connection_pool
{% else %}
    def __init__(self, storage_uri: str, key_prefix: str = "ratelimit") -> None:
        uri = storage_uri if storage_uri.startswith("async+") else f"async+{storage_uri}"
        options: dict[str, str] = (
            {"key_prefix": key_prefix, "implementation": "redispy"}
            if uri.startswith("async+redis")
            else {}
        )
{% endif %}
        self._counters = _Counters(uri, **options)
        # This process's own counters, for while a shared storage is down.
        self._fallback = None if uri.startswith("async+memory") else _Counters("async+memory://")
        self._outage = Outage("rate_limit_storage")

{% if cookiecutter.redis == "yes" %}
    async def aclose(self) -> None:
        """Close the connections the limiter opened (a shared pool is its owner's to close)."""
        if self._own_pool is not None:
            await self._own_pool.aclose()

{% endif %}
    async def _counted(self, operation: Callable[[_Counters], Awaitable[T]]) -> T:
        """``operation`` on the storage's counters; on this process's while the storage is down."""
        if self._fallback is None:
            return await operation(self._counters)
        if not self._outage.ongoing:
            try:
                result = await operation(self._counters)
            except StorageError as exc:
                self._outage.failed(exc.storage_error)
            else:
                self._outage.answered()
                return result
        return await operation(self._fallback)

    async def hit(self, limit: RateLimitItem, *identifiers: str, cost: int = 1) -> None:
        """Count ``cost`` against ``limit`` for ``identifiers``; raise 429 when it is spent."""
        retry_after = await self._counted(lambda counters: counters.hit(limit, identifiers, cost))
        if retry_after is not None:
            raise RateLimitedError(
                f"Rate limit of {limit} exceeded; retry in {retry_after}s.", retry_after=retry_after
            )

    async def check(self, limit: RateLimitItem, *identifiers: str) -> None:
        """Raise 429 when ``limit`` has no room left for ``identifiers``; counts nothing.

        With ``count``: refuse while too many attempts failed, count only the failures.
        """
        retry_after = await self._counted(lambda counters: counters.test(limit, identifiers, 1))
        if retry_after is not None:
            raise RateLimitedError(
                f"Rate limit of {limit} exceeded; retry in {retry_after}s.", retry_after=retry_after
            )

    async def count(self, limit: RateLimitItem, *identifiers: str) -> None:
        """Count one against ``limit`` for ``identifiers``, without refusing anything."""
        await self._counted(lambda counters: counters.hit(limit, identifiers, 1))

    async def ensure_budget(self, budget: RateLimitItem, *identifiers: str) -> None:
        """Raise 429 once ``budget`` is spent for ``identifiers``; counts nothing."""
        retry_after = await self._counted(
            lambda counters: counters.test_budget(budget, identifiers)
        )
        if retry_after is not None:
            raise RateLimitedError(
                f"Budget of {budget} is spent; retry in {retry_after}s.", retry_after=retry_after
            )

    async def charge(self, budget: RateLimitItem, *identifiers: str, cost: int) -> None:
        """Count ``cost`` against ``budget``, past its end if need be (it was already spent)."""
        await self._counted(lambda counters: counters.charge(budget, identifiers, cost))
