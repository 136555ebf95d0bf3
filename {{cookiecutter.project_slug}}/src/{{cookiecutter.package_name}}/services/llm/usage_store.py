"""Every LLM call stored in the database, and the usage totals read back from it."""

from collections.abc import Sequence

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

COST_DIGITS = 10


class DatabaseUsageRecorder:
    """Writes one ``llm_requests`` row per call, in a transaction of its own.

    Not in the request's unit of work: a stream ends after its request's session
    closed, and a failed call, whose request rolls back, is stored all the same.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def record(self, call: LLMCallRecord) -> None:
        now = utc_now()
        row = LLMCall(
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
        async with unit_of_work(self._sessions) as session:
            await LLMCallRepository(session).create(row)


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
