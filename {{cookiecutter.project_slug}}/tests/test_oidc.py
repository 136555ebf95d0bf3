"""Signing in through an OpenID Connect provider, and every way a sign-in must fail.

The provider is the local one of ``tests/oidc_provider.py``, over real HTTP, also as
``github`` (GitHub's OAuth, without ID tokens); ``down`` points at a port where
nothing listens.
"""

import json
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from httpx import AsyncClient, Response
from joserfc.jwk import RSAKey
from pydantic import SecretStr
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from {{ cookiecutter.package_name }}.core.config import Environment, Settings
from {{ cookiecutter.package_name }}.core.oidc import OidcProvider as ProviderSettings
from {{ cookiecutter.package_name }}.database.models import OidcIdentity, OidcLoginState, User
from {{ cookiecutter.package_name }}.scripts.create_admin import CreatedAdmin
from tests.conftest import ADMIN_EMAIL, Account, Serve, app_of, bearer, make_settings
from tests.oidc_provider import CLIENT_ID, CLIENT_SECRET, REMOVE, OidcProvider, serve_provider

LOGIN = "/api/v1/auth/oidc/local/login"
GITHUB_LOGIN = "/api/v1/auth/oidc/github/login"
ME = "/api/v1/users/me"


@pytest.fixture(scope="session")
async def provider_server() -> AsyncIterator[OidcProvider]:
    async with serve_provider() as provider:
        yield provider


@pytest.fixture
def provider(provider_server: OidcProvider) -> OidcProvider:
    provider_server.reset()
    return provider_server


@pytest.fixture
async def service(
    settings: Settings, serve: Serve, provider_server: OidcProvider
) -> AsyncIterator[AsyncClient]:
    """The app, with the local provider and one that is down; no credentials."""
    secret = SecretStr(CLIENT_SECRET)
    oidc = settings.model_copy(
        update={
            "oidc_providers": {
                "local": ProviderSettings(
                    issuer=provider_server.url, client_id=CLIENT_ID, client_secret=secret
                ),
                "down": ProviderSettings(
                    issuer="http://127.0.0.1:9", client_id=CLIENT_ID, client_secret=secret
                ),
                "github": ProviderSettings(
                    kind="github",
                    client_id=CLIENT_ID,
                    client_secret=secret,
                    authorization_endpoint=f"{provider_server.url}/github/login/oauth/authorize",
                    token_endpoint=f"{provider_server.url}/github/login/oauth/access_token",
                    userinfo_endpoint=f"{provider_server.url}/github/user",
                ),
            },
            "oidc_redirect_base_url": "http://testserver",
            "log_json": True,
        }
    )
    async with serve(app_of(oidc)) as http:
        yield http


@pytest.fixture(scope="session")
def foreign_key() -> RSAKey:
    """A key the provider never published, with the kid of the one it did."""
    return RSAKey.generate_key(2048, parameters={"kid": "test-key"})


def refusals(output: str) -> list[str]:
    """The reasons of the sign-ins the service refused, from its JSON log lines."""
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    return [line["reason"] for line in lines if line["event"] == "oidc_login_refused"]


async def sign_in(
    service: AsyncClient, provider: OidcProvider, login_url: str = LOGIN
) -> tuple[Response, str]:
    """The whole flow, as a browser goes through it; the callback's answer and its URL."""
    login = await service.get(login_url)
    assert login.status_code == 302, login.text
    callback = provider.authorize(login.headers["location"])
    return await service.get(callback), callback


async def count(session: AsyncSession, model: type[Any]) -> int:
    return await session.scalar(select(func.count()).select_from(model)) or 0


async def test_the_login_redirect_carries_state_nonce_and_a_pkce_challenge(
    service: AsyncClient, provider: OidcProvider
) -> None:
    location = (await service.get(LOGIN)).headers["location"]
    query = parse_qs(urlsplit(location).query)

    assert query["client_id"] == [CLIENT_ID]
    assert query["redirect_uri"] == ["http://testserver/api/v1/auth/oidc/local/callback"]
    assert query["scope"] == ["openid email profile"]
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["state"][0]) >= 32
    assert len(query["nonce"][0]) >= 32
    assert len(query["code_challenge"][0]) == 43


async def test_the_state_stays_with_the_browser_for_the_callback_only(
    service: AsyncClient, provider: OidcProvider
) -> None:
    login = await service.get(LOGIN)

    [state] = parse_qs(urlsplit(login.headers["location"]).query)["state"]
    cookie = login.headers["set-cookie"]
    assert cookie.startswith(f"oidc_state={state};")
    assert "Path=/api/v1/auth/oidc/local/callback" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Max-Age=" in cookie
    assert "Secure" not in cookie  # OIDC_REDIRECT_BASE_URL is http here; https sets it

    response, _ = await sign_in(service, provider)
    assert response.status_code == 200, response.text
    assert "oidc_state" not in service.cookies  # spent with the sign-in


