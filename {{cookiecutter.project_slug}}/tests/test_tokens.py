"""Tokens as an attacker would try them: forged, altered, expired, misused or replayed."""

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from httpx import AsyncClient, Response
from pydantic import SecretStr, ValidationError

from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.core.tokens import TokenCodec, TokenPayload
from {{ cookiecutter.package_name }}.main import create_app
from tests.conftest import Account, Serve, bearer, log_in

ME = "/api/v1/users/me"
REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header: dict[str, Any], claims: dict[str, Any], hmac_key: bytes | None) -> str:
    """A token built by hand, signed with HMAC-SHA256 over ``hmac_key`` (or not at all)."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    signature = (
        hmac.new(hmac_key, signing_input.encode(), hashlib.sha256).digest() if hmac_key else b""
    )
    return f"{signing_input}.{b64(signature)}"


def claims_of(token: str) -> dict[str, Any]:
    unverified: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return unverified


def assert_rejected(response: Response) -> None:
    assert response.status_code == 401, response.text
    assert response.json()["code"] == "unauthorized"
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.fixture
async def tokens(anonymous: AsyncClient, member: Account) -> dict[str, Any]:
    """A fresh login of the member: the token response."""
    return await log_in(anonymous, member.email)


@pytest.fixture
def claims(tokens: dict[str, Any]) -> TokenPayload:
    """The claims of the member's access token."""
    return TokenPayload.model_validate(claims_of(tokens["access_token"]))


async def test_a_fresh_access_token_is_accepted(
    anonymous: AsyncClient, tokens: dict[str, Any], member: Account
) -> None:
    response = await anonymous.get(ME, headers=bearer(tokens["access_token"]))

    assert response.status_code == 200
    assert response.json()["id"] == member.id


@pytest.mark.parametrize(
    ("change", "accepted"),
    [
        ({"exp": -3600}, False),
        ({"nbf": 3600}, False),
        ({"iat": 3600, "nbf": 3600}, False),
        ({"exp": -2}, True),  # within the clock-skew leeway
    ],
    ids=["expired", "not-yet-valid", "issued-in-the-future", "leeway"],
)
async def test_token_times_are_enforced(
    anonymous: AsyncClient,
    settings: Settings,
    claims: TokenPayload,
    change: dict[str, int],
    accepted: bool,
) -> None:
    now = int(time.time())
    shifted = claims.model_copy(update={name: now + delta for name, delta in change.items()})
    token = TokenCodec(settings).encode(shifted)

    response = await anonymous.get(ME, headers=bearer(token))

    if accepted:
        assert response.status_code == 200
    else:
        assert_rejected(response)


@pytest.mark.parametrize(
    "other",
    [
        {"secret_key": SecretStr("another-secret-key-of-more-than-32-characters")},
        {"jwt_audience": "another-service"},
        {"jwt_issuer": "https://attacker.example.com"},
    ],
    ids=["wrong-signature", "wrong-audience", "wrong-issuer"],
)
async def test_a_token_of_another_key_audience_or_issuer_is_rejected(
    anonymous: AsyncClient, settings: Settings, claims: TokenPayload, other: dict[str, Any]
) -> None:
    foreign = TokenCodec(settings.model_copy(update=other))
    payload = claims.model_copy(update={"iss": foreign.issuer, "aud": foreign.audience})

    response = await anonymous.get(ME, headers=bearer(foreign.encode(payload)))

    assert_rejected(response)


async def test_an_unsigned_token_is_rejected(
    anonymous: AsyncClient, tokens: dict[str, Any]
) -> None:
    for alg in ("none", "None", "NONE"):
        token = forge({"alg": alg, "typ": "JWT"}, claims_of(tokens["access_token"]), None)

        assert_rejected(await anonymous.get(ME, headers=bearer(token)))


async def test_tampered_scopes_break_the_signature(
    anonymous: AsyncClient, tokens: dict[str, Any]
) -> None:
    header, _, signature = tokens["access_token"].split(".")
    claims = claims_of(tokens["access_token"])
    claims["scopes"] = [*claims["scopes"], "admin", "audit:read"]
    tampered = f"{header}.{b64(json.dumps(claims).encode())}.{signature}"

    response = await anonymous.get("/api/v1/audit-log", headers=bearer(tampered))

    assert_rejected(response)


@pytest.mark.parametrize(
    "token", ["", "garbage", "a.b.c", "eyJhbGciOiJIUzI1NiJ9", "eyJhbGciOiJIUzI1NiJ9.e30."]
)
async def test_a_malformed_token_is_rejected(anonymous: AsyncClient, token: str) -> None:
    assert_rejected(await anonymous.get(ME, headers={"Authorization": f"Bearer {token}"}))


