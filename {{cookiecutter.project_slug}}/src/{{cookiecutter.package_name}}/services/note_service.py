"""Notes: a small resource owned by a user, deleted with its owner."""

from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from {{ cookiecutter.package_name }}.core.errors import NotFoundError
from {{ cookiecutter.package_name }}.database.models import Note
from {{ cookiecutter.package_name }}.database.repository import NoteRepository, UserRepository
from {{ cookiecutter.package_name }}.models.requests import NoteCreate, NoteQuery, NoteUpdate
from {{ cookiecutter.package_name }}.services.audit_service import AuditTrail, snapshot


class NoteService:
    def __init__(self, session: AsyncSession, audit: AuditTrail) -> None:
        self.notes = NoteRepository(session)
        self.users = UserRepository(session)
        self.audit = audit

    async def create(self, data: NoteCreate) -> Note:
        if (owner := await self.users.get(data.owner_id)) is None:
            raise NotFoundError(f"No user with ID {data.owner_id}.")
        note = await self.notes.create(Note(owner=owner, title=data.title, body=data.body))
        await self.audit.created(note)
        return note

    async def get(self, note_id: UUID) -> Note:
        if (note := await self.notes.get(note_id)) is None:
            raise NotFoundError(f"No note with ID {note_id}.")
        return note

    async def get_page(self, query: NoteQuery) -> tuple[list[Note], int]:
        filters = self.notes.filters(owner_id=query.owner_id)
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
