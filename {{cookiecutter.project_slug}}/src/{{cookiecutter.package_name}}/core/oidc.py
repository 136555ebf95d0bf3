"""OpenID Connect, the relying party's side: discovery, the authorization request, the code
exchange, and the verification of the ID token the provider sends back.

The JOSE work is joserfc's: the ID token's signature is checked against the keys the
provider publishes (its JWKS), with the asymmetric algorithms listed here only, and
its claims by joserfc's claims registry: the issuer, the audience (this service's
client ID), the expiry and issue times, the subject and the nonce of this sign-in.
Discovery documents and key sets are cached per provider for
``OIDC_METADATA_TTL_SECONDS``; a token signed with a key the cached set lacks fetches
the set again, once (the provider rotated its keys). Every call to a provider is
bounded in time (``OIDC_HTTP_TIMEOUT``) and in size.

GitHub's OAuth apps issue no ID token: for a provider of ``kind`` github, the code is
swapped for an access token, and GitHub's API says who signed in (``/user``) and
which of their addresses it verified (``/user/emails``).
"""

import asyncio
import base64
import hashlib
import json
import secrets
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Self
from urllib.parse import quote, urlencode, urlsplit

import httpx2
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from {{ cookiecutter.package_name }}.core.tls import outgoing_tls

ID_TOKEN_ALGORITHMS = ["RS256", "PS256", "ES256"]
MAX_ANSWER_BYTES = 256 * 1024
DISCOVERY_PATH = "/.well-known/openid-configuration"
GITHUB_AUTHORIZATION = "https://github.com/login/oauth/authorize"
GITHUB_TOKEN = "https://github.com/login/oauth/access_token"  # noqa: S105 - a URL
GITHUB_USER = "https://api.github.com/user"


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        msg = f"{value!r} is not an http(s) URL"
        raise ValueError(msg)
    return value


HttpUrl = Annotated[str, Field(max_length=2048), AfterValidator(_http_url)]


class OidcProvider(BaseModel):
    """A provider, and this service's registration with it (one entry of OIDC_PROVIDERS)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["oidc", "github"] = Field(
        default="oidc", description="github: GitHub's OAuth apps, which have no ID tokens."
    )
    issuer: HttpUrl | None = Field(
        default=None, description="OIDC: as the ID tokens' iss claim spells it; discovery root."
    )
    client_id: str = Field(min_length=1, max_length=255)
    client_secret: SecretStr = Field(min_length=1, max_length=1024)
    scopes: list[str] | None = Field(
        default=None,
        min_length=1,
        max_length=20,
        description="Default: openid email profile (github: read:user user:email).",
    )
    trust_email: bool = Field(
        default=False,
        description="Take every email it sends as verified (a company's own directory).",
    )
    authorization_endpoint: HttpUrl | None = Field(
        default=None, description="Set with the other two to skip discovery."
    )
    token_endpoint: HttpUrl | None = None
    jwks_uri: HttpUrl | None = None
    userinfo_endpoint: HttpUrl | None = Field(
        default=None, description="github: its API's /user (and /user/emails below it)."
    )

    @model_validator(mode="after")
    def _check_kind(self) -> Self:
        if self.kind == "oidc" and self.issuer is None:
            msg = "an OpenID Connect provider needs its issuer"
            raise ValueError(msg)
        if self.kind == "oidc" and self.scopes is not None and "openid" not in self.scopes:
            msg = "scopes must include openid"
            raise ValueError(msg)
        return self

    @property
    def requested_scopes(self) -> list[str]:
        if self.scopes is not None:
            return self.scopes
        if self.kind == "github":
            return ["read:user", "user:email"]
        return ["openid", "email", "profile"]


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    """Where to send the user, and what the callback needs to finish the sign-in."""

    url: str
    state: str
    nonce: str
    code_verifier: str


@dataclass(frozen=True, slots=True)
class VerifiedIdentity:
    """Who signed in: from an ID token whose every check passed, or from GitHub's API."""

    subject: str
    email: str | None
    email_verified: bool
    name: str | None


class ProviderUnavailableError(Exception):
    """The provider did not answer, or not in time, or not with what the protocol says."""


class SignInRejectedError(Exception):
    """The provider's answer does not prove a sign-in: a refused code, a token that fails."""


class _Endpoints(BaseModel):
    """The part of a discovery document this service reads."""

    issuer: HttpUrl
    authorization_endpoint: HttpUrl
    token_endpoint: HttpUrl
    jwks_uri: HttpUrl


class _TokenAnswer(BaseModel):
    id_token: str = Field(max_length=16_384)


