"""The one clock of the service: timezone-aware UTC, whatever the database stores."""

from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)
