"""The job queue: request handlers put work on it through ``JobQueueDep``.
{% if cookiecutter.redis == "yes" %}

The queue lives in Redis and the worker runs the jobs (see ``jobs/worker.py``):
they survive restarts of the app, and any number of workers share the queue.
"""

from collections.abc import Awaitable, Callable
from typing import Any, Concatenate, ParamSpec

from arq.connections import ArqRedis
from arq.jobs import Job, JobStatus
from redis.exceptions import RedisError

from {{ cookiecutter.package_name }}.core.errors import NotFoundError, ServiceUnavailableError
from {{ cookiecutter.package_name }}.jobs.tasks import JobContext
from {{ cookiecutter.package_name }}.models.jobs import JobState

P = ParamSpec("P")


class JobQueue:
    def __init__(self, redis: ArqRedis, queue_name: str) -> None:
        self._redis = redis
        self._queue_name = queue_name

    async def enqueue(
        self,
        job: Callable[Concatenate[JobContext, P], Awaitable[object]],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> str:
        """Queue ``job(ctx, *args, **kwargs)`` for the worker; return the job ID."""
        # Checked against the job's signature above; arq's own options start with "_".
        arguments: dict[str, Any] = dict(kwargs)
        try:
            queued = await self._redis.enqueue_job(
                job.__name__, *args, _queue_name=self._queue_name, **arguments
            )
        except RedisError as exc:
            raise ServiceUnavailableError("The job queue is unavailable.") from exc
        if queued is None:
            # arq refuses a job only when its ID is already taken; enqueue never picks one.
            raise ServiceUnavailableError("The job queue refused the job.")
        return queued.job_id

    async def state(self, job_id: str) -> JobState:
        """Where the job is, and its result once it is done."""
        job = Job(job_id, self._redis, _queue_name=self._queue_name)
        try:
            status = await job.status()
            info = await job.result_info() if status is JobStatus.complete else None
        except RedisError as exc:
            raise ServiceUnavailableError("The job queue is unavailable.") from exc
        if status is JobStatus.not_found:
            raise NotFoundError(f"No job {job_id}; finished jobs are kept for a limited time.")
        if info is None:
            return JobState(job_id=job_id, status=status.value)
        if not info.success:
            # The exception may hold anything the job touched: the worker's log has it.
            return JobState(job_id=job_id, status="failed")
        return JobState(job_id=job_id, status="complete", result=info.result)
{% else %}

Jobs run in this process after the response is sent (FastAPI ``BackgroundTasks``).
Fire and forget: a job is lost if the process stops first, and nothing retries
it: jobs that must not be lost belong on a durable queue with its own worker.
"""

from collections.abc import Awaitable, Callable
from typing import Concatenate, ParamSpec
from uuid import uuid4

import structlog
from fastapi import BackgroundTasks

from {{ cookiecutter.package_name }}.jobs.tasks import JobContext

P = ParamSpec("P")

logger = structlog.get_logger(__name__)


class JobQueue:
    def __init__(self, background_tasks: BackgroundTasks) -> None:
        self._background_tasks = background_tasks

    async def enqueue(
        self,
        job: Callable[Concatenate[JobContext, P], Awaitable[object]],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> str:
        """Run ``job(ctx, *args, **kwargs)`` once the response is sent; return the job ID."""
        job_id = uuid4().hex

        async def run() -> None:
            try:
                await job({"job_id": job_id}, *args, **kwargs)
            except Exception:
                logger.exception("job_failed", job=job.__name__, job_id=job_id)

        self._background_tasks.add_task(run)
        return job_id
{% endif %}
