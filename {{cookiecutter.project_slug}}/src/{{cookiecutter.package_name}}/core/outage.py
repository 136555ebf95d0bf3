"""Outages of a shared store (the rate limit counters, a cache): noticed once, logged once.

A store that fails, or does not answer within its timeout, is left alone for
``retry_after`` seconds: the requests meanwhile take their fallback at once
instead of each waiting for the timeout again. One line is logged when an
outage starts (``<store>_unavailable``) and one when the store answers again
(``<store>_recovered``), however many requests it touched.
"""

import time

import structlog

logger = structlog.get_logger(__name__)

RETRY_AFTER_SECONDS = 5.0


class Outage:
    def __init__(self, store: str, retry_after: float = RETRY_AFTER_SECONDS) -> None:
        self._store = store
        self._retry_after = retry_after
        self._down = False
        self._retry_at = 0.0

    @property
    def ongoing(self) -> bool:
        """True while the store failed less than ``retry_after`` seconds ago: do not try it."""
        return self._down and time.monotonic() < self._retry_at

    def failed(self, error: BaseException) -> None:
        """The store failed: log it if that starts an outage, and wait before the next try."""
        if not self._down:
            logger.warning(
                f"{self._store}_unavailable",
                error=repr(error),
                retry_after_s=self._retry_after,
            )
        self._down = True
        self._retry_at = time.monotonic() + self._retry_after

    def answered(self) -> None:
        """The store answered: log it if that ends an outage."""
        if self._down:
            self._down = False
            logger.info(f"{self._store}_recovered")
