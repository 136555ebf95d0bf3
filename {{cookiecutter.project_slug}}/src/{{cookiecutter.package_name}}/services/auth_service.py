"""Logging in and out with tokens: login, refresh with rotation, logout, registration.

A login is a ``LoginSession``: the family of its refresh tokens. Each refresh
replaces the refresh token (rotation); presenting one that was already replaced means
that someone else holds a copy, so the whole login is revoked and both holders must
log in again. Access tokens name their login and are checked against it on every
request, so logout and revocation take effect at once.

These operations run their own units of work: a revocation must be committed even
though the request that caused it fails.
"""

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID, uuid4

import structlog
from asgi_correlation_id import correlation_id
from limits import RateLimitItem, parse
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from {{ cookiecutter.package_name }}.core.authorization import (
    Credential,
    Principal,
    Scope,
    granted_scopes,
    unauthorized,
)
from {{ cookiecutter.package_name }}.core.clock import utc_now
from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.core.errors import (
    BadRequestError,
    ForbiddenError,
    RateLimitedError,
)
from {{ cookiecutter.package_name }}.core.passwords import PasswordHasher
from {{ cookiecutter.package_name }}.core.rate_limit import RateLimiter
from {{ cookiecutter.package_name }}.core.tokens import (
    InvalidTokenError,
    TokenCodec,
    TokenPayload,
    TokenType,
)
from {{ cookiecutter.package_name }}.database.models import LoginSession, User
from {{ cookiecutter.package_name }}.database.repository import (
    LoginSessionRepository,
    UserRepository,
)
from {{ cookiecutter.package_name }}.database.session import unit_of_work
from {{ cookiecutter.package_name }}.models.requests import Registration, UserCreate
from {{ cookiecutter.package_name }}.services.audit_trail import AuditTrail
from {{ cookiecutter.package_name }}.services.user_service import UserService

security_log = structlog.get_logger("security")

# One message for every failed login: it must not tell which part was wrong.
INVALID_CREDENTIALS = "Incorrect email or password."
INVALID_TOKEN = "The token is invalid or expired."  # noqa: S105 - a message, not a secret


@dataclass(frozen=True, slots=True)
class IssuedTokens:
    access_token: str
    refresh_token: str
    expires_in: int
    scopes: list[str]


def _account_key(email: str) -> str:
    """The rate limit key of an account: a hash, so no address is stored with the counters."""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


