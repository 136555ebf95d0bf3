"""What a readiness check is, and the disk space check that every service has.

A module that opens a resource defines its check beside it, as a ``HealthCheck``;
``services/health_service.py`` runs them all for ``/health/ready``.
"""

import asyncio
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path

HealthCheck = Callable[[], Awaitable[None]]
"""Returns when the dependency is usable; raises (any exception) when it is not."""


class CheckFailedError(Exception):
    """A check found its dependency unusable; the message is safe to show."""


def disk_space_check(path: Path, min_free_mb: int) -> HealthCheck:
    async def check() -> None:
        usage = await asyncio.to_thread(shutil.disk_usage, path)
        free_mb = usage.free // (1024 * 1024)
        if free_mb < min_free_mb:
            msg = f"{free_mb} MB free, below the {min_free_mb} MB minimum"
            raise CheckFailedError(msg)

    return check
