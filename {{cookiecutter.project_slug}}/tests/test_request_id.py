"""Each request carries an ID: accepted when valid, generated otherwise, echoed back;
every response carries the edge's headers, CORS's for the allowed origins."""

from uuid import UUID, uuid4

from httpx import AsyncClient

from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.main import create_app
from tests.conftest import Serve


async def test_a_valid_incoming_request_id_is_echoed(client: AsyncClient) -> None:
    request_id = uuid4().hex

    response = await client.get("/health/live", headers={"X-Request-ID": request_id})

    assert response.headers["x-request-id"] == request_id


async def test_a_missing_request_id_is_generated(client: AsyncClient) -> None:
    first = await client.get("/health/live")
    second = await client.get("/health/live")

    assert UUID(first.headers["x-request-id"])
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


async def test_an_invalid_request_id_is_replaced(client: AsyncClient) -> None:
    response = await client.get("/health/live", headers={"X-Request-ID": "<script>"})

    assert response.headers["x-request-id"] != "<script>"
    assert UUID(response.headers["x-request-id"])


async def test_responses_carry_timing_and_security_headers(client: AsyncClient) -> None:
    response = await client.get("/health/live")

    assert response.headers["server-timing"].startswith("app;dur=")
    assert response.headers["x-content-type-options"] == "nosniff"


ORIGIN = "https://app.example.com"


async def test_cors_preflights_are_answered_for_allowed_origins_only(
    settings: Settings, serve: Serve
) -> None:
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "x-a"}
    async with serve(create_app(settings.model_copy(update={"cors_origins": [ORIGIN]}))) as client:
        allowed = await client.options("/health/live", headers={"Origin": ORIGIN, **preflight})
        refused = await client.options(
            "/health/live", headers={"Origin": "https://evil.example", **preflight}
        )
        simple = await client.get("/health/live", headers={"Origin": ORIGIN})
        other = await client.get("/health/live", headers={"Origin": "https://evil.example"})

    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == ORIGIN
    assert allowed.headers["access-control-allow-credentials"] == "true"
    assert allowed.headers["access-control-allow-headers"] == "x-a"
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers
    assert simple.headers["access-control-allow-origin"] == ORIGIN
    assert simple.headers["access-control-expose-headers"] == "X-Request-ID, Server-Timing"
    assert simple.headers["vary"] == "Origin"
    assert "access-control-allow-origin" not in other.headers
