{% set api_keys = cookiecutter.auth in ["api_key", "jwt_and_api_key"] %}
"""The words that the tables, the API bodies{{ " and authorization" if cookiecutter.auth != "none" }} share.

They sit below all of them, so that none imports another to name a role or an
action; the tables store their values as strings.
"""

import enum


class UserRole(enum.StrEnum):
    ADMIN = "admin"
    MEMBER = "member"
{% if api_keys %}
    SERVICE = "service"
    """Another system, acting through the API keys an admin gives it."""
{% endif %}


class AuditAction(enum.StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
{% if cookiecutter.rag == "yes" %}


class DocumentStatus(enum.StrEnum):
    """Where a document's ingestion stands: its chunks are searchable once it is ready."""

    PENDING = "pending"
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"
{% endif %}
