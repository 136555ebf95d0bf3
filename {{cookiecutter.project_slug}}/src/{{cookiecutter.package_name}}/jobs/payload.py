"""The bound on what one job may carry, whichever queue runs it."""

import json
from typing import Any

from {{ cookiecutter.package_name }}.core.errors import PayloadTooLargeError


def check_payload(args: tuple[object, ...], kwargs: dict[str, Any], max_bytes: int | None) -> None:
    """413 when a job's arguments, as JSON, take more than ``max_bytes``."""
    if max_bytes is None:
        return
    size = len(json.dumps([args, kwargs], default=str).encode())
    if size > max_bytes:
        msg = f"The job's input takes {size} bytes; at most {max_bytes} are accepted."
        raise PayloadTooLargeError(msg)
