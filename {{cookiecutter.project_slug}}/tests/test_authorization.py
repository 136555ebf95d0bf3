{% set jwt = cookiecutter.auth in ["jwt", "jwt_and_api_key"] %}
{% set api_keys = cookiecutter.auth in ["api_key", "jwt_and_api_key"] %}
"""Who may do what: 401 without a valid credential, 403 without the scope, and ownership."""

from typing import Any

import pytest
from httpx import AsyncClient, Response
from sqlalchemy.ext.asyncio import AsyncEngine

from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.main import create_app
from tests.conftest import Account, Serve, sign_up

USERS = "/api/v1/users"
NOTES = "/api/v1/notes"
AUDIT_LOG = "/api/v1/audit-log"
{% if cookiecutter.auth == "jwt" %}
CHALLENGE = "Bearer"
{% elif cookiecutter.auth == "api_key" %}
CHALLENGE = "APIKey"
{% else %}
CHALLENGE = "Bearer, APIKey"
{% endif %}

PROTECTED = [
    ("GET", USERS),
    ("GET", f"{USERS}/me"),
    ("GET", NOTES),
    ("POST", NOTES),
    ("GET", AUDIT_LOG),
{% if api_keys %}
    ("GET", "/api/v1/api-keys"),
{% endif %}
]


