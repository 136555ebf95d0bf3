{% set jwt = cookiecutter.auth in ["jwt", "jwt_and_api_key"] %}
{% set api_keys = cookiecutter.auth in ["api_key", "jwt_and_api_key"] %}
"""Security events are logged as structured events, and no secret ever reaches the logs."""

import json
from typing import Any

import pytest
from httpx import AsyncClient
{% if cookiecutter.auth != "api_key" %}
from sqlalchemy.ext.asyncio import AsyncEngine
{% endif %}

from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.main import create_app
from {{ cookiecutter.package_name }}.scripts.create_admin import CreatedAdmin
{% if jwt %}
from tests.conftest import ADMIN_EMAIL, TOKEN_URL, Serve, bearer, log_in
{% else %}
from tests.conftest import Serve
{% endif %}

USERS = "/api/v1/users"
EMAIL = "zq-private-person@example.com"
{% if jwt %}
PASSWORD = "a very private passphrase"
{% endif %}


def events(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def json_logs(settings: Settings) -> Settings:
    return settings.model_copy(update={"log_json": True, "log_level": "DEBUG"})


async def admin_headers(client: AsyncClient, admin: CreatedAdmin) -> dict[str, str]:
{% if jwt %}
    return bearer((await log_in(client, ADMIN_EMAIL))["access_token"])
{% else %}
    return {"X-API-Key": admin.api_key}
{% endif %}


async def test_no_secret_reaches_the_logs_and_every_event_does(
    settings: Settings,
    serve: Serve,
{% if cookiecutter.auth == "api_key" %}
    admin: CreatedAdmin,
{% else %}
    database: AsyncEngine,
{% endif %}
    capsys: pytest.CaptureFixture[str],
) -> None:
    secrets: list[str] = [EMAIL.split("@")[0]]

    async with serve(create_app(json_logs(settings))) as client:
{% if jwt %}
        await client.post(
            "/api/v1/auth/register", json={"email": EMAIL, "name": "Private", "password": PASSWORD}
        )
        wrong = await client.post(
            TOKEN_URL, data={"username": EMAIL, "password": "not the passphrase"}
        )
        login = await client.post(TOKEN_URL, data={"username": EMAIL, "password": PASSWORD})
        tokens = login.json()
        headers = bearer(tokens["access_token"])
        await client.get(f"{USERS}/me", headers=headers)
        secrets += [PASSWORD, "not the passphrase", tokens["access_token"]]
        assert (wrong.status_code, login.status_code) == (401, 200)
{% else %}
        headers = await admin_headers(client, admin)
        await client.post(USERS, json={"email": EMAIL, "name": "Private"}, headers=headers)
        secrets.append(admin.api_key)
{% endif %}
{% if api_keys %}
        created = await client.post(
            "/api/v1/api-keys", json={"name": "ci", "scopes": ["notes:read"]}, headers=headers
        )
        key = created.json()["key"]
        await client.get("/api/v1/notes", headers={"X-API-Key": key})
        forged = f"{key[:-4]}AAAA" if not key.endswith("AAAA") else f"{key[:-4]}BBBB"
        rejected = await client.get("/api/v1/notes", headers={"X-API-Key": forged})
        await client.delete(f"/api/v1/api-keys/{created.json()['id']}", headers=headers)
        secrets += [key, key.split(".")[1], forged]
        assert rejected.status_code == 401
{% endif %}
{% if jwt %}
        refreshed = await client.post(
            "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
        )
        replayed = await client.post(
            "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
        )
        secrets += [tokens["refresh_token"], refreshed.json()["refresh_token"]]
        assert replayed.status_code == 401
{% endif %}

    output = capsys.readouterr().out
    leaked = [secret for secret in secrets if secret in output]
    assert leaked == []
    logged = {line["event"] for line in events(output)}
{% if jwt %}
    assert {"user_registered", "login_failed", "login_succeeded", "refresh_token_reused"} <= logged
    assert "[redacted]@example.com" in output  # the failed login's email, redacted
{% endif %}
{% if api_keys %}
    assert {"api_key_created", "api_key_rejected", "api_key_revoked"} <= logged
{% endif %}


async def test_role_changes_and_deactivations_are_security_events(
    settings: Settings, serve: Serve, admin: CreatedAdmin, capsys: pytest.CaptureFixture[str]
) -> None:
    async with serve(create_app(json_logs(settings))) as client:
        headers = await admin_headers(client, admin)
        created = await client.post(
            USERS, json={"email": "ada@example.com", "name": "Ada"}, headers=headers
        )
        user_url = f"{USERS}/{created.json()['id']}"
        await client.patch(user_url, json={"role": "admin"}, headers=headers)
        await client.patch(user_url, json={"is_active": False}, headers=headers)

    logged = events(capsys.readouterr().out)
    [role] = [line for line in logged if line["event"] == "role_changed"]
    [deactivated] = [line for line in logged if line["event"] == "user_deactivated"]
    assert (role["user_id"], role["old"], role["new"]) == (created.json()["id"], "member", "admin")
    assert role["by"].startswith(f"user:{admin.user_id}")
    assert deactivated["user_id"] == created.json()["id"]
