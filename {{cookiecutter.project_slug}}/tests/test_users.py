{% if cookiecutter.auth != "none" %}
"""The example resource end to end: HTTP, service, repository, database and audit log.

``client`` is signed in as an admin, who is a user too: lists count them.
"""
{% else %}
"""The example resource end to end: HTTP, service, repository, database and audit log."""
{% endif %}

from collections.abc import AsyncIterator
from typing import Any
from uuid import uuid4

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.core.dependencies import SessionDep, UserServiceDep
from {{ cookiecutter.package_name }}.database.models import User
from {{ cookiecutter.package_name }}.database.repository import UserRepository
from {{ cookiecutter.package_name }}.main import create_app
from {{ cookiecutter.package_name }}.models.requests import UserCreate
{% if cookiecutter.auth != "none" %}
from tests.conftest import ADMIN_EMAIL, Serve
{% else %}
from tests.conftest import Serve
{% endif %}

USERS = "/api/v1/users"
AUDIT_LOG = "/api/v1/audit-log"


async def create_user(client: AsyncClient, email: str, **fields: Any) -> dict[str, Any]:
    response = await client.post(USERS, json={"email": email, "name": "Ada", **fields})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_create_read_update_and_delete_a_user(client: AsyncClient) -> None:
    created = await create_user(client, "Ada@Example.com", role="admin")
    assert created["email"] == "ada@example.com"
    assert created["role"] == "admin"
    assert created["is_active"] is True
    user_url = f"{USERS}/{created['id']}"

    assert (await client.get(user_url)).json() == created

    updated = await client.patch(user_url, json={"name": "Ada Lovelace", "is_active": False})
    assert updated.status_code == 200
    assert updated.json()["name"] == "Ada Lovelace"
    assert updated.json()["is_active"] is False
    assert updated.json()["updated_at"] >= created["updated_at"]

    assert (await client.delete(user_url)).status_code == 204
    assert (await client.get(user_url)).status_code == 404


async def test_an_email_taken_in_any_case_is_a_409(client: AsyncClient) -> None:
    await create_user(client, "ada@example.com")

    response = await client.post(USERS, json={"email": "ADA@example.com", "name": "Ada"})

    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "conflict"


async def test_changing_to_a_taken_email_is_a_409_and_changes_nothing(
    client: AsyncClient,
) -> None:
    await create_user(client, "ada@example.com")
    grace = await create_user(client, "grace@example.com", name="Grace")

    response = await client.patch(
        f"{USERS}/{grace['id']}", json={"email": "ada@example.com", "name": "Renamed"}
    )

    assert response.status_code == 409
    assert (await client.get(f"{USERS}/{grace['id']}")).json() == grace


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
async def test_a_missing_user_is_a_404(client: AsyncClient, method: str) -> None:
    json = {"name": "Nobody"} if method == "PATCH" else None

    response = await client.request(method, f"{USERS}/{uuid4()}", json=json)

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize(
    "body",
    [
        {"name": None},
        {"name": "Ada\x00Lovelace"},  # PostgreSQL cannot store a NUL character
        {"password": "secret"},
        {"email": "not-an-email"},
        {"role": "owner"},
    ],
)
async def test_an_invalid_change_is_a_422(client: AsyncClient, body: dict[str, Any]) -> None:
    user = await create_user(client, "ada@example.com")

    response = await client.patch(f"{USERS}/{user['id']}", json=body)

    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"


@pytest.mark.parametrize(("offset", "size"), [(0, 2), (2, 2), (4, 1), (5, 0)])
async def test_pages_hold_limit_items_from_offset(
    client: AsyncClient, offset: int, size: int
) -> None:
    emails = [(await create_user(client, f"user{n}@example.com"))["email"] for n in range(5)]

{% if cookiecutter.auth != "none" %}
    response = await client.get(USERS, params={"role": "member", "limit": 2, "offset": offset})
{% else %}
    response = await client.get(USERS, params={"limit": 2, "offset": offset})
{% endif %}

    page = response.json()
    assert page["total"] == 5
    assert (page["limit"], page["offset"]) == (2, offset)
    assert len(page["items"]) == size
    assert {item["email"] for item in page["items"]} <= set(emails)


async def test_pages_together_list_every_user_once(client: AsyncClient) -> None:
    emails = {(await create_user(client, f"user{n}@example.com"))["email"] for n in range(5)}

{% if cookiecutter.auth != "none" %}
    pages = [(await client.get(USERS, params={"limit": 2, "offset": o})).json() for o in (0, 2, 4)]

    listed = [item["email"] for page in pages for item in page["items"]]
    assert sorted(listed) == sorted({*emails, ADMIN_EMAIL})
{% else %}
    pages = [(await client.get(USERS, params={"limit": 2, "offset": o})).json() for o in (0, 2, 4)]

    listed = [item["email"] for page in pages for item in page["items"]]
    assert sorted(listed) == sorted(emails)
{% endif %}


@pytest.mark.parametrize(
    "params", [{"limit": 0}, {"limit": 101}, {"offset": -1}, {"offset": 2**63}]
)
async def test_out_of_range_paging_is_a_422(client: AsyncClient, params: dict[str, int]) -> None:
    response = await client.get(USERS, params=params)

    assert response.status_code == 422


