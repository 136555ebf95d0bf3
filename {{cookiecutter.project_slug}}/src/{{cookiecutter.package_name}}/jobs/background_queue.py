"""The job queue: request handlers put work on it through ``JobQueueDep``.

Jobs run in this process after the response is sent (FastAPI ``BackgroundTasks``).
Fire and forget: a job is lost if the process stops first, and nothing retries
it: jobs that must not be lost belong on a durable queue with its own worker.
"""

from collections.abc import Awaitable, Callable
from typing import Concatenate, ParamSpec
from uuid import uuid4

import structlog
from fastapi import BackgroundTasks

from {{ cookiecutter.package_name }}.jobs.payload import check_payload
from {{ cookiecutter.package_name }}.jobs.tasks import JobContext

P = ParamSpec("P")

logger = structlog.get_logger(__name__)


class JobQueue:
    def __init__(
        self, background_tasks: BackgroundTasks, *, max_payload_bytes: int | None = None
    ) -> None:
        """``max_payload_bytes``: the most a job's arguments may take, as JSON (None: any)."""
        self._background_tasks = background_tasks
        self._max_payload_bytes = max_payload_bytes

    async def enqueue(
        self,
        job: Callable[Concatenate[JobContext, P], Awaitable[object]],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> str:
        """Run ``job(ctx, *args, **kwargs)`` once the response is sent; return the job ID."""
        check_payload(args, dict(kwargs), self._max_payload_bytes)
        job_id = uuid4().hex

        async def run() -> None:
            try:
                await job({"job_id": job_id}, *args, **kwargs)
            except Exception:
                logger.exception("job_failed", job=job.__name__, job_id=job_id)

        self._background_tasks.add_task(run)
        return job_id
