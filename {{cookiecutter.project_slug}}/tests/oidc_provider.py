"""A small OpenID Connect provider for the tests, speaking the protocol over real HTTP.

It speaks GitHub's OAuth too, under ``/github``: a token endpoint that answers an
access token, and the API's ``/user`` and ``/user/emails`` for its holder.

It publishes its discovery document and its keys (JWKS); its token endpoint checks the
client's secret, the code, the redirect URI and the PKCE verifier, and answers with an
ID token that joserfc signs with an RSA key made once per test session. The user's
side of the sign-in (the browser at the provider, saying yes) is ``authorize``.

A test chooses who signs in (``account``), and may forge the ID token's claims
(``forge``), sign it with a key it does not publish (``foreign_key``), rotate its key
(``key``) or make the token endpoint fail (``token_status``). Served by uvicorn on an
ephemeral port of 127.0.0.1.
"""

import asyncio
import base64
import hashlib
import secrets
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import uvicorn
from joserfc import jwt
from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

CLIENT_ID = "test-service"
CLIENT_SECRET = "test-client-secret"
GITHUB_TOKEN = "gho_test-access-token"
REMOVE = object()
"""A ``forge`` value that leaves the claim out of the ID token."""


@dataclass
class Grant:
    client_id: str
    redirect_uri: str
    code_challenge: str
    nonce: str


@dataclass
class Account:
    subject: str = "alice-at-provider"
    email: str = "alice@example.com"
    email_verified: bool = True
    name: str = "Alice"


@dataclass
class OidcProvider:
    key: RSAKey
    url: str = ""
    account: Account = field(default_factory=Account)
    forge: dict[str, Any] = field(default_factory=dict)
    foreign_key: RSAKey | None = None
    token_status: int = 200
    grants: dict[str, Grant] = field(default_factory=dict)
    first_key: RSAKey = field(init=False)

    def __post_init__(self) -> None:
        self.first_key = self.key

    def reset(self) -> None:
        self.account, self.forge, self.foreign_key, self.token_status = Account(), {}, None, 200
        self.key = self.first_key
        self.grants.clear()

    def authorize(self, location: str) -> str:
        """What the provider does once the user said yes: the redirect back, with a code."""
        query = {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}
        assert location.startswith(self.url)
        assert query["response_type"] == "code"
        assert query["code_challenge_method"] == "S256"
        code = secrets.token_urlsafe(16)
        self.grants[code] = Grant(
            query["client_id"],
            query["redirect_uri"],
            query["code_challenge"],
            query.get("nonce", ""),
        )
        return f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}"

    def id_token(self, grant: Grant) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.url,
            "aud": grant.client_id,
            "sub": self.account.subject,
            "iat": now,
            "exp": now + 300,
            "nonce": grant.nonce,
            "email": self.account.email,
            "email_verified": self.account.email_verified,
            "name": self.account.name,
        }
        claims.update(self.forge)
        claims = {name: value for name, value in claims.items() if value is not REMOVE}
        key = self.foreign_key or self.key
        return jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)

    async def discovery(self, request: Request) -> Response:
        return JSONResponse(
            {
                "issuer": self.url,
                "authorization_endpoint": f"{self.url}/authorize",
                "token_endpoint": f"{self.url}/token",
                "jwks_uri": f"{self.url}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
            }
        )

    async def jwks(self, request: Request) -> Response:
        return JSONResponse({"keys": [self.key.as_dict(private=False)]})

    def redeem(self, form: dict[str, str]) -> Grant | None:
        """The grant of a code, if the redirect URI and PKCE verifier match; once only."""
        grant = self.grants.pop(form.get("code", ""), None)
        verifier = form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        if (
            grant is None
            or form.get("redirect_uri") != grant.redirect_uri
            or challenge.rstrip(b"=").decode() != grant.code_challenge
        ):
            return None
        return grant

    async def token(self, request: Request) -> Response:
        if self.token_status != 200:
            return JSONResponse({"error": "temporarily_unavailable"}, self.token_status)
        form = {name: str(value) for name, value in (await request.form()).items()}
        basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if request.headers.get("authorization") != f"Basic {basic}":
            return JSONResponse({"error": "invalid_client"}, 401)
        grant = self.redeem(form)
        if grant is None or form.get("grant_type") != "authorization_code":
            return JSONResponse({"error": "invalid_grant"}, 400)
        return JSONResponse(
            {"access_token": "at", "token_type": "Bearer", "id_token": self.id_token(grant)}
        )

    async def github_token(self, request: Request) -> Response:
        """GitHub's token endpoint: the client's secret in the form, errors with a 200."""
        form = {name: str(value) for name, value in (await request.form()).items()}
        credentials = (form.get("client_id"), form.get("client_secret"))
        if credentials != (CLIENT_ID, CLIENT_SECRET) or self.redeem(form) is None:
            return JSONResponse({"error": "bad_verification_code"})
        return JSONResponse({"access_token": GITHUB_TOKEN, "token_type": "bearer"})

    async def github_user(self, request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {GITHUB_TOKEN}":
            return JSONResponse({"message": "Bad credentials"}, 401)
        if request.url.path.endswith("/emails"):
            email = {"email": self.account.email, "primary": True}
            return JSONResponse([{**email, "verified": self.account.email_verified}])
        return JSONResponse({"id": 4242, "login": "alice", "name": self.account.name})

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/.well-known/openid-configuration", self.discovery),
                Route("/jwks", self.jwks),
                Route("/token", self.token, methods=["POST"]),
                Route("/github/login/oauth/access_token", self.github_token, methods=["POST"]),
                Route("/github/user", self.github_user),
                Route("/github/user/emails", self.github_user),
            ]
        )


@asynccontextmanager
async def serve_provider() -> AsyncIterator[OidcProvider]:
    """The provider, on a free port of 127.0.0.1 (listening before the server starts)."""
    provider = OidcProvider(key=RSAKey.generate_key(2048, parameters={"kid": "test-key"}))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    provider.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    config = uvicorn.Config(
        provider.app(), lifespan="off", log_config=None, log_level="warning", ws="none"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        yield provider
    finally:
        server.should_exit = True
        await task
        sock.close()
