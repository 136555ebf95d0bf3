"""Logging in: the password flow, no user enumeration, brute force limits, registration."""

from typing import Any
from urllib.parse import urljoin

import pytest
from httpx import AsyncClient, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from {{ cookiecutter.package_name }}.core.authorization import ROLE_SCOPES
from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.core.domain import UserRole
from {{ cookiecutter.package_name }}.database.models import User
from {{ cookiecutter.package_name }}.main import create_app
from tests.conftest import PASSWORD, TOKEN_URL, Account, Serve, bearer, log_in

ME = "/api/v1/users/me"
REGISTER = "/api/v1/auth/register"


async def attempt(client: AsyncClient, email: str, password: str) -> Response:
    return await client.post(TOKEN_URL, data={"username": email, "password": password})


async def password_hash_of(session: AsyncSession, email: str) -> str | None:
    return await session.scalar(select(User.password_hash).where(User.email == email))


async def test_swagger_ui_logs_in_with_the_password_flow(
    anonymous: AsyncClient, member: Account
) -> None:
    """What the Authorize button does: post the form to tokenUrl, relative to /docs."""
    schemes = (await anonymous.get("/openapi.json")).json()["components"]["securitySchemes"]
    [scheme] = [scheme for scheme in schemes.values() if scheme["type"] == "oauth2"]
    token_url = urljoin("http://testserver/docs", scheme["flows"]["password"]["tokenUrl"])

    response = await anonymous.post(
        token_url,
        data={"grant_type": "password", "username": member.email, "password": PASSWORD},
    )

    assert response.status_code == 200, response.text
    tokens = response.json()
    assert tokens["token_type"] == "bearer"
    assert tokens["expires_in"] > 0
    assert tokens["scope"].split() == sorted(ROLE_SCOPES[UserRole.MEMBER])
    me = await anonymous.get(ME, headers=bearer(tokens["access_token"]))
    assert me.json()["email"] == member.email


async def test_requested_scopes_narrow_the_token(anonymous: AsyncClient, member: Account) -> None:
    tokens = await log_in(anonymous, member.email, scope="notes:read admin")
    headers = bearer(tokens["access_token"])

    assert tokens["scope"] == "notes:read"
    assert (await anonymous.get("/api/v1/notes", headers=headers)).status_code == 200
    denied = await anonymous.post("/api/v1/notes", json={"title": "x"}, headers=headers)
    assert denied.status_code == 403


async def test_an_unknown_scope_is_a_400(anonymous: AsyncClient, member: Account) -> None:
    response = await anonymous.post(
        TOKEN_URL, data={"username": member.email, "password": PASSWORD, "scope": "root"}
    )

    assert response.status_code == 400


async def test_unknown_user_wrong_password_and_inactive_user_fail_alike(
    anonymous: AsyncClient, client: AsyncClient, member: Account
) -> None:
    inactive = await client.post(
        "/api/v1/users",
        json={"email": "gone@example.com", "name": "Gone", "password": PASSWORD},
    )
    await client.patch(f"/api/v1/users/{inactive.json()['id']}", json={"is_active": False})

    failures = [
        await attempt(anonymous, "nobody@example.com", PASSWORD),
        await attempt(anonymous, member.email, "wrong password, long enough"),
        await attempt(anonymous, "gone@example.com", PASSWORD),
    ]

    def comparable(response: Response) -> tuple[int, dict[str, Any]]:
        body = response.json()
        del body["request_id"]
        return response.status_code, body

    assert {comparable(response) == comparable(failures[0]) for response in failures} == {True}
    assert failures[0].status_code == 401
    assert failures[0].headers["www-authenticate"].startswith("Bearer")


async def test_guessing_one_accounts_password_is_rate_limited(
    settings: Settings, serve: Serve, member: Account
) -> None:
    strict = settings.model_copy(update={"login_rate_limit_per_account": "3/hour"})

    async with serve(create_app(strict)) as attacker:
        guesses = [await attempt(attacker, member.email, f"guess number {n:04}") for n in range(3)]
        limited = await attempt(attacker, member.email.upper(), "guess number 0003")
        # The limit is the account's: the right password waits too.
        blocked = await attempt(attacker, member.email, PASSWORD)
        other = await attempt(attacker, "someone@example.com", "guess number 0000")

    assert [guess.status_code for guess in guesses] == [401] * 3
    for response in (limited, blocked):
        assert response.status_code == 429
        assert response.json()["code"] == "rate_limited"
        assert int(response.headers["retry-after"]) >= 1
    assert other.status_code == 401


async def test_guessing_many_accounts_from_one_address_is_rate_limited(
    settings: Settings, serve: Serve, database: AsyncEngine
) -> None:
    strict = settings.model_copy(update={"login_rate_limit_per_ip": "3/hour"})

    async with serve(create_app(strict)) as attacker:
        guesses = [
            await attempt(attacker, f"user{n}@example.com", "a guessed password") for n in range(4)
        ]

    assert [guess.status_code for guess in guesses] == [401, 401, 401, 429]


async def test_a_hash_with_old_parameters_is_replaced_at_login(
    settings: Settings, serve: Serve, member: Account, session: AsyncSession
) -> None:
    old_hash = await password_hash_of(session, member.email)
    stronger = settings.model_copy(update={"password_hash_time_cost": 2})

    async with serve(create_app(stronger)) as client:
        await log_in(client, member.email)
    new_hash = await password_hash_of(session, member.email)

    assert old_hash is not None
    assert ",t=1," in old_hash
    assert new_hash is not None
    assert ",t=2," in new_hash
    async with serve(create_app(stronger)) as client:
        assert (await log_in(client, member.email))["access_token"]


async def test_passwords_are_stored_as_argon2id_hashes_only(
    member: Account, session: AsyncSession
) -> None:
    stored = await password_hash_of(session, member.email)

    assert stored is not None
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


async def test_registration_makes_a_member_who_can_log_in(anonymous: AsyncClient) -> None:
    response = await anonymous.post(
        REGISTER, json={"email": "New@Example.com", "name": "New", "password": PASSWORD}
    )

    assert response.status_code == 201
    assert response.json()["role"] == "member"
    assert "password" not in str(response.json())
    tokens = await log_in(anonymous, "new@example.com")
    assert (await anonymous.get(ME, headers=bearer(tokens["access_token"]))).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"email": "a@example.com", "name": "A", "password": "short"},
        {"email": "a@example.com", "name": "A", "password": PASSWORD, "role": "admin"},
        {"email": "not-an-email", "name": "A", "password": PASSWORD},
    ],
    ids=["short-password", "own-role", "bad-email"],
)
async def test_invalid_registrations_are_refused(
    anonymous: AsyncClient, body: dict[str, str]
) -> None:
    response = await anonymous.post(REGISTER, json=body)

    assert response.status_code == 422
    assert PASSWORD not in response.text


async def test_changing_the_password_ends_every_login(
    anonymous: AsyncClient, member: Account
) -> None:
    new_password = "a brand new passphrase"
    wrong = await anonymous.post(
        "/api/v1/auth/password",
        json={"current_password": "not the password!", "new_password": new_password},
        headers=member.headers,
    )
    changed = await anonymous.post(
        "/api/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": new_password},
        headers=member.headers,
    )

    assert wrong.status_code == 403
    assert changed.status_code == 204
    assert (await anonymous.get(ME, headers=member.headers)).status_code == 401
    assert (await attempt(anonymous, member.email, PASSWORD)).status_code == 401
    assert (await log_in(anonymous, member.email, new_password))["access_token"]
