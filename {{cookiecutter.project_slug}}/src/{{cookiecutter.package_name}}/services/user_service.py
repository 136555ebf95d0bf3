"""User management: the example of the full path, route -> service -> repository -> table."""

from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from {{ cookiecutter.package_name }}.core.errors import ConflictError, NotFoundError
from {{ cookiecutter.package_name }}.database.models import User, normalize_email
from {{ cookiecutter.package_name }}.database.repository import UserRepository
from {{ cookiecutter.package_name }}.models.requests import UserCreate, UserQuery, UserUpdate
from {{ cookiecutter.package_name }}.services.audit_service import AuditTrail, snapshot


class UserService:
    def __init__(self, session: AsyncSession, audit: AuditTrail) -> None:
        self.users = UserRepository(session)
        self.audit = audit

    async def create(self, data: UserCreate) -> User:
        await self._ensure_email_is_free(data.email)
        user = await self.users.create(User(email=data.email, name=data.name, role=data.role))
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

    async def update(self, user_id: UUID, data: UserUpdate) -> User:
        user = await self.get(user_id)
        changes = data.changes()
        if "email" in changes and normalize_email(changes["email"]) != user.email:
            await self._ensure_email_is_free(changes["email"])
        before = snapshot(user)
        await self.users.update(user, changes)
        await self.audit.updated(user, before)
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
