"""Prometheus scrapes ``/metrics``; keep it off the public internet (it is not in the schema)."""

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST

from {{ cookiecutter.package_name }}.core.metrics import Metrics

router = APIRouter()


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    """Synchronous on purpose: FastAPI runs it in a thread, off the event loop."""
    registry: Metrics = request.app.state.metrics
    return Response(registry.render(), media_type=CONTENT_TYPE_LATEST)
