{% set jwt = cookiecutter.auth in ["jwt", "jwt_and_api_key"] %}
"""User management: the example of the full path, route -> service -> repository -> table."""

from uuid import UUID

{% if cookiecutter.auth != "none" %}
import structlog
{% endif %}
from sqlalchemy.ext.asyncio import AsyncSession

from {{ cookiecutter.package_name }}.core.errors import ConflictError, NotFoundError
{% if jwt %}
from {{ cookiecutter.package_name }}.core.passwords import PasswordHasher
{% endif %}
from {{ cookiecutter.package_name }}.database.models import User, normalize_email
from {{ cookiecutter.package_name }}.database.repository import UserRepository
{% if cookiecutter.auth != "none" %}
from {{ cookiecutter.package_name }}.models.requests import (
    ProfileUpdate,
    UserCreate,
    UserQuery,
    UserUpdate,
)
{% else %}
from {{ cookiecutter.package_name }}.models.requests import UserCreate, UserQuery, UserUpdate
{% endif %}
from {{ cookiecutter.package_name }}.services.audit_trail import AuditTrail, snapshot
{% if cookiecutter.auth != "none" %}

security_log = structlog.get_logger("security")
{% endif %}


class UserService:
{% if jwt %}
    def __init__(self, session: AsyncSession, audit: AuditTrail, passwords: PasswordHasher) -> None:
        self.users = UserRepository(session)
        self.audit = audit
        self.passwords = passwords
{% else %}
    def __init__(self, session: AsyncSession, audit: AuditTrail) -> None:
        self.users = UserRepository(session)
        self.audit = audit
{% endif %}

    async def create(self, data: UserCreate) -> User:
        await self._ensure_email_is_free(data.email)
{% if jwt %}
        user = User(email=data.email, name=data.name, role=data.role)
        if data.password is not None:
            user.password_hash = await self.passwords.hash(data.password.get_secret_value())
        await self.users.create(user)
{% else %}
        user = await self.users.create(User(email=data.email, name=data.name, role=data.role))
{% endif %}
        await self.audit.created(user)
        return user

    async def get(self, user_id: UUID) -> User:
        if (user := await self.users.get(user_id)) is None:
            raise NotFoundError(f"No user with ID {user_id}.")
        return user

    async def get_page(self, query: UserQuery) -> tuple[list[User], int]:
        filters = self.users.filters(role=query.role, is_active=query.is_active)
        users = await self.users.get_many(*filters, limit=query.limit, offset=query.offset)
        return users, await self.users.count(*filters)

{% if cookiecutter.auth != "none" %}
    async def update(self, user_id: UUID, data: UserUpdate | ProfileUpdate) -> User:
{% else %}
    async def update(self, user_id: UUID, data: UserUpdate) -> User:
{% endif %}
        user = await self.get(user_id)
        changes = data.changes()
        if "email" in changes and normalize_email(changes["email"]) != user.email:
            await self._ensure_email_is_free(changes["email"])
        before = snapshot(user)
        await self.users.update(user, changes)
        await self.audit.updated(user, before)
{% if cookiecutter.auth != "none" %}
        if user.role != before["role"]:
            security_log.info(
                "role_changed",
                user_id=str(user.id),
                old=before["role"],
                new=user.role.value,
                by=self.audit.actor,
            )
        if user.is_active != before["is_active"]:
            event = "user_activated" if user.is_active else "user_deactivated"
            security_log.info(event, user_id=str(user.id), by=self.audit.actor)
{% endif %}
        return user

    async def delete(self, user_id: UUID) -> None:
        """Delete the user; the database deletes their notes with them."""
        user = await self.get(user_id)
        await self.audit.deleted(user)
        await self.users.delete(user)

    async def _ensure_email_is_free(self, email: str) -> None:
        # The unique constraint is the real guard (a concurrent request may take
        # the email after this check; that violation is a 409 too). Checking
        # first gives the common case a clear message.
        if await self.users.exists(User.email == normalize_email(email)):
            raise ConflictError(f"A user with the email {email} already exists.")
