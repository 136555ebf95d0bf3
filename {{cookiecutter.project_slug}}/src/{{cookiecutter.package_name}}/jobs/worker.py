{% set rag = cookiecutter.rag == "yes" %}
"""The job worker: ``uv run {{ cookiecutter.project_slug }}-worker``.

Runs the jobs the app puts on the Redis queue, up to ``WORKER_MAX_JOBS`` at a
time. Start as many workers as the load needs. On SIGTERM or SIGINT a worker
stops taking jobs and gives the running ones ``GRACEFUL_SHUTDOWN_TIMEOUT``
seconds to finish. ``--check`` exits 0 when a worker of the queue reported
itself healthy in the last ``HEALTH_CHECK_INTERVAL`` seconds (for container
health checks).
{% if rag %}

Each worker opens its own database engine and LLM service for the ingestion job.
{% endif %}
"""

import argparse
import asyncio
import sys
{% if rag %}
from contextlib import AsyncExitStack
{% endif %}
from typing import Any

from arq.connections import RedisSettings
from arq.typing import WorkerCoroutine
from arq.worker import Worker, async_check_health

from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.core.logging import configure_logging
{% if rag %}
from {{ cookiecutter.package_name }}.database.engine import create_engine, create_session_factory
from {{ cookiecutter.package_name }}.jobs.ingestion import index_document, open_indexer
from {{ cookiecutter.package_name }}.jobs.tasks import JobContext, analyze_text

JOBS: list[WorkerCoroutine] = [analyze_text, index_document]
{% else %}
from {{ cookiecutter.package_name }}.jobs.tasks import analyze_text

JOBS: list[WorkerCoroutine] = [analyze_text]
{% endif %}

HEALTH_CHECK_INTERVAL = 30
{% if rag %}


async def startup(ctx: JobContext) -> None:
    """Open what the ingestion job uses: the database and ``ctx["indexer"]``."""
    settings: Settings = ctx["settings"]
    resources = AsyncExitStack()
    try:
        engine = create_engine(settings)
        resources.push_async_callback(engine.dispose)
        ctx["indexer"] = await resources.enter_async_context(
            open_indexer(settings, create_session_factory(engine))
        )
    except BaseException:
        await resources.aclose()
        raise
    ctx["resources"] = resources


async def shutdown(ctx: JobContext) -> None:
    resources: AsyncExitStack = ctx["resources"]
    await resources.aclose()
{% endif %}


def create_worker(settings: Settings, **options: Any) -> Worker:
    """A worker for the service's queue; ``options`` override arq ``Worker`` arguments."""
    arguments: dict[str, Any] = {
        "functions": JOBS,
        "redis_settings": RedisSettings.from_dsn(settings.redis_url),
        "queue_name": settings.job_queue_name,
        "max_jobs": settings.worker_max_jobs,
        "job_timeout": settings.job_timeout,
        # On SIGTERM, stop taking jobs and give the running ones time to finish.
        "job_completion_wait": settings.graceful_shutdown_timeout,
        # Refreshes the key that ``--check`` looks for.
        "health_check_interval": HEALTH_CHECK_INTERVAL,
{% if rag %}
        "ctx": {"settings": settings},
        "on_startup": startup,
        "on_shutdown": shutdown,
{% endif %}
    }
    return Worker(**(arguments | options))


async def run(settings: Settings) -> None:
    worker = create_worker(settings)
    try:
        await worker.async_run()
    finally:
        await worker.close()


async def check(settings: Settings) -> int:
    redis_settings = RedisSettings.from_dsn(settings.redis_url)
    return await async_check_health(redis_settings, queue_name=settings.job_queue_name)


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the background job worker.")
    parser.add_argument("--check", action="store_true", help="exit 0 if a worker is healthy")
    arguments = parser.parse_args()
    settings = Settings()
    configure_logging(settings)
    if arguments.check:
        sys.exit(asyncio.run(check(settings)))
    asyncio.run(run(settings))


if __name__ == "__main__":
    main()
