"""The job queue: request handlers put work on it through ``JobQueueDep``.

The queue lives in Redis and the worker runs the jobs (see ``jobs/worker.py``):
they survive restarts of the app, and any number of workers share the queue.
{% if cookiecutter.auth != "none" %}

With authentication, each caller sees the queue through ``of(owner)``: the IDs
of their jobs start with their own ID, and other callers' jobs are not found
(except by an admin's view, which sees every job).
{% endif %}
"""

from collections.abc import Awaitable, Callable
from typing import Any, Concatenate, ParamSpec
{% if cookiecutter.auth != "none" %}
from uuid import uuid4
{% endif %}

from arq.connections import ArqRedis
from arq.jobs import Job, JobStatus
from redis.exceptions import RedisError

from {{ cookiecutter.package_name }}.core.errors import NotFoundError, ServiceUnavailableError
from {{ cookiecutter.package_name }}.jobs.payload import check_payload
from {{ cookiecutter.package_name }}.jobs.tasks import JobContext
from {{ cookiecutter.package_name }}.models.jobs import JobState

P = ParamSpec("P")


class JobQueue:
    def __init__(
        self,
        redis: ArqRedis,
        queue_name: str,
        *,
        max_payload_bytes: int | None = None,
{% if cookiecutter.auth != "none" %}
        owner: str | None = None,
        sees_all: bool = True,
{% endif %}
    ) -> None:
        """``max_payload_bytes``: the most a job's arguments may take, as JSON (None: any)."""
        self._redis = redis
        self._queue_name = queue_name
        self._max_payload_bytes = max_payload_bytes
{% if cookiecutter.auth != "none" %}
        self._owner = owner
        self._sees_all = sees_all

    def of(self, owner: str, *, sees_all: bool = False) -> "JobQueue":
        """The queue as ``owner`` sees it: their jobs, or every job if ``sees_all``."""
        return JobQueue(
            self._redis,
            self._queue_name,
            max_payload_bytes=self._max_payload_bytes,
            owner=owner,
            sees_all=sees_all,
        )
{% endif %}

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
        check_payload(args, arguments, self._max_payload_bytes)
{% if cookiecutter.auth != "none" %}
        job_id = None if self._owner is None else f"{self._owner}.{uuid4().hex}"
{% endif %}
        try:
            queued = await self._redis.enqueue_job(
{% if cookiecutter.auth != "none" %}
                job.__name__, *args, _job_id=job_id, _queue_name=self._queue_name, **arguments
{% else %}
                job.__name__, *args, _queue_name=self._queue_name, **arguments
{% endif %}
            )
        except RedisError as exc:
            raise ServiceUnavailableError("The job queue is unavailable.") from exc
        if queued is None:
            # arq refuses a job only when its ID is already taken; enqueue never picks one.
            raise ServiceUnavailableError("The job queue refused the job.")
        return queued.job_id

{% if cookiecutter.observability == "yes" %}
    async def waiting(self) -> int:
        """How many jobs wait for a worker (their time to run may not have come yet)."""
        try:
            waiting: int = await self._redis.zcard(self._queue_name)
        except RedisError as exc:
            raise ServiceUnavailableError("The job queue is unavailable.") from exc
        return waiting

{% endif %}
    async def state(self, job_id: str) -> JobState:
        """Where the job is, and its result once it is done."""
        missing = NotFoundError(f"No job {job_id}; finished jobs are kept for a limited time.")
{% if cookiecutter.auth != "none" %}
        if not self._sees_all and not job_id.startswith(f"{self._owner}."):
            raise missing  # another caller's job: as if there were none
{% endif %}
        job = Job(job_id, self._redis, _queue_name=self._queue_name)
        try:
            status = await job.status()
            info = await job.result_info() if status is JobStatus.complete else None
        except RedisError as exc:
            raise ServiceUnavailableError("The job queue is unavailable.") from exc
        if status is JobStatus.not_found:
            raise missing
        if info is None:
            return JobState(job_id=job_id, status=status.value)
        if not info.success:
            # The exception may hold anything the job touched: the worker's log has it.
            return JobState(job_id=job_id, status="failed")
        return JobState(job_id=job_id, status="complete", result=info.result)
