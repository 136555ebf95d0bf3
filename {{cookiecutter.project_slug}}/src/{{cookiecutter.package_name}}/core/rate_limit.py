"""Rate limits on the ``limits`` library, shared by every module that limits requests.

The storage comes from ``RATE_LIMIT_STORAGE_URI``: in-process memory by default,
Redis to share the counters across workers and machines. When the storage
fails the limiter lets requests through and logs it: an outage of the counters
must not become an outage of the service.

Budgets (``ensure_budget`` and ``charge``) are fixed windows charged after the
fact, with what a call turned out to cost: they refuse new calls once spent.
"""

import math
import time
{% if cookiecutter.redis == "yes" %}
from typing import Any
{% endif %}

import structlog
from limits import RateLimitItem
from limits.aio.strategies import FixedWindowRateLimiter, SlidingWindowCounterRateLimiter
from limits.errors import StorageError
from limits.storage import storage_from_string
{% if cookiecutter.redis == "yes" %}
from redis.asyncio import ConnectionPool
{% endif %}

from {{ cookiecutter.package_name }}.core.errors import RateLimitedError

logger = structlog.get_logger(__name__)


class RateLimiter:
{% if cookiecutter.redis == "yes" %}
    def __init__(
        self,
        storage_uri: str,
        key_prefix: str = "ratelimit",
        connection_pool: ConnectionPool | None = None,
    ) -> None:
        """``connection_pool``: an open pool to the Redis of ``storage_uri``, to share."""
        uri = storage_uri if storage_uri.startswith("async+") else f"async+{storage_uri}"
        options: dict[str, Any] = (
            {"key_prefix": key_prefix, "implementation": "redispy"}
            if uri.startswith("async+redis")
            else {}
        )
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
        storage = storage_from_string(uri, wrap_exceptions=True, **options)
        self._strategy = SlidingWindowCounterRateLimiter(storage)
        self._budgets = FixedWindowRateLimiter(storage)

    async def hit(self, limit: RateLimitItem, *identifiers: str, cost: int = 1) -> None:
        """Count ``cost`` against ``limit`` for ``identifiers``; raise 429 when it is spent."""
        try:
            allowed = await self._strategy.hit(limit, *identifiers, cost=cost)
            if allowed:
                return
            stats = await self._strategy.get_window_stats(limit, *identifiers)
        except StorageError as exc:
            logger.warning("rate_limit_storage_unavailable", error=repr(exc.storage_error))
            return
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        raise RateLimitedError(
            f"Rate limit of {limit} exceeded; retry in {retry_after}s.", retry_after=retry_after
        )

    async def ensure_budget(self, budget: RateLimitItem, *identifiers: str) -> None:
        """Raise 429 once ``budget`` is spent for ``identifiers``; counts nothing."""
        try:
            if await self._budgets.test(budget, *identifiers):
                return
            stats = await self._budgets.get_window_stats(budget, *identifiers)
        except StorageError as exc:
            logger.warning("rate_limit_storage_unavailable", error=repr(exc.storage_error))
            return
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        raise RateLimitedError(
            f"Budget of {budget} is spent; retry in {retry_after}s.", retry_after=retry_after
        )

    async def charge(self, budget: RateLimitItem, *identifiers: str, cost: int) -> None:
        """Count ``cost`` against ``budget``, past its end if need be (it was already spent)."""
        try:
            await self._budgets.hit(budget, *identifiers, cost=cost)
        except StorageError as exc:
            logger.warning("rate_limit_storage_unavailable", error=repr(exc.storage_error))
