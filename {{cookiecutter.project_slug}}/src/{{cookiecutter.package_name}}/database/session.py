"""The unit of work: one session, one transaction, committed or rolled back whole.

Database failures leave it as API errors: a violated constraint becomes a 409
Conflict, an unreachable or failing database a 503, never a 500 with a driver
traceback. The web requests use it through ``get_session``; a script or a
background job can use it directly. A route that reads one row by key and needs
no transaction reads it with ``direct_reads.py`` instead.

The pool does not ping a connection each time it hands one out (a round trip per
request): a session's first statement that finds its connection dropped (the
database restarted, a proxy closed it) runs once more, on a fresh connection. Nothing
can have been written by then; a connection lost later in a unit of work is a 503.
"""

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

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
EXECUTED = "executed"


class TrackedSession(Session):
    """A session that notes when it writes, so that a unit of work that only read
    ends without a commit (closing it rolls back: one database round trip, not two),
    and that runs its first statement once more when the connection was dropped.
    """

    def execute(self, *args: Any, **kwargs: Any) -> Any:
        return self._once_more_if_dropped(partial(super().execute, *args, **kwargs))

    def scalar(self, *args: Any, **kwargs: Any) -> Any:
        return self._once_more_if_dropped(partial(super().scalar, *args, **kwargs))

    def scalars(self, *args: Any, **kwargs: Any) -> Any:
        return self._once_more_if_dropped(partial(super().scalars, *args, **kwargs))

    def _once_more_if_dropped(self, run: Callable[[], Any]) -> Any:
        first = not self.info.get(EXECUTED, False)
        try:
            result = run()
        except DBAPIError as exc:
            if not (first and exc.connection_invalidated):
                raise
            logger.info("database_reconnecting", error=repr(exc))
            # The pool has dropped its older connections too; this checks out a new one.
            self.rollback()
            result = run()
        self.info[EXECUTED] = True
        return result


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
