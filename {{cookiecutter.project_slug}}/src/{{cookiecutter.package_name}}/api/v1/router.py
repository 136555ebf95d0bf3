"""Collects the version 1 routes; each enabled module adds its router here."""

from fastapi import APIRouter

{% if cookiecutter.llm != "none" %}
from {{ cookiecutter.package_name }}.api.v1.endpoints import llm, meta
{% else %}
from {{ cookiecutter.package_name }}.api.v1.endpoints import meta
{% endif %}

api_router = APIRouter()
api_router.include_router(meta.router)
{% if cookiecutter.llm != "none" %}
api_router.include_router(llm.router)
{% endif %}
