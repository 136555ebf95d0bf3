"""Every LLM call stored in the database, and the usage totals read back from it."""

import asyncio
import contextlib
from collections.abc import Sequence
from types import TracebackType
from typing import Self

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from {{ cookiecutter.package_name }}.core.clock import utc_now
from {{ cookiecutter.package_name }}.database.models import LLMCall
from {{ cookiecutter.package_name }}.database.repository import LLMCallRepository
from {{ cookiecutter.package_name }}.database.session import unit_of_work
from {{ cookiecutter.package_name }}.models.llm import (
    DailyUsage,
    TokenUsage,
    UsageQuery,
    UsageReport,
    UsageTotals,
)
from {{ cookiecutter.package_name }}.services.llm.usage import LLMCallRecord

logger = structlog.get_logger(__name__)

COST_DIGITS = 10
# A batch is written as soon as it has this many rows, whatever the time.
BATCH_ROWS = 200
# Past this many rows waiting (the database slower than the calls), a call waits for
# its batch to be written: rows are never dropped to keep up.
MAX_PENDING_ROWS = 10_000


def _row(call: LLMCallRecord) -> LLMCall:
    now = utc_now()
    return LLMCall(
        caller=call.caller,
        provider=call.provider,
        model=call.model,
        input_tokens=call.usage.input_tokens,
        output_tokens=call.usage.output_tokens,
        cache_read_tokens=call.usage.cache_read_tokens,
        cache_write_tokens=call.usage.cache_write_tokens,
        cost=call.cost,
        duration_ms=call.duration_ms,
        status=call.status,
        error_code=call.error_code,
        request_id=call.request_id,
        cached=call.cached,
        streamed=call.streamed,
        fallback_from=list(call.fallback_from),
        day=now.date(),
        created_at=now,
    )


class DatabaseUsageRecorder:
    """Writes one ``llm_requests`` row per call, in batches, off the request path.

    A call's row waits at most ``flush_seconds`` (``LLM_USAGE_FLUSH_SECONDS``; 0 writes
    each row at once, in the call), then goes with the others of that time in one
    transaction of its own: not in the request's unit of work, so a failed call, whose
    request rolls back, is stored all the same. The rows still waiting are written when
    the recorder closes (a graceful shutdown); a batch that fails is tried again with
    the next one. The budgets are counted elsewhere (``quota.py``), at once.
    """

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], *, flush_seconds: float = 0
    ) -> None:
        self._sessions = sessions
        self._flush_seconds = flush_seconds
        self._pending: list[LLMCall] = []
        self._full = asyncio.Event()
        self._writing = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    async def record(self, call: LLMCallRecord) -> None:
        if self._task is None:
            await self._write([_row(call)])
            return
        self._pending.append(_row(call))
        if len(self._pending) >= MAX_PENDING_ROWS:
            await self.flush()
        elif len(self._pending) >= BATCH_ROWS:
            self._full.set()

    async def flush(self) -> None:
        """Write the rows waiting now."""
        async with self._writing:
            rows, self._pending = self._pending, []
            if not rows:
                return
            try:
                await self._write(rows)
            except Exception:
                # Tried again with the next batch, the oldest first; as many as fit.
                self._pending[:0] = rows
                if (excess := len(self._pending) - MAX_PENDING_ROWS) > 0:
                    del self._pending[:excess]
                    logger.error("llm_usage_rows_lost", recorder=type(self).__name__, rows=excess)
                raise

    async def _write(self, rows: Sequence[LLMCall]) -> None:
        async with unit_of_work(self._sessions) as session:
            await LLMCallRepository(session).create_many(rows)

    async def _flush_regularly(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._full.wait(), self._flush_seconds)
            self._full.clear()
            try:
                await self.flush()
            except Exception:
                logger.exception(
                    "llm_usage_recorder_failed",
                    recorder=type(self).__name__,
                    rows=len(self._pending),
                )

    async def __aenter__(self) -> Self:
        if self._flush_seconds > 0:
            self._task = asyncio.create_task(self._flush_regularly())
        return self

    async def __aexit__(
        self,
        _type: type[BaseException] | None,
        _exc: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
        try:
            await self.flush()
        except Exception:
            logger.exception(
                "llm_usage_rows_lost", recorder=type(self).__name__, rows=len(self._pending)
            )


def _added_up(items: Sequence[UsageTotals]) -> UsageTotals:
    return UsageTotals(
        requests=sum(item.requests for item in items),
        errors=sum(item.errors for item in items),
        cache_hits=sum(item.cache_hits for item in items),
        usage=TokenUsage(
            input_tokens=sum(item.usage.input_tokens for item in items),
            output_tokens=sum(item.usage.output_tokens for item in items),
            cache_read_tokens=sum(item.usage.cache_read_tokens for item in items),
            cache_write_tokens=sum(item.usage.cache_write_tokens for item in items),
        ),
        cost=round(sum(item.cost for item in items), COST_DIGITS),
    )


class UsageReports:
    def __init__(self, session: AsyncSession) -> None:
        self.calls = LLMCallRepository(session)

    async def report(self, query: UsageQuery, caller: str | None) -> UsageReport:
        """Totals per day and model of ``caller``'s calls; of everyone's if ``caller`` is None."""
        start, end = query.period()
        filters = self.calls.filters(first=start, last=end, caller=caller)
        items = [
            DailyUsage(
                day=row["day"],
                model=row["model"],
                requests=row["requests"],
                errors=row["errors"],
                cache_hits=row["cache_hits"],
                usage=TokenUsage(
                    input_tokens=row["input_tokens"],
                    output_tokens=row["output_tokens"],
                    cache_read_tokens=row["cache_read_tokens"],
                    cache_write_tokens=row["cache_write_tokens"],
                ),
                cost=round(row["cost"], COST_DIGITS),
            )
            for row in await self.calls.totals_by_day_and_model(*filters)
        ]
        return UsageReport(caller=caller, start=start, end=end, items=items, total=_added_up(items))
