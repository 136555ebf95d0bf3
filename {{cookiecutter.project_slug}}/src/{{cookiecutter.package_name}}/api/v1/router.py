"""Collects the version 1 routes; each enabled module adds its router here."""

from fastapi import APIRouter

{% if cookiecutter.auth in ["api_key", "jwt_and_api_key"] %}
from {{ cookiecutter.package_name }}.api.v1.endpoints.api_keys import router as api_keys_router
{% endif %}
{% if cookiecutter.database != "none" %}
from {{ cookiecutter.package_name }}.api.v1.endpoints.audit_log import router as audit_log_router
{% endif %}
{% if cookiecutter.auth in ["jwt", "jwt_and_api_key"] %}
from {{ cookiecutter.package_name }}.api.v1.endpoints.auth import router as auth_router
{% endif %}
{% if cookiecutter.llm != "none" and cookiecutter.database != "none" %}
{% set conversations_import = "from " ~ cookiecutter.package_name ~ ".api.v1.endpoints.conversations import router as conversations_router" %}
{% if conversations_import | length <= 100 %}
{{ conversations_import }}
{% else %}
from {{ cookiecutter.package_name }}.api.v1.endpoints.conversations import (
    router as conversations_router,
)
{% endif %}
{% endif %}
{% if cookiecutter.rag == "yes" %}
from {{ cookiecutter.package_name }}.api.v1.endpoints.documents import router as documents_router
{% endif %}
from {{ cookiecutter.package_name }}.api.v1.endpoints.jobs import router as jobs_router
{% if cookiecutter.llm != "none" %}
from {{ cookiecutter.package_name }}.api.v1.endpoints.llm import router as llm_router
{% endif %}
from {{ cookiecutter.package_name }}.api.v1.endpoints.meta import router as meta_router
{% if cookiecutter.database != "none" %}
from {{ cookiecutter.package_name }}.api.v1.endpoints.notes import router as notes_router
{% endif %}
{% if cookiecutter.oidc_signin == "yes" %}
from {{ cookiecutter.package_name }}.api.v1.endpoints.oidc import router as oidc_router
{% endif %}
{% if cookiecutter.rag == "yes" %}
from {{ cookiecutter.package_name }}.api.v1.endpoints.search import router as search_router
{% endif %}
{% if cookiecutter.database != "none" %}
from {{ cookiecutter.package_name }}.api.v1.endpoints.users import router as users_router
{% endif %}

api_router = APIRouter()
api_router.include_router(meta_router)
{% if cookiecutter.database != "none" %}
api_router.include_router(users_router)
api_router.include_router(notes_router)
api_router.include_router(audit_log_router)
{% endif %}
{% if cookiecutter.auth in ["jwt", "jwt_and_api_key"] %}
api_router.include_router(auth_router)
{% endif %}
{% if cookiecutter.oidc_signin == "yes" %}
api_router.include_router(oidc_router)
{% endif %}
{% if cookiecutter.auth in ["api_key", "jwt_and_api_key"] %}
api_router.include_router(api_keys_router)
{% endif %}
{% if cookiecutter.llm != "none" %}
api_router.include_router(llm_router)
{% endif %}
{% if cookiecutter.llm != "none" and cookiecutter.database != "none" %}
api_router.include_router(conversations_router)
{% endif %}
{% if cookiecutter.rag == "yes" %}
api_router.include_router(documents_router)
api_router.include_router(search_router)
{% endif %}
api_router.include_router(jobs_router)
