"""Rate limits and daily budgets of the LLM endpoints, on the shared rate limiter.

Requests and tokens per minute are counted before a call, per caller and for
everyone together; tokens as the prompt's estimate (a conversation's earlier
turns included) plus ``max_tokens``, the most the call can use (the providers
count them the same way). The daily budgets are charged afterwards with the
usage the provider reported (as a ``UsageRecorder``) and refuse new calls once
spent: every call that reached a provider is charged, a call that broke off with
what it used until then. A setting of 0 turns its limit off.
"""

import math
from collections.abc import Sequence

from limits import RateLimitItem, RateLimitItemPerDay, RateLimitItemPerMinute

from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.core.rate_limit import RateLimiter
from {{ cookiecutter.package_name }}.models.llm import LLMRequest
from {{ cookiecutter.package_name }}.services.llm.providers.base import ToolStep, Turn
from {{ cookiecutter.package_name }}.services.llm.usage import LLMCallRecord

EVERYONE = "*"
MICRODOLLARS = 1_000_000
CHARS_PER_TOKEN = 4


def tokens_in(text: str) -> int:
    """A guess of the tokens of ``text``: no provider offers a local tokenizer."""
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def estimate_prompt_tokens(request: LLMRequest) -> int:
    """A guess of the tokens of the prompt (the system prompt and the conversation)."""
    return tokens_in((request.system or "") + "".join(m.content for m in request.conversation))


def estimate_turn_tokens(turns: Sequence[Turn]) -> int:
    """A guess of the tokens of earlier turns: their text, tool calls and tool outcomes."""
    return sum(tokens_in(_text_of(turn)) for turn in turns)


def _text_of(turn: Turn) -> str:
    if isinstance(turn, ToolStep):
        calls = "".join(call.name + call.arguments for call in turn.calls)
        return turn.text + calls + "".join(outcome.content for outcome in turn.outcomes)
    return turn.content


def _per_minute(amount: int) -> RateLimitItem | None:
    return RateLimitItemPerMinute(amount) if amount else None


class LLMQuota:
    def __init__(self, limiter: RateLimiter, settings: Settings) -> None:
        self._limiter = limiter
        self._requests = _per_minute(settings.llm_requests_per_minute)
        self._all_requests = _per_minute(settings.llm_global_requests_per_minute)
        self._tokens = _per_minute(settings.llm_tokens_per_minute)
        self._all_tokens = _per_minute(settings.llm_global_tokens_per_minute)
        token_budget = settings.llm_daily_token_budget
        cost_budget = math.ceil(settings.llm_daily_cost_budget * MICRODOLLARS)
        self._token_budget = RateLimitItemPerDay(token_budget) if token_budget else None
        self._cost_budget = RateLimitItemPerDay(cost_budget) if cost_budget else None

    async def admit(self, caller: str) -> None:
        """Count one request; 429 past the per-minute request limits."""
        if self._requests:
            await self._limiter.hit(self._requests, "llm-requests", caller)
        if self._all_requests:
            await self._limiter.hit(self._all_requests, "llm-requests", EVERYONE)

    async def reserve(self, caller: str, tokens: int) -> None:
        """Before a provider call: 429 when a budget is spent or the tokens would exceed."""
        if self._token_budget:
            await self._limiter.ensure_budget(self._token_budget, "llm-tokens-daily", caller)
        if self._cost_budget:
            await self._limiter.ensure_budget(self._cost_budget, "llm-cost-daily", caller)
        if self._tokens:
            await self._limiter.hit(self._tokens, "llm-tokens", caller, cost=tokens)
        if self._all_tokens:
            await self._limiter.hit(self._all_tokens, "llm-tokens", EVERYONE, cost=tokens)

    async def record(self, call: LLMCallRecord) -> None:
        """Charge the budgets with what the call used."""
        if self._token_budget and call.usage.total_tokens:
            await self._limiter.charge(
                self._token_budget, "llm-tokens-daily", call.caller, cost=call.usage.total_tokens
            )
        if self._cost_budget and call.cost:
            await self._limiter.charge(
                self._cost_budget,
                "llm-cost-daily",
                call.caller,
                cost=math.ceil(call.cost * MICRODOLLARS),
            )