async def test_the_deepest_offset_the_database_takes_is_an_empty_page(client: AsyncClient) -> None:
    response = await client.get(USERS, params={"offset": 2**63 - 1})

    assert response.status_code == 200
    assert response.json()["items"] == []


async def test_lists_filter_by_role_and_activity(client: AsyncClient) -> None:
    admin = await create_user(client, "admin@example.com", role="admin")
    member = await create_user(client, "member@example.com")
    await client.patch(f"{USERS}/{member['id']}", json={"is_active": False})

    admins = (await client.get(USERS, params={"role": "admin"})).json()
    inactive = (await client.get(USERS, params={"is_active": "false"})).json()

{% if cookiecutter.auth != "none" %}
    assert [user["email"] for user in admins["items"]] == [ADMIN_EMAIL, admin["email"]]
{% else %}
    assert [user["id"] for user in admins["items"]] == [admin["id"]]
{% endif %}
    assert [user["id"] for user in inactive["items"]] == [member["id"]]
    assert inactive["total"] == 1


async def test_every_change_is_audited_with_its_request_id(client: AsyncClient) -> None:
    request_ids = [uuid4().hex for _ in range(3)]
    created = await client.post(
        USERS,
        json={"email": "ada@example.com", "name": "Ada"},
        headers={"X-Request-ID": request_ids[0]},
    )
    user_url = f"{USERS}/{created.json()['id']}"
    await client.patch(user_url, json={"name": "Ada L."}, headers={"X-Request-ID": request_ids[1]})
    await client.delete(user_url, headers={"X-Request-ID": request_ids[2]})

    response = await client.get(
        AUDIT_LOG, params={"entity_type": "users", "entity_id": created.json()["id"]}
    )

    entries = response.json()["items"]
    assert [entry["action"] for entry in entries] == ["delete", "update", "create"]
    assert [entry["request_id"] for entry in entries] == request_ids[::-1]
    deleted, updated, create = entries
    assert create["before"] is None
    assert create["after"]["email"] == "ada@example.com"
    assert (updated["before"]["name"], updated["after"]["name"]) == ("Ada", "Ada L.")
    assert deleted["before"]["name"] == "Ada L."
    assert deleted["after"] is None


async def test_an_update_that_changes_nothing_is_not_audited(client: AsyncClient) -> None:
    user = await create_user(client, "ada@example.com")

    await client.patch(f"{USERS}/{user['id']}", json={"name": user["name"]})

    audit = (await client.get(AUDIT_LOG, params={"entity_id": user["id"]})).json()
    assert [entry["action"] for entry in audit["items"]] == ["create"]


async def test_the_audit_log_is_found_by_request_id(client: AsyncClient) -> None:
    request_id = uuid4().hex
    await create_user(client, "grace@example.com")
    await client.post(
        USERS,
        json={"email": "ada@example.com", "name": "Ada"},
        headers={"X-Request-ID": request_id},
    )

    audit = (await client.get(AUDIT_LOG, params={"request_id": request_id})).json()

    assert audit["total"] == 1
    assert audit["items"][0]["after"]["email"] == "ada@example.com"


def app_with_failing_writes(settings: Settings) -> FastAPI:
    app = create_app(settings)

    @app.post("/create-then-fail")
    async def create_then_fail(users: UserServiceDep) -> None:
        await users.create(UserCreate(email="ada@example.com", name="Ada"))
        msg = "something broke after the write"
        raise RuntimeError(msg)

    @app.post("/insert-twice")
    async def insert_twice(session: SessionDep) -> None:
        # Skips the service's friendly check: the unique constraint itself answers.
        users = UserRepository(session)
        await users.create(User(email="ada@example.com", name="Ada"))
        await users.create(User(email="ADA@example.com", name="Ada"))

    return app


@pytest.fixture
async def failing(
    settings: Settings, serve: Serve, client: AsyncClient
) -> AsyncIterator[AsyncClient]:
{% if cookiecutter.auth != "none" %}
    """A client of an app with failing routes, over the same database and user as ``client``."""
    async with serve(app_with_failing_writes(settings)) as failing_client:
        failing_client.headers.update(client.headers)
        yield failing_client
{% else %}
    """A client of an app with failing routes, over the same database as ``client``."""
    async with serve(app_with_failing_writes(settings)) as failing_client:
        yield failing_client
{% endif %}


async def test_an_error_after_a_write_leaves_no_partial_write(
    failing: AsyncClient, client: AsyncClient
) -> None:
    response = await failing.post("/create-then-fail")

    assert response.status_code == 500
{% if cookiecutter.auth != "none" %}
    assert (await client.get(USERS, params={"role": "member"})).json()["total"] == 0
    audit = await client.get(AUDIT_LOG, params={"request_id": response.headers["x-request-id"]})
    assert audit.json()["total"] == 0
{% else %}
    assert (await client.get(USERS)).json()["total"] == 0
    assert (await client.get(AUDIT_LOG)).json()["total"] == 0
{% endif %}


async def test_a_unique_violation_in_the_database_is_a_409(
    failing: AsyncClient, client: AsyncClient
) -> None:
    response = await failing.post("/insert-twice")

    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    assert "IntegrityError" not in response.text
{% if cookiecutter.auth != "none" %}
    assert (await client.get(USERS, params={"role": "member"})).json()["total"] == 0
{% else %}
    assert (await client.get(USERS)).json()["total"] == 0
{% endif %}
