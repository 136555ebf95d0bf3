"""Password hashing: Argon2id through pwdlib, off the event loop.

A hash costs tens of milliseconds of CPU on purpose (``PASSWORD_HASH_*`` tune it), so
it runs in a worker thread. A hash made with other parameters than the current ones
is replaced at the owner's next successful login.
"""

import asyncio
import secrets
from typing import Self

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from {{ cookiecutter.package_name }}.core.config import Settings


class PasswordHasher:
    def __init__(self, *, time_cost: int, memory_kib: int) -> None:
        self._hash = PasswordHash((Argon2Hasher(time_cost=time_cost, memory_cost=memory_kib),))
        # Checked when there is no hash to check (unknown user): the same work, the same answer.
        self._stand_in = self._hash.hash(secrets.token_urlsafe(32))

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        """Blocks while it hashes once: call it in a thread."""
        return cls(
            time_cost=settings.password_hash_time_cost,
            memory_kib=settings.password_hash_memory_kib,
        )

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hash.hash, password)

    async def verify(self, password: str, password_hash: str | None) -> tuple[bool, str | None]:
        """Whether ``password`` matches, and the new hash to store if the parameters changed.

        Without a hash (an unknown user, or one without a password) it still hashes, so
        that the answer takes as long as for a wrong password.
        """
        valid, new_hash = await asyncio.to_thread(
            self._hash.verify_and_update, password, password_hash or self._stand_in
        )
        if password_hash is None:
            return False, None
        return valid, new_hash
