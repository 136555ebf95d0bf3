{% set jwt = cookiecutter.auth in ["jwt", "jwt_and_api_key"] %}
"""The first admin comes from ``python -m {{ cookiecutter.package_name }}.scripts.create_admin``."""

import asyncio
{% if jwt %}
import io
{% endif %}

import pytest
from httpx import AsyncClient

from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.scripts.create_admin import create_admin, main
{% if jwt %}
from tests.conftest import PASSWORD, bearer, log_in
{% else %}
from tests.conftest import sign_up
{% endif %}

USERS = "/api/v1/users"
# The command commits through an engine of its own, as it does from a shell.
pytestmark = pytest.mark.own_database


async def test_the_command_makes_an_admin_who_can_manage_users(
    settings: Settings,
    anonymous: AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("ENVIRONMENT", "test")
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
{% if jwt %}
    monkeypatch.setenv("PASSWORD_HASH_TIME_COST", "1")
    monkeypatch.setenv("PASSWORD_HASH_MEMORY_KIB", "1024")
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{PASSWORD}\n"))
{% endif %}

    # The command runs its own event loop, as it does from a shell.
    status = await asyncio.to_thread(main, ["boss@example.com", "--name", "Boss"])

    output = capsys.readouterr().out
    assert status == 0
    assert "boss@example.com is an admin (new user)." in output
{% if jwt %}
    headers = bearer((await log_in(anonymous, "boss@example.com"))["access_token"])
{% else %}
    [key] = [line.rsplit(" ", 1)[1] for line in output.splitlines() if "API key" in line]
    headers = {"X-API-Key": key}
{% endif %}
    me = (await anonymous.get(f"{USERS}/me", headers=headers)).json()
    assert (me["email"], me["name"], me["role"]) == ("boss@example.com", "Boss", "admin")
    assert (await anonymous.get(USERS, headers=headers)).status_code == 200


async def test_an_existing_user_is_promoted_and_reactivated(
    settings: Settings, client: AsyncClient, anonymous: AsyncClient
) -> None:
{% if jwt %}
    created = await client.post(
        USERS, json={"email": "ada@example.com", "name": "Ada", "password": PASSWORD}
    )
    user_id = created.json()["id"]
{% else %}
    user_id = (await sign_up(client, "ada@example.com")).id
{% endif %}
    await client.patch(f"{USERS}/{user_id}", json={"is_active": False})

{% if jwt %}
    admin = await create_admin(
        settings, email="ADA@example.com", name="ignored", password="her new passphrase"
    )
    tokens = await log_in(anonymous, "ada@example.com", "her new passphrase")
    headers = bearer(tokens["access_token"])
{% else %}
    admin = await create_admin(settings, email="ADA@example.com", name="ignored")
    headers = {"X-API-Key": admin.api_key}
{% endif %}

    assert (str(admin.user_id), admin.created) == (user_id, False)
    me = (await anonymous.get(f"{USERS}/me", headers=headers)).json()
    assert (me["id"], me["role"], me["is_active"]) == (user_id, "admin", True)
    audit = (await client.get("/api/v1/audit-log", params={"entity_id": user_id})).json()
    assert audit["items"][0]["actor"] == "script:create_admin"
