"""Collects the version 1 routes; each enabled module adds its router here."""

from fastapi import APIRouter

{% if cookiecutter.auth != "none" %}
from {{ cookiecutter.package_name }}.api.v1.endpoints import (
{% if cookiecutter.auth != "jwt" %}
    api_keys,
{% endif %}
    audit_log,
{% if cookiecutter.auth != "api_key" %}
    auth,
{% endif %}
    meta,
    notes,
    users,
)
{% elif cookiecutter.database != "none" %}
from {{ cookiecutter.package_name }}.api.v1.endpoints import audit_log, meta, notes, users
{% else %}
from {{ cookiecutter.package_name }}.api.v1.endpoints import meta
{% endif %}

api_router = APIRouter()
api_router.include_router(meta.router)
{% if cookiecutter.database != "none" %}
api_router.include_router(users.router)
api_router.include_router(notes.router)
api_router.include_router(audit_log.router)
{% endif %}
{% if cookiecutter.auth != "none" %}
{% if cookiecutter.auth != "api_key" %}
api_router.include_router(auth.router)
{% endif %}
{% if cookiecutter.auth != "jwt" %}
api_router.include_router(api_keys.router)
{% endif %}
{% endif %}
