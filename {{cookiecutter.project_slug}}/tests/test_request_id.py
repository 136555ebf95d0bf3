"""Each request carries an ID: accepted when valid, generated otherwise, echoed back."""

from uuid import UUID, uuid4

from httpx import AsyncClient


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
