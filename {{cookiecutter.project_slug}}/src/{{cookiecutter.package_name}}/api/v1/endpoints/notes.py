{% if cookiecutter.auth != "none" %}
"""Notes: a small resource owned by a user, who alone (or an admin) can reach it."""
{% else %}
"""Notes: a small resource owned by a user."""
{% endif %}

from typing import Annotated
from uuid import UUID

{% if cookiecutter.auth != "none" %}
from fastapi import APIRouter, Depends, Query, status

from {{ cookiecutter.package_name }}.core.authorization import Scope
from {{ cookiecutter.package_name }}.core.dependencies import (
    NoteReaderDep,
    NoteServiceDep,
    require_scopes,
)
{% else %}
from fastapi import APIRouter, Query, status

from {{ cookiecutter.package_name }}.core.dependencies import NoteReaderDep, NoteServiceDep
{% endif %}
from {{ cookiecutter.package_name }}.core.errors import problem_responses
from {{ cookiecutter.package_name }}.models.requests import NoteCreate, NoteQuery, NoteUpdate
from {{ cookiecutter.package_name }}.models.responses import NotePage, NoteResponse

{% if cookiecutter.auth != "none" %}
router = APIRouter(prefix="/notes", tags=["notes"], responses=problem_responses(401, 403, 429, 503))
READ = [Depends(require_scopes(Scope.NOTES_READ))]
WRITE = [Depends(require_scopes(Scope.NOTES_WRITE))]
{% else %}
router = APIRouter(prefix="/notes", tags=["notes"], responses=problem_responses(503))
{% endif %}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
{% if cookiecutter.auth != "none" %}
    summary="Create a note (yours, or for a user if you are an admin)",
    responses=problem_responses(404),
    dependencies=WRITE,
{% else %}
    summary="Create a note for a user",
    responses=problem_responses(404),
{% endif %}
)
async def create_note(body: NoteCreate, notes: NoteServiceDep) -> NoteResponse:
    return NoteResponse.model_validate(await notes.create(body))


{% if cookiecutter.auth != "none" %}
@router.get("", summary="List your notes (an admin: anyone's), oldest first", dependencies=READ)
{% else %}
@router.get("", summary="List notes, oldest first, optionally of one owner")
{% endif %}
async def list_notes(query: Annotated[NoteQuery, Query()], notes: NoteServiceDep) -> NotePage:
    found, total = await notes.get_page(query)
    return NotePage(
        items=[NoteResponse.model_validate(note) for note in found],
        total=total,
        limit=query.limit,
        offset=query.offset,
    )


{% if cookiecutter.auth != "none" %}
@router.get("/{note_id}", summary="Get a note", responses=problem_responses(404), dependencies=READ)
{% else %}
@router.get("/{note_id}", summary="Get a note", responses=problem_responses(404))
{% endif %}
async def get_note(note_id: UUID, notes: NoteReaderDep) -> NoteResponse:
    return NoteResponse.model_validate(await notes.get(note_id))


{% if cookiecutter.auth != "none" %}
@router.patch(
    "/{note_id}", summary="Change a note", responses=problem_responses(404), dependencies=WRITE
)
{% else %}
@router.patch("/{note_id}", summary="Change a note", responses=problem_responses(404))
{% endif %}
async def update_note(note_id: UUID, body: NoteUpdate, notes: NoteServiceDep) -> NoteResponse:
    return NoteResponse.model_validate(await notes.update(note_id, body))


@router.delete(
    "/{note_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a note",
    responses=problem_responses(404),
{% if cookiecutter.auth != "none" %}
    dependencies=WRITE,
{% endif %}
)
async def delete_note(note_id: UUID, notes: NoteServiceDep) -> None:
    await notes.delete(note_id)
