"""API keys as an attacker would try them: revoked, expired, malformed, guessed, overreaching."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from httpx import AsyncClient, Response
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from {{ cookiecutter.package_name }}.database.models import ApiKey
from tests.conftest import Account, sign_up

API_KEYS = "/api/v1/api-keys"
NOTES = "/api/v1/notes"


async def create_key(
    client: AsyncClient, headers: dict[str, str] | None = None, **body: Any
) -> dict[str, Any]:
    response = await client.post(
        API_KEYS, json={"name": "ci", "scopes": ["notes:read"], **body}, headers=headers
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def key_header(key: str) -> dict[str, str]:
    return {"X-API-Key": key}


def assert_rejected(response: Response) -> None:
    assert response.status_code == 401, response.text
    assert response.json()["code"] == "unauthorized"
    assert response.json()["detail"] == "The API key is invalid, expired or revoked."


async def test_a_key_is_shown_once_and_stored_as_a_hash(
    client: AsyncClient, session: AsyncSession
) -> None:
    created = await create_key(client)

    assert created["key"].startswith(created["prefix"] + ".")
    listed = (await client.get(API_KEYS)).json()["items"]
    assert created["id"] in {item["id"] for item in listed}
    assert all("key" not in item for item in listed)
    stored = await session.scalar(select(ApiKey).where(ApiKey.prefix == created["prefix"]))
    assert stored is not None
    assert created["key"] not in {stored.key_hash, stored.prefix, stored.name}
    assert len(stored.key_hash) == 64


async def test_a_key_authenticates_and_records_its_last_use(
    client: AsyncClient, anonymous: AsyncClient
) -> None:
    created = await create_key(client)
    assert created["last_used_at"] is None

    response = await anonymous.get(NOTES, headers=key_header(created["key"]))

    assert response.status_code == 200
    listed = (await client.get(API_KEYS)).json()["items"]
    assert next(item for item in listed if item["id"] == created["id"])["last_used_at"]


async def test_a_revoked_key_stops_working_at_once(
    client: AsyncClient, anonymous: AsyncClient
) -> None:
    created = await create_key(client)
    assert (await anonymous.get(NOTES, headers=key_header(created["key"]))).status_code == 200

    assert (await client.delete(f"{API_KEYS}/{created['id']}")).status_code == 204

    assert_rejected(await anonymous.get(NOTES, headers=key_header(created["key"])))
    listed = (await client.get(API_KEYS)).json()["items"]
    assert next(item for item in listed if item["id"] == created["id"])["revoked_at"]


async def test_an_expired_key_is_rejected(
    client: AsyncClient, anonymous: AsyncClient, session: AsyncSession
) -> None:
    soon = datetime.now(UTC) + timedelta(days=1)
    created = await create_key(client, expires_at=soon.isoformat())
    assert (await anonymous.get(NOTES, headers=key_header(created["key"]))).status_code == 200

    past = datetime.now(UTC) - timedelta(seconds=1)
    await session.execute(
        update(ApiKey).where(ApiKey.prefix == created["prefix"]).values(expires_at=past)
    )
    await session.commit()

    assert_rejected(await anonymous.get(NOTES, headers=key_header(created["key"])))


@pytest.mark.parametrize(
    "key",
    [
        "",
        "garbage",
        "ak_0123456789abcdef",
        "ak_0123456789ABCDEF." + "A" * 43,
        "ak_0123456789abcdef." + "A" * 42,
        "Bearer ak_0123456789abcdef." + "A" * 43,
        "ak_0123456789abcdef." + "A" * 43,  # well formed, but no such key
    ],
)
async def test_a_malformed_or_unknown_key_is_rejected(anonymous: AsyncClient, key: str) -> None:
    response = await anonymous.get(NOTES, headers=key_header(key))

    assert response.status_code == 401


async def test_a_real_prefix_with_a_guessed_secret_is_rejected(
    client: AsyncClient, anonymous: AsyncClient
) -> None:
    created = await create_key(client)
    prefix, _, secret = created["key"].partition(".")
    guessed = f"{prefix}.{secret[:-1]}{'A' if secret[-1] != 'A' else 'B'}"

    assert_rejected(await anonymous.get(NOTES, headers=key_header(guessed)))


async def test_a_key_has_only_its_scopes(client: AsyncClient, anonymous: AsyncClient) -> None:
    reader = await create_key(client, scopes=["notes:read"])
    headers = key_header(reader["key"])

    assert (await anonymous.get(NOTES, headers=headers)).status_code == 200
    write = await anonymous.post(NOTES, json={"title": "x"}, headers=headers)
    users = await anonymous.get("/api/v1/users", headers=headers)

    assert write.status_code == 403
    assert users.status_code == 403


async def test_no_one_grants_a_key_more_than_they_have(
    client: AsyncClient, anonymous: AsyncClient, member: Account
) -> None:
    too_much = await anonymous.post(
        API_KEYS, json={"name": "x", "scopes": ["admin"]}, headers=member.headers
    )
    reader = await create_key(anonymous, member.headers)
    escalation = await anonymous.post(
        API_KEYS, json={"name": "x", "scopes": ["notes:write"]}, headers=key_header(reader["key"])
    )

    assert too_much.status_code == 403
    # A key without the api_keys scope cannot make keys at all.
    assert escalation.status_code == 403


async def test_keys_of_other_users_are_out_of_reach(
    client: AsyncClient, anonymous: AsyncClient
) -> None:
    alice = await sign_up(client, "alice@example.com")
    bob = await sign_up(client, "bob@example.com")
    alices_key = await create_key(anonymous, alice.headers, name="alice's")

    revoke = await anonymous.delete(f"{API_KEYS}/{alices_key['id']}", headers=bob.headers)
    bobs_list = (await anonymous.get(API_KEYS, headers=bob.headers)).json()
    for_alice = await anonymous.post(
        API_KEYS,
        json={"name": "planted", "scopes": ["notes:read"], "owner_id": alice.id},
        headers=bob.headers,
    )

    assert revoke.status_code == 404
    assert alices_key["id"] not in {item["id"] for item in bobs_list["items"]}
    assert for_alice.status_code == 403
    assert (await anonymous.get(NOTES, headers=key_header(alices_key["key"]))).status_code == 200


async def test_an_admin_gives_a_service_account_a_key_within_its_role(
    client: AsyncClient, anonymous: AsyncClient
) -> None:
    service = await client.post(
        "/api/v1/users", json={"email": "etl@example.com", "name": "ETL", "role": "service"}
    )
    service_id = service.json()["id"]

    beyond = await client.post(
        API_KEYS, json={"name": "etl", "scopes": ["audit:read"], "owner_id": service_id}
    )
    key = await create_key(client, scopes=["notes:read", "notes:write"], owner_id=service_id)
    note = await anonymous.post(NOTES, json={"title": "nightly"}, headers=key_header(key["key"]))

    assert beyond.status_code == 400
    assert note.status_code == 201
    assert note.json()["owner"]["id"] == service_id


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x", "scopes": []},
        {"name": "x", "scopes": ["root"]},
        {"name": "x", "scopes": ["notes:read"], "expires_at": "2000-01-01T00:00:00Z"},
        {"name": "x", "scopes": ["notes:read"], "expires_at": "2999-01-01T00:00:00"},
    ],
    ids=["no-scope", "unknown-scope", "past-expiry", "naive-expiry"],
)
async def test_invalid_keys_are_refused(client: AsyncClient, body: dict[str, Any]) -> None:
    response = await client.post(API_KEYS, json=body)

    assert response.status_code == 422
