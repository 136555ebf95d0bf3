"""Structured logging: JSON in production, readable console locally.

The application's own events go through structlog's native pipeline, which is
several times cheaper per line than the standard library's, rendered by orjson.
The access log, a line per request, has a path of its own (``AccessLog``): the same
fields and redaction, without the processor chain. Standard-library records (uvicorn,
SQLAlchemy) are rendered by the same processors, so every line has one shape
and carries the ID of the request it belongs to. One of those processors cuts long
values (``LOG_MAX_VALUE_CHARS``) and then redacts what must never reach a log:
credentials, passwords and email addresses. Tracebacks never show local variables.
"""

import json
import logging
import os
import re
import sys
import time
from functools import lru_cache
from typing import Any, TextIO

import orjson
import structlog
from asgi_correlation_id import correlation_id
{% if cookiecutter.observability == "yes" %}
from opentelemetry import trace
{% endif %}
from structlog.typing import EventDict, Processor, WrappedLogger

from {{ cookiecutter.package_name }}.core.config import Environment, Settings


def add_request_id(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    if (request_id := correlation_id.get()) is not None:
        event_dict.setdefault("request_id", request_id)
    return event_dict
{% if cookiecutter.observability == "yes" %}


def add_trace_ids(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """Link each line to its trace; nothing is added while tracing is off."""
    span_context = trace.get_current_span().get_span_context()
    if span_context.is_valid:
        event_dict["trace_id"] = trace.format_trace_id(span_context.trace_id)
        event_dict["span_id"] = trace.format_span_id(span_context.span_id)
    return event_dict
{% endif %}


REDACTED = "[redacted]"
# A traceback (written by the service, from its own frames) gets this many times the room
# of any other value.
TRACEBACK_ROOM = 8
# Values under these keys are secrets, whatever they look like.
SECRET_KEY_NAMES = re.compile(
    r"authorization|cookie|pass(word|wd|phrase)|secret|token|api[_-]?key|credential",
    re.IGNORECASE,
)
# The patterns below see text a request chose (a path, a username): each must take time
# linear in it. So no match may start inside a run a failed attempt already scanned (the
# lookbehinds), and no run is scanned twice (possessive quantifiers, which never give back).
#
# Secrets inside any text: an Authorization value, a JWT, an API key (its prefix is kept:
# it only identifies the key), an LLM provider's key.
SECRET_VALUES = re.compile(
    r"(?P<scheme>\b(?:Bearer|Basic)\s++)[\w.~+/-]++=*+"
    r"|(?<![\w-])eyJ[\w-]++\.[\w-]++\.[\w-]*+"
    r"|\b(?P<prefix>[a-z]{2,8}_[0-9a-f]{8,}+)\.[\w-]{16,}+"
    r"|(?<![\w-])sk-[\w-]{16,}+",
    re.IGNORECASE,
)
# The local part of an email address identifies a person; the domain is kept.
EMAIL_LOCAL_PART = re.compile(r"(?<![\w.%+-])[\w.%+-]++(?=@[\w-]++(?:\.[\w-]++)++)")
# What secrets and email addresses are made of, read backwards from where a value is cut.
_CUT_WORD = re.compile(r"[\w.%+=~@-]*+")


def _redact_match(match: re.Match[str]) -> str:
    if match["scheme"]:
        return match["scheme"] + REDACTED
    if match["prefix"]:
        return f"{match['prefix']}.{REDACTED}"
    return REDACTED


@lru_cache(maxsize=1024)
def _is_secret_key(key: str) -> bool:
    """Keys come from code, a small set: each is matched once, not once per line."""
    return SECRET_KEY_NAMES.search(key) is not None


def _cut(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, and to a word boundary.

    The word the cut splits goes too: half a token or an email address no longer
    matches the patterns, and must not be written either.
    """
    kept = text[:limit]
    if split := _CUT_WORD.match(kept[::-1]):
        kept = kept[: len(kept) - split.end()]
    return f"{kept}[{len(text) - len(kept)} more characters]"


def _redact_text(text: str, limit: int) -> str:
    if len(text) > limit:
        text = _cut(text, limit)
    if "." in text or "-" in text or " " in text:
        text = SECRET_VALUES.sub(_redact_match, text)
    if "@" in text:
        text = EMAIL_LOCAL_PART.sub(REDACTED, text)
    return text


def _redact(value: Any, limit: int) -> Any:
    if isinstance(value, int | float | bool | None):
        return value
    if isinstance(value, str):
        return _redact_text(value, limit)
    if isinstance(value, bytes | bytearray):
        return _redact_text(repr(value), limit)
    if isinstance(value, dict):
        return {key: _redact_item(key, item, limit) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_redact(item, limit) for item in value]
    return value


def _redact_item(key: object, value: Any, limit: int) -> Any:
    if isinstance(value, str | bytes) and _is_secret_key(str(key)[:limit]):
        return REDACTED
    return _redact(value, limit)


class Redactor:
    """A processor that keeps secrets and the cost of a line out of the logs.

    Every text is cut to ``max_chars`` characters (a traceback to ``TRACEBACK_ROOM``
    times as many) before any pattern looks at it, then credentials, passwords and
    email local parts are replaced.
    """

    __slots__ = ("max_chars", "max_traceback_chars")

    def __init__(self, max_chars: int) -> None:
        self.max_chars = max_chars
        self.max_traceback_chars = max_chars * TRACEBACK_ROOM

    def __call__(self, _: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
        limit = self.max_chars
        return {
            key: _redact_item(key, value, self.max_traceback_chars if key == "exception" else limit)
            for key, value in event_dict.items()
        }


def _json_bytes(event_dict: EventDict) -> bytes:
    """JSON by orjson; by the standard library for what orjson refuses (ints over 64 bits)."""
    try:
        return orjson.dumps(event_dict, default=repr, option=orjson.OPT_NON_STR_KEYS)
    except TypeError:
        return json.dumps(event_dict, default=repr).encode()


def _dumps(event_dict: EventDict, **_: Any) -> str:
    return _json_bytes(event_dict).decode()


class Timestamper:
    """Adds the time, in UTC ISO 8601, as structlog's ``TimeStamper(fmt="iso", utc=True)``,
    formatting the date and time once per second rather than on every line."""

    __slots__ = ("_prefix", "_second")

    def __init__(self) -> None:
        self._second = -1
        self._prefix = ""

    def now(self) -> str:
        now = time.time()
        second = int(now)
        if second != self._second:
            self._prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._second = second
        if micros := int((now - second) * 1_000_000):
            return f"{self._prefix}.{micros:06d}Z"
        return f"{self._prefix}Z"

    def __call__(self, _: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
        event_dict["timestamp"] = self.now()
        return event_dict


class _Stdout:
    """Writes whole lines to the current ``sys.stdout``: with one system call when it is
    a file, else (as when a test captures it) through its own ``write``."""

    __slots__ = ("_fd", "_stream")

    def __init__(self) -> None:
        self._stream: TextIO | None = None
        self._fd = -1

    def write(self, line: bytes) -> None:
        stream = sys.stdout
        if stream is not self._stream:
            self._stream = stream
            try:
                stream.flush()
                self._fd = stream.fileno()
            except (AttributeError, OSError, ValueError):
                self._fd = -1
        if self._fd < 0:
            stream.write(line.decode())
            stream.flush()
            return
        while line:
            line = line[os.write(self._fd, line) :]


class AccessLog:
    """Writes the access line of a request: what structlog would write for
    ``logger.info("request", method=..., path=..., status=..., duration_ms=...)``.

    In JSON it skips the processor chain: the line is built as a dict, with the text a
    request chose (its method and path) redacted, rendered by orjson and written with
    one system call. On the console (local development) it goes through structlog.
    """

    __slots__ = ("_enabled", "_json", "_limit", "_redactor", "_stdout", "_timestamper")

    def __init__(self, settings: Settings) -> None:
        self._enabled = logging.getLevelName(settings.log_level) <= logging.INFO
        self._json = settings.json_logs
        self._limit = settings.log_max_value_chars
        self._redactor = Redactor(settings.log_max_value_chars)
        self._timestamper = Timestamper()
        self._stdout = _Stdout()

    def __call__(self, method: str, path: str, status: int, seconds: float) -> None:
        if not self._enabled:
            return
        duration_ms = round(seconds * 1000, 2)
        if not self._json:
            access_logger.info(
                "request", method=method, path=path, status=status, duration_ms=duration_ms
            )
            return
        line: EventDict = structlog.contextvars.merge_contextvars(None, "", {})
        if line:
            line = self._redactor(None, "", line)
        line["event"] = "request"
        line["method"] = _redact_text(method, self._limit)
        line["path"] = _redact_text(path, self._limit)
        line["status"] = status
        line["duration_ms"] = duration_ms
        add_request_id(None, "", line)
{% if cookiecutter.observability == "yes" %}
        add_trace_ids(None, "", line)
{% endif %}
        line["level"] = "info"
        line["timestamp"] = self._timestamper.now()
        self._stdout.write(_json_bytes(line) + b"\n")


access_logger = structlog.get_logger("access")


def configure_logging(settings: Settings) -> None:
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        add_request_id,
{% if cookiecutter.observability == "yes" %}
        add_trace_ids,
{% endif %}
    ]
    renderer: Processor
    if settings.json_logs:
        renderer = structlog.processors.JSONRenderer(serializer=_dumps)
    else:
        # Never a traceback with local variables (Rich's, the default with Rich installed,
        # shows them: passwords, tokens, keys); nor one rendered after the redaction.
        renderer = structlog.dev.ConsoleRenderer(exception_formatter=structlog.dev.plain_traceback)
    # Tracebacks become plain text (no local variables) before the redaction, which then
    # sees their messages. The level and the time hold no secrets: they are added after
    # it, which then has two fields fewer to look at on every line.
    shared += [
        structlog.processors.format_exc_info,
        Redactor(settings.log_max_value_chars),
        structlog.processors.add_log_level,
        Timestamper(),
    ]

    structlog.configure(
        processors=[*shared, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(settings.log_level),
        # The stdout of the moment each logger is made (tests capture and replace it).
        logger_factory=structlog.WriteLoggerFactory(),
        cache_logger_on_first_use=settings.environment is not Environment.TEST,
    )

    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(settings.log_level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers = []
        uvicorn_logger.propagate = True
    # The edge middleware writes the access log, with the request ID.
    logging.getLogger("uvicorn.access").disabled = True
{% if cookiecutter.database != "none" %}
    # At DEBUG, aiosqlite logs every call with its parameters (hashes, emails): never that.
    logging.getLogger("aiosqlite").setLevel(logging.INFO)
{% endif %}
