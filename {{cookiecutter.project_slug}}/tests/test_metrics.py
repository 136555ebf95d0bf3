"""Prometheus metrics: requests counted and timed by route template, in the text format."""

import os
import subprocess
import sys
from pathlib import Path

from fastapi import APIRouter, FastAPI
from httpx import AsyncClient
from prometheus_client.parser import text_string_to_metric_families

from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.core.metrics import (
    MULTIPROC_DIR_VARIABLE,
    Metrics,
    share_metrics_across_workers,
)
from {{ cookiecutter.package_name }}.main import create_app
from tests.conftest import Serve

HTTP_FAMILIES = {"http_requests", "http_request_duration_seconds", "http_requests_in_progress"}


def sample(text: str, name: str, **labels: str) -> float:
    """The value of the one sample of ``name`` whose labels include ``labels``."""
    [value] = [
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and labels.items() <= sample.labels.items()
    ]
    return value


def app_with_item_route(settings: Settings) -> FastAPI:
    router = APIRouter(prefix="/items")

    @router.get("/{item_id}")
    async def item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    app = create_app(settings)
    app.include_router(router, prefix="/api/v2")
    return app


async def test_metrics_are_served_in_the_prometheus_text_format(client: AsyncClient) -> None:
    await client.get("/health/live")

    response = await client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    families = {
        family.name: family.type for family in text_string_to_metric_families(response.text)
    }
    assert families.keys() >= HTTP_FAMILIES
    assert families["http_requests"] == "counter"
    assert families["http_request_duration_seconds"] == "histogram"
    assert families["http_requests_in_progress"] == "gauge"


async def test_requests_are_counted_by_route_template_and_status(
    settings: Settings, serve: Serve
) -> None:
    async with serve(app_with_item_route(settings)) as client:
        for path in ("/api/v2/items/1", "/api/v2/items/2", "/api/v2/items/x", "/nowhere"):
            await client.get(path)
        await client.get("/api/v1/meta")
        text = (await client.get("/metrics")).text

    route = "/api/v2/items/{item_id}"
    assert sample(text, "http_requests_total", route=route, status="200") == 2
    assert sample(text, "http_requests_total", route=route, status="422") == 1
    assert sample(text, "http_requests_total", route="unmatched", status="404") == 1
    assert sample(text, "http_requests_total", route="/api/v1/meta", status="200") == 1
    assert sample(text, "http_request_duration_seconds_count", route=route, status="200") == 2
    # The scrape itself is the one request in progress.
    assert sample(text, "http_requests_in_progress") == 1


async def test_other_parts_of_the_service_register_their_own_metrics(
    settings: Settings, serve: Serve
) -> None:
    app = create_app(settings)
    metrics: Metrics = app.state.metrics
    lookups = metrics.counter("cache_lookups", "Lookups in a cache, by result.", ["result"])
    lookups.labels("hit").inc(42)

    async with serve(app) as client:
        text = (await client.get("/metrics")).text

    assert sample(text, "cache_lookups_total", result="hit") == 42


def test_worker_processes_are_added_up_in_one_scrape(tmp_path: Path) -> None:
    env = {**os.environ, MULTIPROC_DIR_VARIABLE: str(tmp_path)}
    record = (
        "from {{ cookiecutter.package_name }}.core.metrics import Metrics\n"
        "Metrics().requests.labels('GET', '/items', '200').inc()\n"
    )
    scrape = (
        "import sys\n"
        "from {{ cookiecutter.package_name }}.core.metrics import Metrics\n"
        "sys.stdout.write(Metrics().render().decode())\n"
    )

    for _ in range(2):
        subprocess.run([sys.executable, "-c", record], env=env, check=True)  # noqa: S603
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", scrape], env=env, check=True, capture_output=True, text=True
    )

    assert sample(result.stdout, "http_requests_total", route="/items") == 2


def test_several_workers_get_a_fresh_shared_metrics_folder() -> None:
    saved = os.environ.pop(MULTIPROC_DIR_VARIABLE, None)
    try:
        share_metrics_across_workers(1)
        assert MULTIPROC_DIR_VARIABLE not in os.environ

        share_metrics_across_workers(4)
        folder = Path(os.environ[MULTIPROC_DIR_VARIABLE])
        assert folder.is_dir()
        assert list(folder.iterdir()) == []
    finally:
        os.environ.pop(MULTIPROC_DIR_VARIABLE, None)
        if saved is not None:
            os.environ[MULTIPROC_DIR_VARIABLE] = saved