class _GithubToken(BaseModel):
    """GitHub answers 200 to a refused code too, with an ``error`` instead of a token."""

    access_token: str | None = Field(default=None, max_length=4096)


class _GithubUser(BaseModel):
    id: int
    name: str | None = None


class _GithubEmail(BaseModel):
    email: str
    primary: bool
    verified: bool


_GITHUB_EMAILS = TypeAdapter(list[_GithubEmail])


def _code_challenge(verifier: str) -> str:
    """PKCE's S256 challenge (RFC 7636, section 4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class OidcClient:
    """Talks to every configured provider; its caches are its own (one per app)."""

    def __init__(
        self,
        providers: Mapping[str, OidcProvider],
        http: httpx2.AsyncClient,
        *,
        metadata_ttl: float,
        timeout: float,
        leeway: int,
    ) -> None:
        self.providers = dict(providers)
        self.http = http
        self.metadata_ttl = metadata_ttl
        self.timeout = timeout
        self.leeway = leeway
        self._endpoints: dict[str, tuple[float, _Endpoints]] = {}
        self._keys: dict[str, tuple[float, KeySet]] = {}

    async def authorization_request(self, name: str, redirect_uri: str) -> AuthorizationRequest:
        """A fresh state, nonce and PKCE verifier, and the provider's URL that carries them."""
        provider = self.providers[name]
        if provider.kind == "github":
            endpoint = provider.authorization_endpoint or GITHUB_AUTHORIZATION
        else:
            endpoint = (await self._discover(name)).authorization_endpoint
        state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        verifier = secrets.token_urlsafe(48)
        parameters = {
            "response_type": "code",
            "client_id": provider.client_id,
            "redirect_uri": redirect_uri,
            "scope": " ".join(provider.requested_scopes),
            "state": state,
            "code_challenge": _code_challenge(verifier),
            "code_challenge_method": "S256",
        }
        if provider.kind == "oidc":
            parameters["nonce"] = nonce
        separator = "&" if "?" in endpoint else "?"
        url = f"{endpoint}{separator}{urlencode(parameters)}"
        return AuthorizationRequest(url=url, state=state, nonce=nonce, code_verifier=verifier)

    async def exchange(
        self, name: str, *, code: str, redirect_uri: str, code_verifier: str, nonce: str
    ) -> VerifiedIdentity:
        """Swap the authorization code for an ID token, and verify it."""
        provider = self.providers[name]
        if provider.kind == "github":
            return await self._github_identity(provider, code, redirect_uri, code_verifier)
        endpoints = await self._discover(name)
        # client_secret_basic: the ID and secret are form-encoded first (RFC 6749, 2.3.1).
        secret = provider.client_secret.get_secret_value()
        auth = (quote(provider.client_id, safe=""), quote(secret, safe=""))
        status, body = await self._fetch(
            "POST",
            endpoints.token_endpoint,
            auth=auth,
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": code_verifier,
            },
        )
        if status in (400, 401):
            raise SignInRejectedError("code_refused")
        if status != 200:
            raise ProviderUnavailableError(f"token endpoint answered {status}")
        try:
            answer = _TokenAnswer.model_validate_json(body)
        except ValidationError as exc:
            raise SignInRejectedError("no_id_token") from exc
        return await self._verify(name, answer.id_token, nonce)

    async def _github_identity(
        self, provider: OidcProvider, code: str, redirect_uri: str, code_verifier: str
    ) -> VerifiedIdentity:
        """Who signed in, as GitHub's API tells the holder of the access token."""
        status, body = await self._fetch(
            "POST",
            provider.token_endpoint or GITHUB_TOKEN,
            data={
                "client_id": provider.client_id,
                "client_secret": provider.client_secret.get_secret_value(),
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": code_verifier,
            },
        )
        if status != 200:
            raise ProviderUnavailableError(f"token endpoint answered {status}")
        api = provider.userinfo_endpoint or GITHUB_USER
        try:
            token = _GithubToken.model_validate_json(body).access_token
            if token is None:
                raise SignInRejectedError("code_refused")
            headers = {"Authorization": f"Bearer {token}"}
            user = _GithubUser.model_validate_json(await self._get(api, headers))
            emails = _GITHUB_EMAILS.validate_json(await self._get(f"{api}/emails", headers))
        except ValidationError as exc:
            raise ProviderUnavailableError("GitHub's answer is malformed") from exc
        email = next((entry for entry in emails if entry.primary), None)
        return VerifiedIdentity(
            subject=str(user.id),
            email=email.email if email else None,
            email_verified=email is not None and (email.verified or provider.trust_email),
            name=user.name,
        )

    async def _verify(self, name: str, id_token: str, nonce: str) -> VerifiedIdentity:
        provider = self.providers[name]
        try:
            try:
                token = jwt.decode(id_token, await self._key_set(name), ID_TOKEN_ALGORITHMS)
            except InvalidKeyIdError:  # a key newer than the cached set
                token = jwt.decode(
                    id_token, await self._key_set(name, refresh=True), ID_TOKEN_ALGORITHMS
                )
            jwt.JWTClaimsRegistry(
                leeway=self.leeway,
                iss={"essential": True, "value": provider.issuer or ""},
                aud={"essential": True, "value": provider.client_id},
                sub={"essential": True},
                exp={"essential": True},
                iat={"essential": True},
                nonce={"essential": True, "value": nonce},
            ).validate(token.claims)
        except JoseError as exc:
            claim = getattr(exc, "claim", None)
            raise SignInRejectedError(f"id_token {exc.error} {claim or ''}".strip()) from exc
        claims = token.claims
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audiences) > 1 and claims.get("azp") != provider.client_id:
            raise SignInRejectedError("id_token invalid_claim azp")
        email = claims.get("email")
        name_claim = claims.get("name")
        return VerifiedIdentity(
            subject=str(claims["sub"])[:255],
            email=email if isinstance(email, str) else None,
            email_verified=provider.trust_email or claims.get("email_verified") is True,
            name=name_claim if isinstance(name_claim, str) else None,
        )

    async def _discover(self, name: str) -> _Endpoints:
        provider = self.providers[name]
        issuer = provider.issuer or ""
        if provider.authorization_endpoint and provider.token_endpoint and provider.jwks_uri:
            return _Endpoints(
                issuer=issuer,
                authorization_endpoint=provider.authorization_endpoint,
                token_endpoint=provider.token_endpoint,
                jwks_uri=provider.jwks_uri,
            )
        cached = self._endpoints.get(name)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        document = await self._get(issuer.rstrip("/") + DISCOVERY_PATH)
        try:
            endpoints = _Endpoints.model_validate_json(document)
        except ValidationError as exc:
            raise ProviderUnavailableError("the discovery document is malformed") from exc
        if endpoints.issuer != issuer:
            msg = f"the discovery document names the issuer {endpoints.issuer!r}"
            raise ProviderUnavailableError(msg)
        self._endpoints[name] = (time.monotonic() + self.metadata_ttl, endpoints)
        return endpoints

    async def _key_set(self, name: str, *, refresh: bool = False) -> KeySet:
        cached = self._keys.get(name)
        if not refresh and cached is not None and cached[0] > time.monotonic():
            return cached[1]
        document = await self._get((await self._discover(name)).jwks_uri)
        try:
            keys = KeySet.import_key_set({"keys": json.loads(document)["keys"]})
        except (JoseError, KeyError, TypeError, ValueError) as exc:
            raise ProviderUnavailableError("the provider's key set is malformed") from exc
        self._keys[name] = (time.monotonic() + self.metadata_ttl, keys)
        return keys

    async def _get(self, url: str, headers: Mapping[str, str] | None = None) -> bytes:
        status, body = await self._fetch("GET", url, headers=headers)
        if status != 200:
            raise ProviderUnavailableError(f"{url} answered {status}")
        return body

    async def _fetch(
        self, method: str, url: str, *, headers: Mapping[str, str] | None = None, **options: Any
    ) -> tuple[int, bytes]:
        """The status and body of one request, within the timeout and the size limit."""
        body = bytearray()
        headers = {"Accept": "application/json", **(headers or {})}
        try:
            async with (
                asyncio.timeout(self.timeout),
                self.http.stream(method, url, headers=headers, **options) as response,
            ):
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > MAX_ANSWER_BYTES:
                        msg = f"{url} answered more than {MAX_ANSWER_BYTES} bytes"
                        raise ProviderUnavailableError(msg)
        except (TimeoutError, httpx2.HTTPError) as exc:
            raise ProviderUnavailableError(f"{url}: {type(exc).__name__}") from exc
        return response.status_code, bytes(body)


@asynccontextmanager
async def open_oidc_client(
    providers: Mapping[str, OidcProvider], *, metadata_ttl: float, http_timeout: float, leeway: int
) -> AsyncIterator[OidcClient]:
    """A client for ``providers`` over an HTTP connection pool of its own, closed after."""
    tls = await asyncio.to_thread(outgoing_tls)
    async with httpx2.AsyncClient(verify=tls, timeout=http_timeout, follow_redirects=False) as http:
        yield OidcClient(
            providers, http, metadata_ttl=metadata_ttl, timeout=http_timeout, leeway=leeway
        )
