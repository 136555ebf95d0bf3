"""API keys: created with chosen scopes and an optional expiry, listed, revoked, checked.

A key is shown once, when it is created; the database holds only its hash and its
prefix. A caller can give a key only scopes that both they and the key's owner have,
so no key is ever more powerful than the person who made it.
"""

from datetime import datetime, timedelta
from uuid import UUID

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from {{ cookiecutter.package_name }}.core.api_keys import (
    api_key_matches,
    api_key_prefix,
    generate_api_key,
)
from {{ cookiecutter.package_name }}.core.authorization import (
    ROLE_SCOPES,
    Credential,
    Principal,
    unauthorized,
)
from {{ cookiecutter.package_name }}.core.clock import utc_now
from {{ cookiecutter.package_name }}.core.errors import (
    BadRequestError,
    ForbiddenError,
    NotFoundError,
)
from {{ cookiecutter.package_name }}.database.models import ApiKey
from {{ cookiecutter.package_name }}.database.repository import ApiKeyRepository, UserRepository
from {{ cookiecutter.package_name }}.database.session import unit_of_work
from {{ cookiecutter.package_name }}.models.requests import ApiKeyCreate, ApiKeyQuery
from {{ cookiecutter.package_name }}.services.audit_trail import AuditTrail, snapshot

security_log = structlog.get_logger("security")

INVALID_API_KEY = "The API key is invalid, expired or revoked."
# last_used_at is written at most this often per key: not one write per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class ApiKeyService:
    def __init__(self, session: AsyncSession, audit: AuditTrail, principal: Principal) -> None:
        self.keys = ApiKeyRepository(session)
        self.users = UserRepository(session)
        self.audit = audit
        self.principal = principal

    async def create(self, data: ApiKeyCreate) -> tuple[ApiKey, str]:
        """The new key's record and the key itself, which is never available again."""
        owner_id = data.owner_id or self.principal.user_id
        if not self.principal.can_access(owner_id):
            raise ForbiddenError("Only admins create keys for other users.")
        if (owner := await self.users.get(owner_id)) is None:
            raise NotFoundError(f"No user with ID {owner_id}.")
        requested = frozenset(data.scopes)
        if beyond := sorted(requested - self.principal.scopes):
            raise ForbiddenError(f"You cannot grant scopes you do not have: {' '.join(beyond)}.")
        if beyond := sorted(requested - ROLE_SCOPES[owner.role]):
            raise BadRequestError(
                f"The role {owner.role} of the key's owner does not allow: {' '.join(beyond)}."
            )
        new = generate_api_key()
        api_key = await self.keys.create(
            ApiKey(
                owner=owner,
                name=data.name,
                prefix=new.prefix,
                key_hash=new.key_hash,
                scopes=sorted(scope.value for scope in requested),
                expires_at=data.expires_at,
            )
        )
        await self.audit.created(api_key)
        security_log.info(
            "api_key_created",
            key_prefix=api_key.prefix,
            owner_id=str(owner.id),
            scopes=api_key.scopes,
            by=self.audit.actor,
        )
        return api_key, new.key

    async def get_page(self, query: ApiKeyQuery) -> tuple[list[ApiKey], int]:
        filters = self.keys.filters(owner_id=query.owner_id)
        if not self.principal.is_admin:
            filters += self.keys.filters(owner_id=self.principal.user_id)
        keys = await self.keys.get_many(*filters, limit=query.limit, offset=query.offset)
        return keys, await self.keys.count(*filters)

    async def revoke(self, key_id: UUID) -> None:
        """Revoke the key at once; revoking a revoked key changes nothing."""
        api_key = await self.keys.get(key_id)
        if api_key is None or not self.principal.can_access(api_key.owner_id):
            raise NotFoundError(f"No API key with ID {key_id}.")
        if api_key.revoked_at is not None:
            return
        before = snapshot(api_key)
        await self.keys.update(api_key, {"revoked_at": utc_now()})
        await self.audit.updated(api_key, before)
        security_log.info("api_key_revoked", key_prefix=api_key.prefix, by=self.audit.actor)


def _rejection(api_key: ApiKey, key: str, now: datetime) -> str | None:
    """Why the key is refused, or None when it is good."""
    if not api_key_matches(key, api_key.key_hash):
        return "wrong_secret"
    if api_key.revoked_at is not None:
        return "revoked"
    if api_key.expires_at is not None and api_key.expires_at <= now:
        return "expired"
    if not api_key.owner.is_active:
        return "inactive"
    return None


async def principal_from_api_key(sessions: async_sessionmaker[AsyncSession], key: str) -> Principal:
    """The caller an API key stands for; records when the key was last used.

    In a transaction of its own, committed before the route runs: a long route (an
    LLM completion) holds no database connection for authentication.
    """
    if (prefix := api_key_prefix(key)) is None:
        security_log.warning("api_key_rejected", reason="malformed")
        raise unauthorized(INVALID_API_KEY)
    async with unit_of_work(sessions) as session:
        api_key = await ApiKeyRepository(session).get_by_prefix(prefix)
        now = utc_now()
        reason = "unknown" if api_key is None else _rejection(api_key, key, now)
        if api_key is None or reason is not None:
            security_log.warning("api_key_rejected", key_prefix=prefix, reason=reason)
            raise unauthorized(INVALID_API_KEY)
        if api_key.last_used_at is None or now - api_key.last_used_at >= LAST_USED_RESOLUTION:
            api_key.last_used_at = now
    return Principal.of(
        api_key.owner.id,
        api_key.owner.role,
        requested=api_key.scopes,
        credential=Credential.API_KEY,
        credential_id=prefix,
    )
