{% if cookiecutter.auth != "none" %}
"""Notes: a small resource owned by a user, deleted with its owner.

Ownership is checked here: a user reaches only their own notes, an admin everyone's. A
note of someone else is "not found" (404), so that its existence is not revealed.
"""
{% else %}
"""Notes: a small resource owned by a user, deleted with its owner."""
{% endif %}

from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

{% if cookiecutter.auth != "none" %}
from {{ cookiecutter.package_name }}.core.authorization import Principal
from {{ cookiecutter.package_name }}.core.errors import ForbiddenError, NotFoundError
{% else %}
from {{ cookiecutter.package_name }}.core.errors import NotFoundError
{% endif %}
from {{ cookiecutter.package_name }}.database.direct_reads import DirectReads
from {{ cookiecutter.package_name }}.database.models import Note
from {{ cookiecutter.package_name }}.database.repository import (
    NoteRepository,
    NoteView,
    NoteViews,
    UserRepository,
)
from {{ cookiecutter.package_name }}.models.requests import NoteCreate, NoteQuery, NoteUpdate
from {{ cookiecutter.package_name }}.services.audit_trail import AuditTrail, snapshot


class NoteReader:
    """Reads of notes that need no transaction."""

{% if cookiecutter.auth != "none" %}
    def __init__(self, reads: DirectReads, principal: Principal) -> None:
        self.notes = NoteViews(reads)
        self.principal = principal

    async def get(self, note_id: UUID) -> NoteView:
        note = await self.notes.get(note_id)
        if note is None or not self.principal.can_access(note.owner_id):
            raise NotFoundError(f"No note with ID {note_id}.")
        return note
{% else %}
    def __init__(self, reads: DirectReads) -> None:
        self.notes = NoteViews(reads)

    async def get(self, note_id: UUID) -> NoteView:
        if (note := await self.notes.get(note_id)) is None:
            raise NotFoundError(f"No note with ID {note_id}.")
        return note
{% endif %}


class NoteService:
{% if cookiecutter.auth != "none" %}
    def __init__(self, session: AsyncSession, audit: AuditTrail, principal: Principal) -> None:
{% else %}
    def __init__(self, session: AsyncSession, audit: AuditTrail) -> None:
{% endif %}
        self.notes = NoteRepository(session)
        self.users = UserRepository(session)
        self.audit = audit
{% if cookiecutter.auth != "none" %}
        self.principal = principal
{% endif %}

    async def create(self, data: NoteCreate) -> Note:
{% if cookiecutter.auth != "none" %}
        owner_id = data.owner_id or self.principal.user_id
        if not self.principal.can_access(owner_id):
            raise ForbiddenError("Only admins create notes for other users.")
        if (owner := await self.users.get(owner_id)) is None:
            raise NotFoundError(f"No user with ID {owner_id}.")
{% else %}
        if (owner := await self.users.get(data.owner_id)) is None:
            raise NotFoundError(f"No user with ID {data.owner_id}.")
{% endif %}
        note = await self.notes.create(Note(owner=owner, title=data.title, body=data.body))
        await self.audit.created(note)
        return note

    async def get(self, note_id: UUID) -> Note:
{% if cookiecutter.auth != "none" %}
        note = await self.notes.get(note_id)
        if note is None or not self.principal.can_access(note.owner_id):
{% else %}
        if (note := await self.notes.get(note_id)) is None:
{% endif %}
            raise NotFoundError(f"No note with ID {note_id}.")
        return note

    async def get_page(self, query: NoteQuery) -> tuple[list[Note], int]:
        filters = self.notes.filters(owner_id=query.owner_id, text=query.text)
{% if cookiecutter.auth != "none" %}
        if not self.principal.is_admin:
            filters += self.notes.filters(owner_id=self.principal.user_id)
{% endif %}
        notes = await self.notes.get_many(*filters, limit=query.limit, offset=query.offset)
        return notes, await self.notes.count(*filters)

    async def update(self, note_id: UUID, data: NoteUpdate) -> Note:
        note = await self.get(note_id)
        before = snapshot(note)
        await self.notes.update(note, data.changes())
        await self.audit.updated(note, before)
        return note

    async def delete(self, note_id: UUID) -> None:
        note = await self.get(note_id)
        await self.audit.deleted(note)
        await self.notes.delete(note)
