"""Prometheus scrapes ``/metrics``; keep it off the public internet (it is not in the schema)."""
{% if cookiecutter.redis == "yes" %}

import asyncio
import math
from typing import Annotated
{% endif %}

{% if cookiecutter.redis == "yes" %}
from fastapi import APIRouter, Depends, Request, Response
{% else %}
from fastapi import APIRouter, Request, Response
{% endif %}
from prometheus_client import CONTENT_TYPE_LATEST

{% if cookiecutter.redis == "yes" %}
from {{ cookiecutter.package_name }}.core.dependencies import get_shared_job_queue
from {{ cookiecutter.package_name }}.core.errors import ServiceUnavailableError
{% endif %}
from {{ cookiecutter.package_name }}.core.metrics import Metrics
{% if cookiecutter.redis == "yes" %}
from {{ cookiecutter.package_name }}.jobs.arq_queue import JobQueue
{% endif %}

router = APIRouter()


{% if cookiecutter.redis == "yes" %}
@router.get("/metrics", include_in_schema=False)
async def metrics(
    request: Request, queue: Annotated[JobQueue, Depends(get_shared_job_queue)]
) -> Response:
    """The job queue's length, asked of Redis now; the rest rendered in a thread (files)."""
    registry: Metrics = request.app.state.metrics
    try:
        registry.jobs_queued.set(await queue.waiting())
    except ServiceUnavailableError:
        # Unknown while Redis is down (the readiness probe says so), rather than stale.
        registry.jobs_queued.set(math.nan)
    return Response(await asyncio.to_thread(registry.render), media_type=CONTENT_TYPE_LATEST)
{% else %}
@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    """Synchronous on purpose: FastAPI runs it in a thread, off the event loop."""
    registry: Metrics = request.app.state.metrics
    return Response(registry.render(), media_type=CONTENT_TYPE_LATEST)
{% endif %}