class AuthService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        tokens: TokenCodec,
        passwords: PasswordHasher,
        limiter: RateLimiter,
        settings: Settings,
    ) -> None:
        self.sessions = sessions
        self.tokens = tokens
        self.passwords = passwords
        self.limiter = limiter
        self.access_lifetime = timedelta(seconds=settings.access_token_ttl_seconds)
        self.refresh_lifetime = timedelta(seconds=settings.refresh_token_ttl_seconds)
        self.ip_limit: RateLimitItem = parse(settings.login_rate_limit_per_ip)
        self.account_limit: RateLimitItem = parse(settings.login_rate_limit_per_account)

    async def login(
        self, email: str, password: str, requested: list[str], client_ip: str
    ) -> IssuedTokens:
        """Tokens for a user's email and password, with the requested scopes their role allows.

        Unknown email, wrong password and deactivated user fail alike, after the same work.
        The account's limit counts only these failures: an attempt the service could not
        answer (its database down: 503) costs the account nothing.
        """
        if unknown := sorted(set(requested) - {scope.value for scope in Scope}):
            raise BadRequestError(f"Unknown scope: {' '.join(unknown)}.")
        await self._limit("login_ip", self.ip_limit, client_ip)
        account = _account_key(email)
        await self._limit_failures("login_account", self.account_limit, account)
        async with unit_of_work(self.sessions) as session:
            user = await UserRepository(session).get_by_email(email)
            valid, new_hash = await self.passwords.verify(
                password, user.password_hash if user else None
            )
            if user is None or not valid or not user.is_active:
                reason = "unknown_user" if user is None else "inactive" if valid else "password"
                security_log.warning(
                    "login_failed", email=email, client_ip=client_ip, reason=reason
                )
                await self.limiter.count(self.account_limit, "login_account", account)
                raise unauthorized(INVALID_CREDENTIALS)
            if new_hash is not None:
                user.password_hash = new_hash
                security_log.info("password_rehashed", user_id=str(user.id))
            scopes = granted_scopes(user.role, requested or [scope.value for scope in Scope])
            issued = await self.start_login(session, user, scopes)
        security_log.info("login_succeeded", user_id=str(user.id), client_ip=client_ip)
        return issued

    async def refresh(self, refresh_token: str, client_ip: str) -> IssuedTokens:
        """New tokens for the newest refresh token of a live login; the old one is spent."""
        await self._limit("refresh_ip", self.ip_limit, client_ip)
        claims = self._decode_refresh(refresh_token, client_ip)
        replacement = uuid4()
        async with unit_of_work(self.sessions) as session:
            logins = LoginSessionRepository(session)
            rotated = await logins.rotate(claims.sid, current=claims.jti, replacement=replacement)
            login = await logins.get(claims.sid) if rotated else None
            if login is not None and login.user.is_active:
                scopes = granted_scopes(login.user.role, claims.scopes)
                return self._issue(login, scopes, refresh_jti=replacement)
            # Not the newest refresh token of a live login, yet validly signed: it was used
            # before, so someone holds a copy. End the login, for both holders.
            reused = not rotated and await logins.revoke(
                LoginSession.id == claims.sid, LoginSession.user_id == claims.sub, at=utc_now()
            )
        if reused:
            security_log.warning(
                "refresh_token_reused",
                user_id=str(claims.sub),
                session_id=str(claims.sid),
                client_ip=client_ip,
            )
        else:
            reason = "inactive" if rotated else "login_ended"
            security_log.warning("token_rejected", reason=reason, client_ip=client_ip)
        raise unauthorized(INVALID_TOKEN)

    async def logout(self, refresh_token: str, client_ip: str) -> None:
        """End the login the refresh token belongs to, with every token of it."""
        claims = self._decode_refresh(refresh_token, client_ip)
        async with unit_of_work(self.sessions) as session:
            await LoginSessionRepository(session).revoke(
                LoginSession.id == claims.sid, LoginSession.user_id == claims.sub, at=utc_now()
            )
        security_log.info("logout", user_id=str(claims.sub), session_id=str(claims.sid))

    async def register(self, data: Registration, client_ip: str) -> User:
        await self._limit("register_ip", self.ip_limit, client_ip)
        async with unit_of_work(self.sessions) as session:
            audit = AuditTrail(session, actor="registration")
            users = UserService(session, audit, self.passwords)
            user = await users.create(
                UserCreate(email=data.email, name=data.name, password=data.password)
            )
        security_log.info("user_registered", user_id=str(user.id), client_ip=client_ip)
        return user

    async def change_password(self, principal: Principal, current: str, new: str) -> None:
        """Set a new password and end every login of the user: they log in again.

        The current password is checked like a login, with the account's rate limit: a
        stolen access token must not become a way to guess the password.
        """
        async with unit_of_work(self.sessions) as session:
            user = await UserRepository(session).get(principal.user_id)
            if user is None:
                raise unauthorized(INVALID_TOKEN)
            account = _account_key(user.email)
            await self._limit_failures("login_account", self.account_limit, account)
            valid, _ = await self.passwords.verify(current, user.password_hash)
            if not valid:
                security_log.warning("password_change_failed", user_id=str(user.id))
                await self.limiter.count(self.account_limit, "login_account", account)
                raise ForbiddenError("The current password is incorrect.")
            user.password_hash = await self.passwords.hash(new)
            await LoginSessionRepository(session).revoke(
                LoginSession.user_id == user.id, at=utc_now()
            )
        security_log.info("password_changed", user_id=str(principal.user_id))

    async def _limit(self, name: str, limit: RateLimitItem, key: str) -> None:
        """Count this attempt against ``limit``; 429 once it is spent."""
        try:
            await self.limiter.hit(limit, name, key)
        except RateLimitedError:
            security_log.warning("auth_rate_limited", limit=name, rule=str(limit), key=key)
            raise

    async def _limit_failures(self, name: str, limit: RateLimitItem, key: str) -> None:
        """429 once ``limit`` failures were counted (``limiter.count``); counts nothing."""
        try:
            await self.limiter.check(limit, name, key)
        except RateLimitedError:
            security_log.warning("auth_rate_limited", limit=name, rule=str(limit), key=key)
            raise

    def _decode_refresh(self, token: str, client_ip: str) -> TokenPayload:
        try:
            return self.tokens.decode(token, TokenType.REFRESH)
        except InvalidTokenError as exc:
            security_log.warning("token_rejected", reason=str(exc), client_ip=client_ip)
            raise unauthorized(INVALID_TOKEN) from exc

    async def start_login(
        self, session: AsyncSession, user: User, scopes: frozenset[Scope]
    ) -> IssuedTokens:
        """A new login of ``user``: its row, and its first access and refresh tokens.

        Every way in ends here (a password, a provider's sign-in), so tokens are alike.
        """
        login = LoginSession(
            user=user, refresh_jti=uuid4(), expires_at=utc_now() + self.refresh_lifetime
        )
        await LoginSessionRepository(session).create(login)
        return self._issue(login, scopes, refresh_jti=login.refresh_jti)

    def _issue(
        self, login: LoginSession, scopes: frozenset[Scope], *, refresh_jti: UUID
    ) -> IssuedTokens:
        names = sorted(scope.value for scope in scopes)
        request_id = correlation_id.get()
        access = self.tokens.issue(
            TokenType.ACCESS,
            user_id=login.user_id,
            session_id=login.id,
            scopes=names,
            lifetime=self.access_lifetime,
            request_id=request_id,
        )
        refresh = self.tokens.issue(
            TokenType.REFRESH,
            user_id=login.user_id,
            session_id=login.id,
            scopes=names,
            lifetime=login.expires_at - utc_now(),
            jti=refresh_jti,
            request_id=request_id,
        )
        return IssuedTokens(
            access_token=access,
            refresh_token=refresh,
            expires_in=int(self.access_lifetime.total_seconds()),
            scopes=names,
        )


