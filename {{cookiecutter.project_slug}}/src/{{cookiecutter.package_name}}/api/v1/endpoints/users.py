"""User management: the example resource, from route to service to repository to table."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, status

from {{ cookiecutter.package_name }}.core.dependencies import UserServiceDep
from {{ cookiecutter.package_name }}.core.errors import problem_responses
from {{ cookiecutter.package_name }}.models.requests import UserCreate, UserQuery, UserUpdate
from {{ cookiecutter.package_name }}.models.responses import UserPage, UserResponse

router = APIRouter(prefix="/users", tags=["users"], responses=problem_responses(503))


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create a user",
    responses=problem_responses(409),
)
async def create_user(body: UserCreate, users: UserServiceDep) -> UserResponse:
    return UserResponse.model_validate(await users.create(body))


@router.get("", summary="List users, oldest first, optionally filtered")
async def list_users(query: Annotated[UserQuery, Query()], users: UserServiceDep) -> UserPage:
    found, total = await users.get_page(query)
    return UserPage(
        items=[UserResponse.model_validate(user) for user in found],
        total=total,
        limit=query.limit,
        offset=query.offset,
    )


@router.get("/{user_id}", summary="Get a user", responses=problem_responses(404))
async def get_user(user_id: UUID, users: UserServiceDep) -> UserResponse:
    return UserResponse.model_validate(await users.get(user_id))


@router.patch(
    "/{user_id}",
    summary="Change some of a user's fields",
    responses=problem_responses(404, 409),
)
async def update_user(user_id: UUID, body: UserUpdate, users: UserServiceDep) -> UserResponse:
    return UserResponse.model_validate(await users.update(user_id, body))


@router.delete(
    "/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a user and their notes",
    responses=problem_responses(404),
)
async def delete_user(user_id: UUID, users: UserServiceDep) -> None:
    await users.delete(user_id)
