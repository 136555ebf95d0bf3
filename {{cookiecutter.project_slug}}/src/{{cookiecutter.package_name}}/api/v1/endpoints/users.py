{% if cookiecutter.auth != "none" %}
"""User management: the example resource, from route to service to repository to table.

Users read and change themselves at ``/users/me``; everything else is for admins.
"""
{% else %}
"""User management: the example resource, from route to service to repository to table."""
{% endif %}

from typing import Annotated
from uuid import UUID

{% if cookiecutter.auth != "none" %}
from fastapi import APIRouter, Depends, Query, status

from {{ cookiecutter.package_name }}.core.authorization import Principal, Scope
from {{ cookiecutter.package_name }}.core.dependencies import UserServiceDep, require_scopes
from {{ cookiecutter.package_name }}.core.errors import problem_responses
from {{ cookiecutter.package_name }}.models.requests import (
    ProfileUpdate,
    UserCreate,
    UserQuery,
    UserUpdate,
)
from {{ cookiecutter.package_name }}.models.responses import UserPage, UserResponse

router = APIRouter(prefix="/users", tags=["users"], responses=problem_responses(401, 403, 429, 503))
ADMIN_ONLY = [Depends(require_scopes(Scope.ADMIN))]
ProfileDep = Annotated[Principal, Depends(require_scopes(Scope.PROFILE))]
{% else %}
from fastapi import APIRouter, Query, status

from {{ cookiecutter.package_name }}.core.dependencies import UserServiceDep
from {{ cookiecutter.package_name }}.core.errors import problem_responses
from {{ cookiecutter.package_name }}.models.requests import UserCreate, UserQuery, UserUpdate
from {{ cookiecutter.package_name }}.models.responses import UserPage, UserResponse

router = APIRouter(prefix="/users", tags=["users"], responses=problem_responses(503))
{% endif %}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create a user",
    responses=problem_responses(409),
{% if cookiecutter.auth != "none" %}
    dependencies=ADMIN_ONLY,
{% endif %}
)
async def create_user(body: UserCreate, users: UserServiceDep) -> UserResponse:
    return UserResponse.model_validate(await users.create(body))


{% if cookiecutter.auth != "none" %}
@router.get("", summary="List users, oldest first, optionally filtered", dependencies=ADMIN_ONLY)
{% else %}
@router.get("", summary="List users, oldest first, optionally filtered")
{% endif %}
async def list_users(query: Annotated[UserQuery, Query()], users: UserServiceDep) -> UserPage:
    found, total = await users.get_page(query)
    return UserPage(
        items=[UserResponse.model_validate(user) for user in found],
        total=total,
        limit=query.limit,
        offset=query.offset,
    )


{% if cookiecutter.auth != "none" %}
@router.get("/me", summary="Your own user")
async def get_me(principal: ProfileDep, users: UserServiceDep) -> UserResponse:
    return UserResponse.model_validate(await users.get(principal.user_id))


@router.patch("/me", summary="Change your name or email", responses=problem_responses(409))
async def update_me(
    body: ProfileUpdate, principal: ProfileDep, users: UserServiceDep
) -> UserResponse:
    return UserResponse.model_validate(await users.update(principal.user_id, body))


@router.get(
    "/{user_id}", summary="Get a user", responses=problem_responses(404), dependencies=ADMIN_ONLY
)
{% else %}
@router.get("/{user_id}", summary="Get a user", responses=problem_responses(404))
{% endif %}
async def get_user(user_id: UUID, users: UserServiceDep) -> UserResponse:
    return UserResponse.model_validate(await users.get(user_id))


@router.patch(
    "/{user_id}",
    summary="Change some of a user's fields",
    responses=problem_responses(404, 409),
{% if cookiecutter.auth != "none" %}
    dependencies=ADMIN_ONLY,
{% endif %}
)
async def update_user(user_id: UUID, body: UserUpdate, users: UserServiceDep) -> UserResponse:
    return UserResponse.model_validate(await users.update(user_id, body))


@router.delete(
    "/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a user and their notes",
    responses=problem_responses(404),
{% if cookiecutter.auth != "none" %}
    dependencies=ADMIN_ONLY,
{% endif %}
)
async def delete_user(user_id: UUID, users: UserServiceDep) -> None:
    await users.delete(user_id)
