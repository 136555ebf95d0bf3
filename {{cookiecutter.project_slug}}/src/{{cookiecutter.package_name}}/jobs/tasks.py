"""The jobs this service runs in the background.

A job is an ``async`` function that takes the job context, then its own
{% if cookiecutter.redis == "yes" %}
arguments. Arguments and results travel through Redis: keep them small and
plain (IDs, strings, numbers, dicts), and list each job in ``JOBS`` of
``jobs/worker.py``.
{% else %}
arguments. It runs after the response is sent; its result is only logged.
{% endif %}
"""

import math
from typing import Any, TypedDict

import structlog

logger = structlog.get_logger(__name__)

JobContext = dict[str, Any]
{% if cookiecutter.redis == "yes" %}
"""Passed to every job first: ``job_id``, ``job_try``, ``enqueue_time`` and ``redis``."""
{% else %}
"""Passed to every job first: ``job_id``."""
{% endif %}

# A rough average of common LLM tokenizers on English text.
CHARACTERS_PER_TOKEN = 4


class TextStats(TypedDict):
    characters: int
    words: int
    lines: int
    estimated_tokens: int


async def analyze_text(ctx: JobContext, text: str) -> TextStats:
    """Measure a document before it goes to a model (its size, its rough token count)."""
    stats = TextStats(
        characters=len(text),
        words=len(text.split()),
        lines=len(text.splitlines()),
        estimated_tokens=math.ceil(len(text) / CHARACTERS_PER_TOKEN),
    )
    logger.info("text_analyzed", job_id=ctx["job_id"], **stats)
    return stats