async def principal_from_token(
    sessions: async_sessionmaker[AsyncSession], tokens: TokenCodec, token: str
) -> Principal:
    """The caller an access token stands for, if its login is live and its user active.

    The login is read in a transaction of its own: the route's starts afterwards, so a
    long route (an LLM completion) holds no database connection for authentication.
    """
    try:
        claims = tokens.decode(token, TokenType.ACCESS)
    except InvalidTokenError as exc:
        security_log.warning("token_rejected", reason=str(exc))
        raise unauthorized(INVALID_TOKEN) from exc
    async with unit_of_work(sessions) as session:
        login = await LoginSessionRepository(session).get(claims.sid)
    if (
        login is None
        or login.revoked_at is not None
        or login.expires_at <= utc_now()
        or login.user_id != claims.sub
    ):
        security_log.warning("token_rejected", reason="login_ended", user_id=str(claims.sub))
        raise unauthorized(INVALID_TOKEN)
    if not login.user.is_active:
        security_log.warning("token_rejected", reason="inactive", user_id=str(claims.sub))
        raise unauthorized(INVALID_TOKEN)
    return Principal.of(
        login.user.id,
        login.user.role,
        requested=claims.scopes,
        credential=Credential.ACCESS_TOKEN,
        credential_id=str(login.id),
    )
