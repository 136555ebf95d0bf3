"""Signing in through an OpenID Connect provider, ending in this service's own tokens.

``begin`` stores the sign-in's state, nonce and PKCE verifier (the state only as a
hash) and names the provider's URL to send the user to, and the state the browser
must keep. ``finish`` takes that record back, once: a second callback with the same
state finds nothing; a callback from a browser that does not hold the state is
refused (login CSRF: an attacker's sign-in finished in a victim's browser). It then
swaps the code for an ID token and verifies it (``core/oidc.py``), and finds the user:

1. by the provider's account (provider and subject), linked on an earlier sign-in;
2. else by email, if the provider vouches for it (``email_verified``): the account
   is linked, or created when there is none. An email the provider does not vouch
   for is refused, so nobody signs in as an existing user by claiming their address.

The tokens come from ``AuthService.start_login``, as a password login's do: scopes,
rotation and logout work the same.
"""

import hashlib
import hmac
from dataclasses import dataclass
from datetime import timedelta
from typing import NoReturn

import structlog
from limits import RateLimitItem, parse
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from {{ cookiecutter.package_name }}.core.authorization import Scope, granted_scopes, unauthorized
from {{ cookiecutter.package_name }}.core.clock import utc_now
from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.core.errors import (
    ForbiddenError,
    NotFoundError,
    RateLimitedError,
    ServiceUnavailableError,
)
from {{ cookiecutter.package_name }}.core.oidc import (
    OidcClient,
    ProviderUnavailableError,
    SignInRejectedError,
    VerifiedIdentity,
)
from {{ cookiecutter.package_name }}.core.rate_limit import RateLimiter
from {{ cookiecutter.package_name }}.database.models import OidcIdentity, OidcLoginState, User
from {{ cookiecutter.package_name }}.database.repository import (
    OidcIdentityRepository,
    OidcLoginStateRepository,
    UserRepository,
)
from {{ cookiecutter.package_name }}.database.session import unit_of_work
from {{ cookiecutter.package_name }}.models.requests import UserCreate
from {{ cookiecutter.package_name }}.services.audit_trail import AuditTrail
from {{ cookiecutter.package_name }}.services.auth_service import AuthService, IssuedTokens
from {{ cookiecutter.package_name }}.services.user_service import UserService

security_log = structlog.get_logger("security")

SIGN_IN_FAILED = "The sign-in could not be verified: start it again."
UNVERIFIED_EMAIL = (
    "The provider does not vouch for your email address: verify it there, then sign in again."
)


@dataclass(frozen=True, slots=True)
class SignInStart:
    """Where to send the browser, and the state that browser keeps for the callback."""

    url: str
    state: str


def _state_hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


