"""Error tracking with Sentry: each unhandled error, with its request ID and without secrets.

Off until ``SENTRY_DSN`` is set. An event carries the environment, the release (the
package's version) and the ID of the request it happened in, as the ``request_id`` tag:
the way from an error in Sentry to its log lines. What leaves the service is held to
the rules of the logs: every event goes through the logs' redaction (``core/logging.py``)
before it is sent, stack frames carry no local variables, and no user, cookie{{ " or prompt" if cookiecutter.llm != "none" }} is
collected.

The SDK is process-wide: the app starts it (``create_app``) and its lifespan sends what
is still queued when the service stops.
"""

import asyncio
from typing import cast

import sentry_sdk
from asgi_correlation_id import correlation_id
from sentry_sdk.types import Event, Hint

from {{ cookiecutter.package_name }} import __version__
from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.core.logging import Redactor

# Seconds to send the events still queued; a stopping service waits no longer.
FLUSH_TIMEOUT = 2.0


class EventScrubber:
    """``before_send``: tags an event with its request ID, then redacts it as a log line."""

    __slots__ = ("_redactor",)

    def __init__(self, max_chars: int) -> None:
        self._redactor = Redactor(max_chars)

    def __call__(self, event: Event, _: Hint) -> Event:
        if (request_id := correlation_id.get()) is not None:
            event.setdefault("tags", {})["request_id"] = request_id
        return cast(Event, self._redactor(None, "error_tracking", dict(event)))


def start_error_tracking(settings: Settings) -> None:
    """Start the SDK when ``SENTRY_DSN`` is set."""
    if not settings.sentry_dsn:
        return
{% if cookiecutter.llm != "none" %}
    # Request bodies hold prompts: sent only when the logs may hold them too.
    content = settings.llm_log_content
{% endif %}
    sentry_sdk.init(
        dsn=settings.sentry_dsn.get_secret_value(),
        environment=settings.environment.value,
        release=__version__,
        traces_sample_rate=settings.sentry_traces_sample_rate,
        before_send=EventScrubber(settings.log_max_value_chars),
        data_collection={
            "user_info": False,
            "cookies": {"mode": "off"},
{% if cookiecutter.llm != "none" %}
            "http_bodies": ["incoming_request"] if content else [],
            "gen_ai": {"inputs": content, "outputs": content},
{% else %}
            "http_bodies": ["incoming_request"],
{% endif %}
            "stack_frame_variables": False,
            # Query parameters and job arguments hold what the logs never show either.
            "database_query_data": False,
            "queues": False,
        },
    )


async def flush_error_tracking() -> None:
    """Send the events still queued (the SDK blocks while it does: in a thread)."""
    await asyncio.to_thread(sentry_sdk.flush, FLUSH_TIMEOUT)
