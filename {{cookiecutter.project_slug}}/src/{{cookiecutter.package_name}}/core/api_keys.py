"""API keys: random secrets, shown once, stored only as a hash.

A key reads ``ak_<16 hex digits>.<secret>``. The part before the dot is its prefix,
stored in clear to find the key and shown in lists so that owners can tell their keys
apart; the secret is 256 random bits. A secret that cannot be guessed needs no slow
hash (passwords need one because people choose guessable ones): SHA-256 it is,
compared in constant time.
"""

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

KEY_PATTERN = re.compile(r"(?P<prefix>ak_[0-9a-f]{16})\.[A-Za-z0-9_-]{43}")


@dataclass(frozen=True, slots=True)
class NewApiKey:
    key: str
    prefix: str
    key_hash: str


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def generate_api_key() -> NewApiKey:
    prefix = f"ak_{secrets.token_hex(8)}"
    key = f"{prefix}.{secrets.token_urlsafe(32)}"
    return NewApiKey(key=key, prefix=prefix, key_hash=hash_api_key(key))


def api_key_prefix(key: str) -> str | None:
    """The key's prefix, or None when ``key`` is not shaped like a key at all."""
    match = KEY_PATTERN.fullmatch(key)
    return match["prefix"] if match else None


def api_key_matches(key: str, key_hash: str) -> bool:
    return hmac.compare_digest(hash_api_key(key), key_hash)
