"""Notes: a small resource owned by a user."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, status

from {{ cookiecutter.package_name }}.core.dependencies import NoteServiceDep
from {{ cookiecutter.package_name }}.core.errors import problem_responses
from {{ cookiecutter.package_name }}.models.requests import NoteCreate, NoteQuery, NoteUpdate
from {{ cookiecutter.package_name }}.models.responses import NotePage, NoteResponse

router = APIRouter(prefix="/notes", tags=["notes"], responses=problem_responses(503))


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create a note for a user",
    responses=problem_responses(404),
)
async def create_note(body: NoteCreate, notes: NoteServiceDep) -> NoteResponse:
    return NoteResponse.model_validate(await notes.create(body))


@router.get("", summary="List notes, oldest first, optionally of one owner")
async def list_notes(query: Annotated[NoteQuery, Query()], notes: NoteServiceDep) -> NotePage:
    found, total = await notes.get_page(query)
    return NotePage(
        items=[NoteResponse.model_validate(note) for note in found],
        total=total,
        limit=query.limit,
        offset=query.offset,
    )


@router.get("/{note_id}", summary="Get a note", responses=problem_responses(404))
async def get_note(note_id: UUID, notes: NoteServiceDep) -> NoteResponse:
    return NoteResponse.model_validate(await notes.get(note_id))


@router.patch("/{note_id}", summary="Change a note", responses=problem_responses(404))
async def update_note(note_id: UUID, body: NoteUpdate, notes: NoteServiceDep) -> NoteResponse:
    return NoteResponse.model_validate(await notes.update(note_id, body))


@router.delete(
    "/{note_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a note",
    responses=problem_responses(404),
)
async def delete_note(note_id: UUID, notes: NoteServiceDep) -> None:
    await notes.delete(note_id)
