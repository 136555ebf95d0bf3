"""API keys for other systems: create (shown once), list, revoke."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, status

from {{ cookiecutter.package_name }}.core.authorization import Scope
from {{ cookiecutter.package_name }}.core.dependencies import ApiKeyServiceDep, require_scopes
from {{ cookiecutter.package_name }}.core.errors import problem_responses
from {{ cookiecutter.package_name }}.models.requests import ApiKeyCreate, ApiKeyQuery
from {{ cookiecutter.package_name }}.models.responses import (
    ApiKeyCreated,
    ApiKeyPage,
    ApiKeyResponse,
)

router = APIRouter(
    prefix="/api-keys",
    tags=["api-keys"],
    dependencies=[Depends(require_scopes(Scope.API_KEYS))],
    responses=problem_responses(401, 403, 429, 503),
)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create an API key; the response holds the key, shown this once",
    responses=problem_responses(400, 404),
)
async def create_api_key(body: ApiKeyCreate, keys: ApiKeyServiceDep) -> ApiKeyCreated:
    api_key, key = await keys.create(body)
    return ApiKeyCreated(**ApiKeyResponse.model_validate(api_key).model_dump(), key=key)


@router.get("", summary="List your API keys (an admin: anyone's), oldest first")
async def list_api_keys(
    query: Annotated[ApiKeyQuery, Query()], keys: ApiKeyServiceDep
) -> ApiKeyPage:
    found, total = await keys.get_page(query)
    return ApiKeyPage(
        items=[ApiKeyResponse.model_validate(api_key) for api_key in found],
        total=total,
        limit=query.limit,
        offset=query.offset,
    )


@router.delete(
    "/{key_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke an API key: it stops working at once",
    responses=problem_responses(404),
)
async def revoke_api_key(key_id: UUID, keys: ApiKeyServiceDep) -> None:
    await keys.revoke(key_id)
