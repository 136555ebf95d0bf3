"""The Redis client of the service: one connection pool, opened by the lifespan.

The client is arq's ``ArqRedis``, a ``redis.asyncio.Redis`` that can also
enqueue jobs, so caches and the job queue share one pool. Every connection and
every command has a short timeout (``REDIS_CONNECT_TIMEOUT``, ``REDIS_TIMEOUT``):
a Redis that accepts connections but never answers is noticed within them,
not at the request timeout.
"""

from typing import Any

from arq.connections import ArqRedis

from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.core.health import HealthCheck


def redis_timeouts(settings: Settings) -> dict[str, Any]:
    """The timeouts of every Redis client of the service, as redis-py options."""
    return {
        "socket_connect_timeout": settings.redis_connect_timeout,
        "socket_timeout": settings.redis_timeout,
    }


def create_redis(settings: Settings) -> ArqRedis:
    """Connects lazily: a Redis outage fails readiness, not startup."""
    client: ArqRedis = ArqRedis.from_url(
        settings.redis_url, health_check_interval=30, **redis_timeouts(settings)
    )
    return client


def redis_check(client: ArqRedis) -> HealthCheck:
    async def check() -> None:
        await client.ping()

    return check
