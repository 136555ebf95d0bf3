"""Collects the version 1 routes; each enabled module adds its router here."""

from fastapi import APIRouter

from {{ cookiecutter.package_name }}.api.v1.endpoints import jobs, meta

api_router = APIRouter()
api_router.include_router(meta.router)
api_router.include_router(jobs.router)
