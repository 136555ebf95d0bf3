"""The audit trail: who changed what, in which request, and the row before and after.

Entries are written in the transaction of the change they describe: a change
that is rolled back leaves no entry, and no committed change goes unrecorded.
"""

from typing import Any

from asgi_correlation_id import correlation_id
from pydantic_core import to_jsonable_python
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncSession

from {{ cookiecutter.package_name }}.core.domain import AuditAction
from {{ cookiecutter.package_name }}.database.models import AuditLogEntry, Entity
from {{ cookiecutter.package_name }}.database.repository import AuditLogRepository
from {{ cookiecutter.package_name }}.models.requests import AuditLogQuery

Snapshot = dict[str, Any]


def snapshot(entity: Entity) -> Snapshot:
    """The entity's columns as JSON values, less those excluded from auditing."""
    return {
        column.key: to_jsonable_python(getattr(entity, column.key))
        for column in inspect(entity).mapper.column_attrs
        if column.key not in entity.audit_exclude
    }


class AuditTrail:
    def __init__(self, session: AsyncSession, *, actor: str | None = None) -> None:
        self.entries = AuditLogRepository(session)
        self.actor = actor

    async def created(self, entity: Entity) -> None:
        await self._record(AuditAction.CREATE, entity, before=None, after=snapshot(entity))

    async def updated(self, entity: Entity, before: Snapshot) -> None:
        """Record the change from ``before``; an update that changed nothing is not recorded."""
        after = snapshot(entity)
        if after != before:
            await self._record(AuditAction.UPDATE, entity, before=before, after=after)

    async def deleted(self, entity: Entity) -> None:
        await self._record(AuditAction.DELETE, entity, before=snapshot(entity), after=None)

    async def get_page(self, query: AuditLogQuery) -> tuple[list[AuditLogEntry], int]:
        filters = self.entries.filters(
            entity_type=query.entity_type,
            entity_id=query.entity_id,
            request_id=query.request_id,
        )
        entries = await self.entries.get_many(*filters, limit=query.limit, offset=query.offset)
        return entries, await self.entries.count(*filters)

    async def _record(
        self,
        action: AuditAction,
        entity: Entity,
        *,
        before: Snapshot | None,
        after: Snapshot | None,
    ) -> None:
        entry = AuditLogEntry(
            actor=self.actor,
            action=action,
            entity_type=entity.__tablename__,
            entity_id=str(entity.id),
            before=before,
            after=after,
            request_id=correlation_id.get(),
        )
        await self.entries.create(entry)
