"""Prometheus metrics, served at ``/metrics``.

``Metrics`` holds the HTTP metrics that the edge middleware records and is
where other parts of the service register their own (``metrics.counter(...)``).
Each app has its own registry, so tests can build as many apps as they like.

With several worker processes (``WORKERS`` > 1), each process writes its values
to files in ``PROMETHEUS_MULTIPROC_DIR`` and ``/metrics`` adds them up across
processes. ``uv run {{ cookiecutter.project_slug }}`` sets that folder up (see
``share_metrics_across_workers``); under another process manager, point the
variable at an empty folder, the same for every worker, before they start.
"""

import atexit
import os
import shutil
import tempfile
from collections.abc import Sequence
from typing import Literal

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from starlette.routing import BaseRoute
from starlette.types import Scope

MULTIPROC_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"

# Up to a minute: model calls and streamed answers take far longer than plain requests.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


def _multiprocess() -> bool:
    return MULTIPROC_DIR_VARIABLE in os.environ


def share_metrics_across_workers(workers: int) -> None:
    """Give worker processes a fresh, shared metrics folder; call before they start."""
    if workers == 1 or _multiprocess():
        return
    directory = tempfile.mkdtemp(prefix="prometheus-")
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    os.environ[MULTIPROC_DIR_VARIABLE] = directory


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        labels = ("method", "route", "status")
        self.requests = self.counter("http_requests", "HTTP requests answered.", labels)
        self.request_duration = self.histogram(
            "http_request_duration_seconds",
            "Time to answer HTTP requests, in seconds.",
            labels,
            buckets=LATENCY_BUCKETS,
        )
        self.requests_in_progress = self.gauge(
            "http_requests_in_progress", "HTTP requests being answered.", mode="livesum"
        )
        # The labelled children, looked up once per (method, route, status): a
        # lookup takes a lock and builds a key, per metric and request.
        self._request_children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}
{% if cookiecutter.redis == "yes" %}
        self.jobs_queued = self.gauge(
            "jobs_queued", "Jobs waiting in the queue for a worker.", mode="livemostrecent"
        )
{% endif %}

    def counter(self, name: str, documentation: str, labelnames: Sequence[str] = ()) -> Counter:
        """A counter in this registry; its samples are exposed as ``<name>_total``."""
        return Counter(name, documentation, labelnames, registry=self.registry)

    def gauge(
        self,
        name: str,
        documentation: str,
        labelnames: Sequence[str] = (),
        mode: Literal["livesum", "livemax", "livemostrecent"] = "livemax",
    ) -> Gauge:
        """A gauge in this registry; ``mode`` says how to show several workers' values as one."""
        return Gauge(
            name, documentation, labelnames, registry=self.registry, multiprocess_mode=mode
        )

    def histogram(
        self,
        name: str,
        documentation: str,
        labelnames: Sequence[str] = (),
        buckets: Sequence[float] = LATENCY_BUCKETS,
    ) -> Histogram:
        return Histogram(name, documentation, labelnames, registry=self.registry, buckets=buckets)

    def record_request(self, scope: Scope, status: int, seconds: float) -> None:
        """Count and time a request answered, by method, route template and status."""
        key = (scope["method"], route_template(scope), status)
        if (children := self._request_children.get(key)) is None:
            labels = (key[0], key[1], str(status))
            children = (self.requests.labels(*labels), self.request_duration.labels(*labels))
            self._request_children[key] = children
        requests, duration = children
        requests.inc()
        duration.observe(seconds)

    def render(self) -> bytes:
        """The exposition text: this process's values, or every worker's when there are several."""
        if not _multiprocess():
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # unannotated
        return generate_latest(registry)

    def close(self) -> None:
        """Drop this process's live gauges from the shared folder as it stops."""
        if _multiprocess():
            mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]  # unannotated


def route_template(scope: Scope) -> str:
    """The matched route's path template ("/items/{item_id}"), bounded unlike raw paths."""
    route: BaseRoute | None = scope.get("route")
    if route is None:
        return "unmatched"
    # A route of an included router knows only its path within that router; FastAPI
    # puts the context it matched, with the full path, in the scope. (Walking the
    # app's routes for it instead costs tens of milliseconds per app.)
    context = scope.get("fastapi", {}).get("effective_route_context")
    path = getattr(context, "path", None) or getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"
