"""A conversation's history, cut to fit the model's context window.

The budget is the context window less the answer's ``max_tokens`` and a margin for
what counts miss (the framing of turns, tool definitions). A history whose text
cannot exceed it (a token is at least one byte) is sent whole, uncounted. Otherwise
the prompt is counted, by the provider where it offers a counting endpoint, else
estimated, and the oldest whole exchanges (a user's turn and the answer to it) are
dropped until it fits; the latest user turn, in the request, is never dropped. The
counts are few: after ``MAX_COUNTS``, the rest is cut on estimates alone.
"""

from collections.abc import Sequence

from {{ cookiecutter.package_name }}.core.errors import BadRequestError
from {{ cookiecutter.package_name }}.models.llm import LLMRequest, Message
from {{ cookiecutter.package_name }}.services.llm.providers.base import Turn
from {{ cookiecutter.package_name }}.services.llm.quota import (
    estimate_prompt_tokens,
    estimate_turn_tokens,
)
from {{ cookiecutter.package_name }}.services.llm.service import LLMService

MAX_COUNTS = 3
MARGIN_SHARE = 0.05
"""The part of the context window kept free for what the counts miss."""
MIN_MARGIN_TOKENS = 256
TURN_FRAMING_TOKENS = 16
"""An upper bound of the tokens that frame one turn (its role, separators)."""

Exchange = list[Turn]


def budget(context_window: int, max_tokens: int) -> int:
    """The tokens the prompt may use: the window less the answer and a margin."""
    margin = max(MIN_MARGIN_TOKENS, int(context_window * MARGIN_SHARE))
    return context_window - max_tokens - margin


def exchanges(history: Sequence[Turn]) -> list[Exchange]:
    """``history`` cut before each of the user's turns, oldest first."""
    cut: list[Exchange] = []
    for turn in history:
        if not cut or (isinstance(turn, Message) and turn.role == "user"):
            cut.append([])
        cut[-1].append(turn)
    return cut


def _upper_bound(request: LLMRequest, turns: Sequence[Turn]) -> int:
    """At most this many tokens: no token is shorter than one byte."""
    texts = [request.system or "", *(message.content for message in request.conversation)]
    framing = TURN_FRAMING_TOKENS * (len(turns) + len(request.conversation) + 1)
    return sum(len(text.encode()) for text in texts) + _bytes_of(turns) + framing


def _bytes_of(turns: Sequence[Turn]) -> int:
    total = 0
    for turn in turns:
        if isinstance(turn, Message):
            total += len(turn.content.encode())
        else:
            texts = [turn.text, *(call.arguments for call in turn.calls)]
            texts += [call.name for call in turn.calls]
            texts += [outcome.content for outcome in turn.outcomes]
            total += sum(len(text.encode()) for text in texts)
    return total


def _joined(kept: Sequence[Exchange]) -> list[Turn]:
    return [turn for exchange in kept for turn in exchange]


def _drop_oldest(kept: list[Exchange], excess: int) -> list[Exchange]:
    """Drop the oldest exchanges (at least one) whose estimated tokens cover ``excess``."""
    dropped = 0
    while kept and (dropped < excess or not dropped):
        dropped += max(1, estimate_turn_tokens(kept.pop(0)))
    return kept


async def fit_history(llm: LLMService, request: LLMRequest, history: Sequence[Turn]) -> list[Turn]:
    """The most recent part of ``history`` that fits with ``request`` in the context window.

    400 when the request alone does not fit.
    """
    limit = budget(llm.context_window(request), request.max_tokens)
    if _upper_bound(request, history) <= limit:
        return list(history)
    kept = exchanges(history)
    for _ in range(MAX_COUNTS):
        tokens = await llm.count_tokens(request, _joined(kept))
        if tokens <= limit:
            return _joined(kept)
        if not kept:
            msg = "The message and max_tokens do not fit the model's context window."
            raise BadRequestError(msg)
        kept = _drop_oldest(kept, tokens - limit)
    prompt = estimate_prompt_tokens(request)
    while kept and prompt + estimate_turn_tokens(_joined(kept)) > limit:
        kept.pop(0)
    return _joined(kept)