async def test_a_sign_in_finished_in_another_browser_is_refused(
    service: AsyncClient,
    provider: OidcProvider,
    session: AsyncSession,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Login CSRF: an attacker starts a sign-in to their own account and has a victim's
    browser finish it, which would sign the victim in as the attacker."""
    users = await count(session, User)
    login = await service.get(LOGIN)
    callback = provider.authorize(login.headers["location"])
    service.cookies.clear()  # the victim's browser, which never started this sign-in

    response = await service.get(callback)

    assert response.status_code == 401
    assert "access_token" not in response.text
    assert refusals(capsys.readouterr().out) == ["state_not_from_this_browser"]
    assert await count(session, User) == users


async def test_a_first_sign_in_creates_a_member_with_the_services_own_tokens(
    service: AsyncClient, provider: OidcProvider, session: AsyncSession
) -> None:
    response, _ = await sign_in(service, provider)

    assert response.status_code == 200, response.text
    tokens = response.json()
    me = await service.get(ME, headers=bearer(tokens["access_token"]))
    assert me.json()["email"] == "alice@example.com"
    assert me.json()["name"] == "Alice"
    assert me.json()["role"] == "member"
    user = await session.scalar(select(User).where(User.email == "alice@example.com"))
    assert user is not None
    assert user.password_hash is None
    refreshed = await service.post(
        "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert refreshed.status_code == 200, refreshed.text


async def test_a_later_sign_in_finds_the_linked_user_whatever_their_email_is_now(
    service: AsyncClient, provider: OidcProvider, session: AsyncSession
) -> None:
    first, _ = await sign_in(service, provider)
    provider.account.email = "alice@elsewhere.example.com"
    provider.account.email_verified = False

    second, _ = await sign_in(service, provider)

    assert second.status_code == 200, second.text
    ids = [
        (await service.get(ME, headers=bearer(r.json()["access_token"]))).json()["id"]
        for r in (first, second)
    ]
    assert ids[0] == ids[1]
    assert await count(session, OidcIdentity) == 1


async def test_a_verified_email_links_the_existing_account(
    service: AsyncClient, provider: OidcProvider, member: Account, session: AsyncSession
) -> None:
    provider.account.email = member.email.upper()

    response, _ = await sign_in(service, provider)

    assert response.status_code == 200, response.text
    me = await service.get(ME, headers=bearer(response.json()["access_token"]))
    assert me.json()["id"] == member.id
    link = await session.scalar(select(OidcIdentity))
    assert link is not None
    assert (link.provider, link.subject) == ("local", provider.account.subject)


async def test_an_unverified_email_never_links_to_an_existing_account(
    service: AsyncClient, provider: OidcProvider, session: AsyncSession, admin: CreatedAdmin
) -> None:
    """Someone whose provider account claims the admin's address, unverified."""
    provider.account.email = ADMIN_EMAIL
    provider.account.email_verified = False
    users = await count(session, User)

    response, _ = await sign_in(service, provider)

    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert "access_token" not in response.text
    assert await count(session, OidcIdentity) == 0
    assert await count(session, User) == users


@pytest.mark.parametrize(
    ("forge", "foreign", "reason"),
    [
        pytest.param({"aud": "another-client"}, False, "invalid_claim aud", id="wrong-audience"),
        pytest.param(
            {"aud": ["another-client", CLIENT_ID]}, False, "invalid_claim azp", id="foreign-azp"
        ),
        pytest.param({"iss": "http://evil.example.com"}, False, "invalid_claim iss", id="issuer"),
        pytest.param({"exp": int(time.time()) - 3600}, False, "expired_token exp", id="expired"),
        pytest.param({"nonce": REMOVE}, False, "missing_claim nonce", id="missing-nonce"),
        pytest.param({"nonce": "another"}, False, "invalid_claim nonce", id="wrong-nonce"),
        pytest.param({"sub": REMOVE}, False, "missing_claim sub", id="no-subject"),
        pytest.param({}, True, "bad_signature", id="foreign-signature"),
    ],
)
async def test_an_id_token_that_fails_a_check_signs_nobody_in(
    service: AsyncClient,
    provider: OidcProvider,
    session: AsyncSession,
    foreign_key: RSAKey,
    capsys: pytest.CaptureFixture[str],
    forge: dict[str, Any],
    foreign: bool,
    reason: str,
) -> None:
    provider.forge = forge
    provider.foreign_key = foreign_key if foreign else None
    users = await count(session, User)

    response, _ = await sign_in(service, provider)

    assert response.status_code == 401, response.text
    assert response.json()["code"] == "unauthorized"
    assert refusals(capsys.readouterr().out) == [f"id_token {reason}"]
    assert await count(session, User) == users
    assert await count(session, OidcIdentity) == 0


async def test_a_key_the_provider_rotated_in_is_fetched(
    service: AsyncClient, provider: OidcProvider, foreign_key: RSAKey
) -> None:
    """The keys are cached; a token signed with a key ID they lack fetches them again."""
    assert (await sign_in(service, provider))[0].status_code == 200
    rotated = foreign_key.as_dict(private=True)
    rotated["kid"] = "rotated-key"
    provider.key = RSAKey.import_key(rotated)

    response, _ = await sign_in(service, provider)

    assert response.status_code == 200, response.text


async def test_a_replayed_callback_is_refused(
    service: AsyncClient,
    provider: OidcProvider,
    session: AsyncSession,
    capsys: pytest.CaptureFixture[str],
) -> None:
    first, callback = await sign_in(service, provider)
    assert first.status_code == 200, first.text

    replayed = await service.get(callback)

    assert replayed.status_code == 401
    assert refusals(capsys.readouterr().out) == ["state_unknown"]
    assert await count(session, OidcLoginState) == 0


async def test_a_state_the_service_never_issued_is_refused(
    service: AsyncClient, provider: OidcProvider
) -> None:
    login = await service.get(LOGIN)
    callback = provider.authorize(login.headers["location"])
    forged = callback.replace("state=", "state=x")

    assert (await service.get(forged)).status_code == 401


async def test_a_user_who_says_no_at_the_provider_is_not_signed_in(
    service: AsyncClient, provider: OidcProvider
) -> None:
    location = (await service.get(LOGIN)).headers["location"]
    [state] = parse_qs(urlsplit(location).query)["state"]

    response = await service.get(
        "/api/v1/auth/oidc/local/callback", params={"state": state, "error": "access_denied"}
    )

    assert response.status_code == 401


async def test_an_unknown_provider_is_not_found(service: AsyncClient) -> None:
    response = await service.get("/api/v1/auth/oidc/nobody/login")

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


async def test_a_provider_that_is_down_is_a_503_and_starts_nothing(
    service: AsyncClient, session: AsyncSession
) -> None:
    response = await service.get("/api/v1/auth/oidc/down/login")

    assert response.status_code == 503
    assert response.json()["code"] == "service_unavailable"
    assert await count(session, OidcLoginState) == 0


async def test_a_token_endpoint_outage_is_a_503_and_creates_no_account(
    service: AsyncClient, provider: OidcProvider, session: AsyncSession
) -> None:
    provider.token_status = 502
    users = await count(session, User)

    response, _ = await sign_in(service, provider)

    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert await count(session, User) == users
    assert await count(session, OidcIdentity) == 0


def test_production_needs_an_https_redirect_base_url() -> None:
    provider = ProviderSettings(
        issuer="https://id.example.com", client_id="x", client_secret=SecretStr("y")
    )
    with pytest.raises(ValueError, match="OIDC_REDIRECT_BASE_URL must be an https"):
        Settings(
            _env_file=None,
            environment=Environment.PRODUCTION,
            secret_key=SecretStr("x" * 64),
            oidc_providers={"company": provider},
        )


def test_a_provider_name_must_fit_a_url() -> None:
    provider = ProviderSettings(
        issuer="https://id.example.com", client_id="x", client_secret=SecretStr("y")
    )
    with pytest.raises(ValueError, match="is not a provider name"):
        make_settings(oidc_providers={"Not A Name": provider})


async def test_github_signs_in_with_its_verified_primary_email(
    service: AsyncClient, provider: OidcProvider, session: AsyncSession
) -> None:
    response, _ = await sign_in(service, provider, GITHUB_LOGIN)

    assert response.status_code == 200, response.text
    me = await service.get(ME, headers=bearer(response.json()["access_token"]))
    assert me.json()["email"] == "alice@example.com"
    link = await session.scalar(select(OidcIdentity))
    assert link is not None
    assert (link.provider, link.subject) == ("github", "4242")


async def test_github_with_an_unverified_email_never_links_to_an_existing_account(
    service: AsyncClient, provider: OidcProvider, session: AsyncSession, admin: CreatedAdmin
) -> None:
    provider.account.email = ADMIN_EMAIL
    provider.account.email_verified = False

    response, _ = await sign_in(service, provider, GITHUB_LOGIN)

    assert response.status_code == 403
    assert await count(session, OidcIdentity) == 0


async def test_github_refusing_the_code_signs_nobody_in(
    service: AsyncClient, provider: OidcProvider, capsys: pytest.CaptureFixture[str]
) -> None:
    login = await service.get(GITHUB_LOGIN)
    query = parse_qs(urlsplit(login.headers["location"]).query)
    assert "nonce" not in query

    response = await service.get(
        "/api/v1/auth/oidc/github/callback", params={"code": "forged", "state": query["state"][0]}
    )

    assert response.status_code == 401
    assert refusals(capsys.readouterr().out) == ["code_refused"]
