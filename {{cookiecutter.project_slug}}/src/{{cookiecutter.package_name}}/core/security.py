"""What keeps secrets and responses safe, whatever modules are enabled."""

import secrets

INSECURE_SECRET_KEY = "change-me"  # noqa: S105 - the placeholder production refuses
MIN_SECRET_KEY_LENGTH = 32

# Sent with every response by the request logging middleware (no extra layer).
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
)


def generate_secret_key() -> str:
    return secrets.token_urlsafe(48)


def secret_key_problem(secret_key: str) -> str | None:
    """Why ``secret_key`` is unfit for production, or None when it is fine."""
    if secret_key == INSECURE_SECRET_KEY:
        return "is still the insecure default"
    if len(secret_key) < MIN_SECRET_KEY_LENGTH:
        return f"is shorter than {MIN_SECRET_KEY_LENGTH} characters"
    return None
