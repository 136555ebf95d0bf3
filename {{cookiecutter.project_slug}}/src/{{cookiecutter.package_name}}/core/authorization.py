{% set jwt = cookiecutter.auth in ["jwt", "jwt_and_api_key"] %}
{% set api_keys = cookiecutter.auth in ["api_key", "jwt_and_api_key"] %}
{% set llm = cookiecutter.llm != "none" %}
"""Who the caller is and what they may do.

A user's role grants scopes (``ROLE_SCOPES``); a credential carries the scopes chosen
when it was issued, and a request gets only the scopes in both. So a credential can be
narrower than its owner, never wider, and demoting or deactivating a user takes effect
on their next request, whatever credential they hold. Routes ask for scopes with
``require_scopes`` (403 when one is missing) and check ownership with
``Principal.can_access``: a user reaches only their own resources, an admin everyone's.
"""

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Self
from uuid import UUID

from {{ cookiecutter.package_name }}.core.domain import UserRole
from {{ cookiecutter.package_name }}.core.errors import UnauthorizedError

{% if cookiecutter.auth == "jwt" %}
AUTHENTICATE = {"WWW-Authenticate": "Bearer"}
{% elif cookiecutter.auth == "api_key" %}
API_KEY_HEADER = "X-API-Key"
AUTHENTICATE = {"WWW-Authenticate": "APIKey"}
{% else %}
API_KEY_HEADER = "X-API-Key"
AUTHENTICATE = {"WWW-Authenticate": "Bearer, APIKey"}
{% endif %}
"""The challenge sent with every 401 (RFC 9110): how to authenticate."""


class Scope(enum.StrEnum):
    PROFILE = "profile"
    NOTES_READ = "notes:read"
    NOTES_WRITE = "notes:write"
{% if api_keys %}
    API_KEYS = "api_keys"
{% endif %}
{% if llm %}
    LLM = "llm"
{% endif %}
    JOBS = "jobs"
    AUDIT_READ = "audit:read"
    ADMIN = "admin"


{% if jwt %}
SCOPE_DESCRIPTIONS: Mapping[str, str] = {
    Scope.PROFILE: "Read and change your own user.",
    Scope.NOTES_READ: "Read your notes.",
    Scope.NOTES_WRITE: "Create, change and delete your notes.",
{% if api_keys %}
    Scope.API_KEYS: "Create, list and revoke your API keys.",
{% endif %}
{% if llm %}
    Scope.LLM: "Call the LLM endpoints and read your usage of them.",
{% endif %}
{% if cookiecutter.redis == "yes" %}
    Scope.JOBS: "Queue background jobs and read their results.",
{% else %}
    Scope.JOBS: "Queue background jobs.",
{% endif %}
    Scope.AUDIT_READ: "Read the audit log.",
    Scope.ADMIN: "Manage every user, and act on everyone's resources.",
}

{% endif %}
ROLE_SCOPES: Mapping[UserRole, frozenset[Scope]] = {
    UserRole.ADMIN: frozenset(Scope),
{% if api_keys and llm %}
    UserRole.MEMBER: frozenset(
        {Scope.PROFILE, Scope.NOTES_READ, Scope.NOTES_WRITE, Scope.API_KEYS, Scope.LLM, Scope.JOBS}
    ),
    UserRole.SERVICE: frozenset({Scope.NOTES_READ, Scope.NOTES_WRITE, Scope.LLM, Scope.JOBS}),
{% elif api_keys %}
    UserRole.MEMBER: frozenset(
        {Scope.PROFILE, Scope.NOTES_READ, Scope.NOTES_WRITE, Scope.API_KEYS, Scope.JOBS}
    ),
    UserRole.SERVICE: frozenset({Scope.NOTES_READ, Scope.NOTES_WRITE, Scope.JOBS}),
{% elif llm %}
    UserRole.MEMBER: frozenset(
        {Scope.PROFILE, Scope.NOTES_READ, Scope.NOTES_WRITE, Scope.LLM, Scope.JOBS}
    ),
{% else %}
    UserRole.MEMBER: frozenset({Scope.PROFILE, Scope.NOTES_READ, Scope.NOTES_WRITE, Scope.JOBS}),
{% endif %}
}


class Credential(enum.StrEnum):
{% if jwt %}
    ACCESS_TOKEN = "access_token"  # noqa: S105 - a kind of credential, not one
{% endif %}
{% if api_keys %}
    API_KEY = "api_key"
{% endif %}


def granted_scopes(role: UserRole, requested: Iterable[str]) -> frozenset[Scope]:
    """The scopes of ``requested`` that ``role`` allows; unknown names are dropped."""
    names = set(requested)
    return frozenset(scope for scope in ROLE_SCOPES[role] if scope.value in names)


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller, the same whichever credential it used."""

    user_id: UUID
    role: UserRole
    scopes: frozenset[Scope]
    credential: Credential
    credential_id: str
    """The login session's ID (access token) or the key's prefix (API key)."""

    @classmethod
    def of(
        cls,
        user_id: UUID,
        role: UserRole,
        *,
        requested: Iterable[str],
        credential: Credential,
        credential_id: str,
    ) -> Self:
        """The caller ``user_id``, with the scopes of ``requested`` that ``role`` allows."""
        return cls(
            user_id=user_id,
            role=role,
            scopes=granted_scopes(role, requested),
            credential=credential,
            credential_id=credential_id,
        )

    @property
    def is_admin(self) -> bool:
        return Scope.ADMIN in self.scopes

    @property
    def actor(self) -> str:
        """How the audit log names this caller."""
{% if api_keys %}
{% if jwt %}
        if self.credential is Credential.API_KEY:
            return f"user:{self.user_id} key:{self.credential_id}"
        return f"user:{self.user_id}"
{% else %}
        return f"user:{self.user_id} key:{self.credential_id}"
{% endif %}
{% else %}
        return f"user:{self.user_id}"
{% endif %}

    def can_access(self, owner_id: UUID) -> bool:
        """Whether the caller may act on a resource of ``owner_id``: theirs, or any for an admin."""
        return owner_id == self.user_id or self.is_admin


def unauthorized(detail: str) -> UnauthorizedError:
    return UnauthorizedError(detail, headers=AUTHENTICATE)
