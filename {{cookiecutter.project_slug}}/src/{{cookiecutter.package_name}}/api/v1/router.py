"""Collects the version 1 routes; each enabled module adds its router here."""

from fastapi import APIRouter

{% if cookiecutter.database != "none" %}
from {{ cookiecutter.package_name }}.api.v1.endpoints import audit_log, jobs, meta, notes, users
{% else %}
from {{ cookiecutter.package_name }}.api.v1.endpoints import jobs, meta
{% endif %}

api_router = APIRouter()
api_router.include_router(meta.router)
api_router.include_router(jobs.router)
{% if cookiecutter.database != "none" %}
api_router.include_router(users.router)
api_router.include_router(notes.router)
api_router.include_router(audit_log.router)
{% endif %}