class OidcService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        client: OidcClient,
        auth: AuthService,
        limiter: RateLimiter,
        settings: Settings,
    ) -> None:
        self.sessions = sessions
        self.client = client
        self.auth = auth
        self.limiter = limiter
        self.state_lifetime = timedelta(seconds=settings.oidc_state_ttl_seconds)
        self.ip_limit: RateLimitItem = parse(settings.login_rate_limit_per_ip)

    async def begin(self, provider: str, redirect_uri: str, client_ip: str) -> SignInStart:
        """The provider's URL that starts a sign-in coming back to ``redirect_uri``."""
        self._ensure_known(provider)
        await self._limit(client_ip)
        try:
            request = await self.client.authorization_request(provider, redirect_uri)
        except ProviderUnavailableError as exc:
            raise self._unavailable(provider, exc) from exc
        now = utc_now()
        pending = OidcLoginState(
            state_hash=_state_hash(request.state),
            provider=provider,
            nonce=request.nonce,
            code_verifier=request.code_verifier,
            expires_at=now + self.state_lifetime,
        )
        async with unit_of_work(self.sessions) as session:
            await OidcLoginStateRepository(session).add(pending, now=now)
        return SignInStart(url=request.url, state=request.state)

    async def finish(
        self,
        provider: str,
        *,
        code: str | None,
        state: str,
        browser_state: str | None,
        redirect_uri: str,
        client_ip: str,
    ) -> IssuedTokens:
        """Tokens for whoever the provider signed in, once every check passed.

        ``browser_state`` is the state the browser kept when it started the sign-in.
        """
        self._ensure_known(provider)
        await self._limit(client_ip)
        # A unit of work of its own: the state is spent even if the sign-in then fails.
        async with unit_of_work(self.sessions) as session:
            pending = await OidcLoginStateRepository(session).take(_state_hash(state))
        if pending is None or pending.provider != provider or pending.expires_at <= utc_now():
            self._refused(provider, client_ip, "state_unknown")
        if browser_state is None or not hmac.compare_digest(browser_state, state):
            self._refused(provider, client_ip, "state_not_from_this_browser")
        if code is None:
            self._refused(provider, client_ip, "no_code")
        try:
            identity = await self.client.exchange(
                provider,
                code=code,
                redirect_uri=redirect_uri,
                code_verifier=pending.code_verifier,
                nonce=pending.nonce,
            )
        except ProviderUnavailableError as exc:
            raise self._unavailable(provider, exc) from exc
        except SignInRejectedError as exc:
            self._refused(provider, client_ip, str(exc))
        async with unit_of_work(self.sessions) as session:
            user = await self._user_of(session, provider, identity, client_ip)
            scopes = granted_scopes(user.role, [scope.value for scope in Scope])
            issued = await self.auth.start_login(session, user, scopes)
        security_log.info(
            "login_succeeded", user_id=str(user.id), client_ip=client_ip, provider=provider
        )
        return issued

    async def _user_of(
        self, session: AsyncSession, provider: str, identity: VerifiedIdentity, client_ip: str
    ) -> User:
        identities = OidcIdentityRepository(session)
        link = await identities.get_by_subject(provider, identity.subject)
        if link is not None:
            user = link.user
        elif identity.email is None or not identity.email_verified:
            security_log.warning(
                "oidc_login_refused",
                provider=provider,
                client_ip=client_ip,
                reason="email_unverified",
            )
            raise ForbiddenError(UNVERIFIED_EMAIL)
        else:
            user = await UserRepository(session).get_by_email(identity.email) or (
                await self._create_user(session, provider, identity.email, identity.name)
            )
            await identities.create(
                OidcIdentity(provider=provider, subject=identity.subject, user=user)
            )
            security_log.info("oidc_identity_linked", user_id=str(user.id), provider=provider)
        if not user.is_active:
            self._refused(provider, client_ip, "inactive")
        return user

    async def _create_user(
        self, session: AsyncSession, provider: str, email: str, name: str | None
    ) -> User:
        """A member without a password: they sign in through the provider."""
        audit = AuditTrail(session, actor=f"oidc:{provider}")
        users = UserService(session, audit, self.auth.passwords)
        fallback = email.partition("@")[0][:100] or "User"
        try:
            data = UserCreate(email=email, name=(name or fallback)[:100])
        except ValidationError:
            try:
                data = UserCreate(email=email, name=fallback)
            except ValidationError as exc:
                raise ForbiddenError(UNVERIFIED_EMAIL) from exc
        user = await users.create(data)
        security_log.info("user_registered", user_id=str(user.id), provider=provider)
        return user

    def _ensure_known(self, provider: str) -> None:
        if provider not in self.client.providers:
            raise NotFoundError(f"No sign-in provider named {provider!r}.")

    async def _limit(self, client_ip: str) -> None:
        try:
            await self.limiter.hit(self.ip_limit, "oidc_ip", client_ip)
        except RateLimitedError:
            security_log.warning("auth_rate_limited", limit="oidc_ip", key=client_ip)
            raise

    @staticmethod
    def _refused(provider: str, client_ip: str, reason: str) -> NoReturn:
        security_log.warning(
            "oidc_login_refused", provider=provider, client_ip=client_ip, reason=reason
        )
        raise unauthorized(SIGN_IN_FAILED)

    @staticmethod
    def _unavailable(provider: str, exc: ProviderUnavailableError) -> ServiceUnavailableError:
        security_log.warning("oidc_provider_unavailable", provider=provider, error=str(exc))
        return ServiceUnavailableError(
            f"The sign-in provider {provider!r} cannot be reached: try again later."
        )