async def test_a_refresh_token_is_no_access_token_and_vice_versa(
    anonymous: AsyncClient, tokens: dict[str, Any]
) -> None:
    as_access = await anonymous.get(ME, headers=bearer(tokens["refresh_token"]))
    as_refresh = await anonymous.post(REFRESH, json={"refresh_token": tokens["access_token"]})

    assert_rejected(as_access)
    assert_rejected(as_refresh)


async def test_refreshing_rotates_the_refresh_token(
    anonymous: AsyncClient, tokens: dict[str, Any]
) -> None:
    response = await anonymous.post(REFRESH, json={"refresh_token": tokens["refresh_token"]})

    assert response.status_code == 200
    renewed = response.json()
    assert renewed["refresh_token"] != tokens["refresh_token"]
    assert renewed["scope"] == tokens["scope"]
    assert (await anonymous.get(ME, headers=bearer(renewed["access_token"]))).status_code == 200


async def test_a_reused_refresh_token_ends_the_whole_login(
    anonymous: AsyncClient, tokens: dict[str, Any], member: Account
) -> None:
    stolen = tokens["refresh_token"]
    legitimate = (await anonymous.post(REFRESH, json={"refresh_token": stolen})).json()

    replay = await anonymous.post(REFRESH, json={"refresh_token": stolen})

    assert_rejected(replay)
    # Every token of that login is dead now, the legitimate holder's newest ones too...
    assert_rejected(
        await anonymous.post(REFRESH, json={"refresh_token": legitimate["refresh_token"]})
    )
    assert_rejected(await anonymous.get(ME, headers=bearer(legitimate["access_token"])))
    # ...and only that login: another one of the same user goes on.
    assert (await anonymous.get(ME, headers=member.headers)).status_code == 200


async def test_logout_ends_the_access_and_the_refresh_token(
    anonymous: AsyncClient, tokens: dict[str, Any]
) -> None:
    response = await anonymous.post(LOGOUT, json={"refresh_token": tokens["refresh_token"]})

    assert response.status_code == 204
    assert_rejected(await anonymous.get(ME, headers=bearer(tokens["access_token"])))
    assert_rejected(await anonymous.post(REFRESH, json={"refresh_token": tokens["refresh_token"]}))


def write_pem(path: Path, key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> Path:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    """One key for the module: making an RSA key takes a noticeable fraction of a second."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def rs256(settings: Settings, tmp_path: Path, rsa_key: rsa.RSAPrivateKey) -> Settings:
    key_file = write_pem(tmp_path / "jwt-rs256.pem", rsa_key)
    return settings.model_copy(update={"jwt_algorithm": "RS256", "jwt_private_key_file": key_file})


@pytest.fixture
def es256(settings: Settings, tmp_path: Path) -> Settings:
    key_file = write_pem(tmp_path / "jwt-es256.pem", ec.generate_private_key(ec.SECP256R1()))
    return settings.model_copy(update={"jwt_algorithm": "ES256", "jwt_private_key_file": key_file})


@pytest.mark.parametrize("algorithm", ["rs256", "es256"])
async def test_asymmetric_algorithms_sign_and_verify(
    serve: Serve, member: Account, algorithm: str, request: pytest.FixtureRequest
) -> None:
    settings: Settings = request.getfixturevalue(algorithm)

    async with serve(create_app(settings)) as client:
        access_token = (await log_in(client, member.email))["access_token"]
        response = await client.get(ME, headers=bearer(access_token))

    assert jwt.get_unverified_header(access_token)["alg"] == algorithm.upper()
    assert response.status_code == 200


async def test_hs256_signed_with_the_rs256_public_key_is_rejected(
    serve: Serve, member: Account, rs256: Settings, rsa_key: rsa.RSAPrivateKey
) -> None:
    """Algorithm confusion: a verifier that let the token pick HS256 would check it with the
    public key as the HMAC secret, which anyone can have."""
    public_pem = rsa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )

    async with serve(create_app(rs256)) as client:
        genuine = (await log_in(client, member.email))["access_token"]
        forged = forge({"alg": "HS256", "typ": "JWT"}, claims_of(genuine), public_pem)
        response = await client.get(ME, headers=bearer(forged))

    assert_rejected(response)


def test_asymmetric_algorithms_need_a_key_file() -> None:
    with pytest.raises(ValidationError, match="JWT_ALGORITHM=RS256 needs JWT_PRIVATE_KEY_FILE"):
        Settings(_env_file=None, jwt_algorithm="RS256")


def test_a_key_of_the_wrong_kind_or_a_foreign_public_key_is_refused(
    rs256: Settings, es256: Settings, tmp_path: Path
) -> None:
    other_public = tmp_path / "other.pub"
    other_public.write_bytes(
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    wrong_kind = rs256.model_copy(update={"jwt_private_key_file": es256.jwt_private_key_file})
    mismatched = rs256.model_copy(update={"jwt_public_key_file": other_public})

    with pytest.raises(ValueError, match="RSA key"):
        TokenCodec(wrong_kind)
    with pytest.raises(ValueError, match="not the public half"):
        TokenCodec(mismatched)