def assert_problem(response: Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code


async def create_note(client: AsyncClient, account: Account, title: str) -> dict[str, Any]:
    response = await client.post(NOTES, json={"title": title}, headers=account.headers)
    assert response.status_code == 201, response.text
    note: dict[str, Any] = response.json()
    return note


@pytest.mark.parametrize(("method", "path"), PROTECTED)
async def test_no_credential_is_a_401_with_a_challenge(
    anonymous: AsyncClient, method: str, path: str
) -> None:
    response = await anonymous.request(method, path, json={"title": "x"})

    assert_problem(response, 401, "unauthorized")
    assert response.headers["www-authenticate"] == CHALLENGE


async def test_a_valid_credential_without_the_scope_is_a_403_not_a_401(
    anonymous: AsyncClient, member: Account
) -> None:
    allowed = await anonymous.get(NOTES, headers=member.headers)
    users = await anonymous.get(USERS, headers=member.headers)
    audit = await anonymous.get(AUDIT_LOG, headers=member.headers)

    assert allowed.status_code == 200
    assert_problem(users, 403, "forbidden")
    assert_problem(audit, 403, "forbidden")
    assert "admin" in users.json()["detail"]
    assert "www-authenticate" not in users.headers


async def test_users_read_and_change_only_themselves(
    anonymous: AsyncClient, member: Account, client: AsyncClient
) -> None:
    me = await anonymous.get(f"{USERS}/me", headers=member.headers)
    renamed = await anonymous.patch(f"{USERS}/me", json={"name": "Renamed"}, headers=member.headers)
    promoted = await anonymous.patch(f"{USERS}/me", json={"role": "admin"}, headers=member.headers)
    admin_id = (await client.get(f"{USERS}/me")).json()["id"]
    other = await anonymous.get(f"{USERS}/{admin_id}", headers=member.headers)

    assert me.json()["id"] == member.id
    assert renamed.json()["name"] == "Renamed"
    assert_problem(promoted, 422, "validation_error")
    assert_problem(other, 403, "forbidden")
    assert (await client.get(f"{USERS}/{member.id}")).json()["role"] == "member"


async def test_another_users_note_is_not_found_for_every_method(
    anonymous: AsyncClient, client: AsyncClient
) -> None:
    alice = await sign_up(client, "alice@example.com")
    bob = await sign_up(client, "bob@example.com")
    note = await create_note(anonymous, alice, "Alice's secret")
    note_url = f"{NOTES}/{note['id']}"

    read = await anonymous.get(note_url, headers=bob.headers)
    changed = await anonymous.patch(note_url, json={"title": "Bob's"}, headers=bob.headers)
    deleted = await anonymous.delete(note_url, headers=bob.headers)
    listed = await anonymous.get(NOTES, params={"owner_id": alice.id}, headers=bob.headers)

    for response in (read, changed, deleted):
        assert_problem(response, 404, "not_found")
    assert listed.json()["total"] == 0
    assert (await anonymous.get(note_url, headers=alice.headers)).json() == note
    assert (await client.get(note_url)).status_code == 200


async def test_users_list_only_their_own_notes(anonymous: AsyncClient, client: AsyncClient) -> None:
    alice = await sign_up(client, "alice@example.com")
    bob = await sign_up(client, "bob@example.com")
    await create_note(anonymous, alice, "one")
    await create_note(anonymous, bob, "two")

    page = (await anonymous.get(NOTES, headers=bob.headers)).json()
    everyone = (await client.get(NOTES)).json()

    assert [note["title"] for note in page["items"]] == ["two"]
    assert page["total"] == 1
    assert everyone["total"] == 2


async def test_a_note_for_someone_else_is_for_admins_only(
    anonymous: AsyncClient, client: AsyncClient
) -> None:
    alice = await sign_up(client, "alice@example.com")
    bob = await sign_up(client, "bob@example.com")

    by_bob = await anonymous.post(
        NOTES, json={"title": "planted", "owner_id": alice.id}, headers=bob.headers
    )
    by_admin = await client.post(NOTES, json={"title": "for Alice", "owner_id": alice.id})

    assert_problem(by_bob, 403, "forbidden")
    assert by_admin.status_code == 201
    assert by_admin.json()["owner"]["id"] == alice.id


async def test_a_deactivated_user_is_refused_at_once(
    anonymous: AsyncClient, client: AsyncClient, member: Account
) -> None:
    assert (await anonymous.get(NOTES, headers=member.headers)).status_code == 200

    await client.patch(f"{USERS}/{member.id}", json={"is_active": False})

    assert_problem(await anonymous.get(NOTES, headers=member.headers), 401, "unauthorized")


async def test_a_demoted_admin_loses_admin_rights_at_once(
    anonymous: AsyncClient, client: AsyncClient
) -> None:
    deputy = await sign_up(client, "deputy@example.com", role="admin")
    assert (await anonymous.get(USERS, headers=deputy.headers)).status_code == 200

    await client.patch(f"{USERS}/{deputy.id}", json={"role": "member"})

    assert_problem(await anonymous.get(USERS, headers=deputy.headers), 403, "forbidden")


async def test_the_audit_log_names_who_made_each_change(
    anonymous: AsyncClient, client: AsyncClient, member: Account
) -> None:
    note = await create_note(anonymous, member, "audited")

    audit = (await client.get(AUDIT_LOG, params={"entity_id": note["id"]})).json()

    [entry] = audit["items"]
    assert entry["actor"].startswith(f"user:{member.id}")


async def test_repeated_failures_from_one_address_are_rate_limited(
    settings: Settings, serve: Serve, database: AsyncEngine
) -> None:
    strict = settings.model_copy(update={"auth_failure_rate_limit": "3/hour"})
{% if jwt %}
    forged = {"Authorization": "Bearer not-a-token"}
{% else %}
    forged = {"X-API-Key": "ak_0123456789abcdef.not-a-key"}
{% endif %}

    async with serve(create_app(strict)) as attacker:
        failures = [await attacker.get(NOTES, headers=forged) for _ in range(3)]
        limited = await attacker.get(NOTES, headers=forged)

    assert [response.status_code for response in failures] == [401] * 3
    assert_problem(limited, 429, "rate_limited")
    assert int(limited.headers["retry-after"]) >= 1
{% if cookiecutter.auth == "jwt_and_api_key" %}


async def test_two_credentials_at_once_are_refused(
    anonymous: AsyncClient, client: AsyncClient, member: Account
) -> None:
    key = await anonymous.post(
        "/api/v1/api-keys",
        json={"name": "mine", "scopes": ["notes:read"]},
        headers=member.headers,
    )

    response = await anonymous.get(
        NOTES, headers={**client.headers, "X-API-Key": key.json()["key"]}
    )

    assert_problem(response, 401, "unauthorized")
{% endif %}


async def test_openapi_documents_how_to_authenticate(anonymous: AsyncClient) -> None:
    schema = (await anonymous.get("/openapi.json")).json()

    schemes = schema["components"]["securitySchemes"]
{% if jwt %}
    [bearer] = [scheme for scheme in schemes.values() if scheme["type"] == "oauth2"]
    assert bearer["flows"]["password"]["tokenUrl"] == "api/v1/auth/token"
    assert "notes:read" in bearer["flows"]["password"]["scopes"]
{% endif %}
{% if api_keys %}
    [api_key] = [scheme for scheme in schemes.values() if scheme["type"] == "apiKey"]
    assert api_key == {"type": "apiKey", "in": "header", "name": "X-API-Key"}
{% endif %}
    assert "security" in schema["paths"][NOTES]["get"]
    assert "401" in schema["paths"][NOTES]["get"]["responses"]
