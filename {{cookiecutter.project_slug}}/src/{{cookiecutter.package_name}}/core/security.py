{% set jwt = cookiecutter.auth in ["jwt", "jwt_and_api_key"] %}
{% if jwt %}
"""The security headers of every response, and what makes ``SECRET_KEY`` fit for production.

The headers are sent by the edge middleware (``core/middleware.py``); the settings
refuse, in production, a ``SECRET_KEY`` that ``secret_key_problem`` finds unfit.
"""

import secrets

INSECURE_SECRET_KEY = "change-me"  # noqa: S105 - the placeholder production refuses
MIN_SECRET_KEY_LENGTH = 32
{% else %}
"""The security headers of every response, sent by the edge middleware (``core/middleware.py``)."""
{% endif %}

SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
)
{% if jwt %}


def generate_secret_key() -> str:
    return secrets.token_urlsafe(48)


def secret_key_problem(secret_key: str) -> str | None:
    """Why ``secret_key`` is unfit for production, or None when it is fine."""
    if secret_key == INSECURE_SECRET_KEY:
        return "is still the insecure default"
    if len(secret_key) < MIN_SECRET_KEY_LENGTH:
        return f"is shorter than {MIN_SECRET_KEY_LENGTH} characters"
    return None
{% endif %}
