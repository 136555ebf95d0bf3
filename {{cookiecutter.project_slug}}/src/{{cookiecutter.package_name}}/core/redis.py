"""The Redis client of the service: one connection pool, opened by the lifespan.

The client is arq's ``ArqRedis``, a ``redis.asyncio.Redis`` that can also
enqueue jobs, so caches and the job queue share one pool.
"""

from arq.connections import ArqRedis

from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.services.health_service import HealthCheck


def create_redis(settings: Settings) -> ArqRedis:
    """Connects lazily: a Redis outage fails readiness, not startup."""
    client: ArqRedis = ArqRedis.from_url(
        settings.redis_url,
        socket_connect_timeout=settings.redis_connect_timeout,
        health_check_interval=30,
    )
    return client


def redis_check(client: ArqRedis) -> HealthCheck:
    async def check() -> None:
        await client.ping()

    return check
