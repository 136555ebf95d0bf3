"""The unit of work: one session, one transaction, committed or rolled back whole.

Database failures leave it as API errors: a violated constraint becomes a 409
Conflict, an unreachable or failing database a 503, never a 500 with a driver
traceback. The web requests use it through ``get_session``; a script or a
background job can use it directly.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from sqlalchemy import event
from sqlalchemy.exc import (
    DBAPIError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from {{ cookiecutter.package_name }}.core.errors import ConflictError, ServiceUnavailableError

logger = structlog.get_logger(__name__)

UNAVAILABLE = "The database is unavailable; try again later."
CONFLICT = "The request conflicts with existing data."


WROTE = "wrote"


class TrackedSession(Session):
    """A session that notes when it writes, so that a unit of work that only read
    ends without a commit (closing it rolls back: one database round trip, not two).
    """


@event.listens_for(TrackedSession, "after_flush")
def _note_flush(session: Session, _: UOWTransaction) -> None:
    session.info[WROTE] = True


@event.listens_for(TrackedSession, "do_orm_execute")
def _note_statement(state: ORMExecuteState) -> None:
    if not state.is_select:
        state.session.info[WROTE] = True


def _may_have_written(session: Session) -> bool:
    if not isinstance(session, TrackedSession) or session.info.get(WROTE, False):
        return True
    return bool(session.new or session.dirty or session.deleted)


def _connection_lost(exc: SQLAlchemyError) -> bool:
    if isinstance(exc, OperationalError | InterfaceError | PoolTimeoutError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


@asynccontextmanager
async def unit_of_work(
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """Commit when the block succeeds (and wrote); on any error, closing the session rolls back."""
    async with sessions() as session:
        try:
            # Check a connection out now, so that an unreachable database is a
            # clean 503 before any work is done.
            await session.connection()
        except (SQLAlchemyError, OSError) as exc:
            logger.warning("database_unreachable", error=repr(exc))
            raise ServiceUnavailableError(UNAVAILABLE) from exc
        try:
            yield session
            if _may_have_written(session.sync_session):
                await session.commit()
        except IntegrityError as exc:
            raise ConflictError(CONFLICT) from exc
        except SQLAlchemyError as exc:
            if not _connection_lost(exc):
                raise
            logger.warning("database_failed", error=repr(exc))
            raise ServiceUnavailableError(UNAVAILABLE) from exc
