{% set auth = cookiecutter.auth != "none" %}
{% if auth %}
"""Documents for retrieval: ingested, read and deleted by their owner only."""
{% else %}
"""Documents for retrieval: ingested, read and deleted."""
{% endif %}

from uuid import UUID

{% if auth %}
from fastapi import APIRouter, Depends, Response, status
{% else %}
from fastapi import APIRouter, Response, status
{% endif %}

{% if auth %}
from {{ cookiecutter.package_name }}.core.authorization import Scope
from {{ cookiecutter.package_name }}.core.dependencies import RagServiceDep, require_scopes
{% else %}
from {{ cookiecutter.package_name }}.core.dependencies import RagServiceDep
{% endif %}
from {{ cookiecutter.package_name }}.core.errors import problem_responses
from {{ cookiecutter.package_name }}.models.rag import DocumentCreate, DocumentResponse

{% if auth %}
router = APIRouter(
    prefix="/documents",
    tags=["rag"],
    dependencies=[Depends(require_scopes(Scope.LLM))],
    responses=problem_responses(401, 403, 429, 503),
)
{% else %}
router = APIRouter(prefix="/documents", tags=["rag"], responses=problem_responses(503))
{% endif %}


@router.post(
    "",
{% if cookiecutter.redis == "yes" %}
    status_code=status.HTTP_202_ACCEPTED,
{% else %}
    status_code=status.HTTP_201_CREATED,
{% endif %}
    summary="Ingest a document: text, Markdown, HTML or PDF",
    responses={
        200: {"description": "The same text was there already: nothing changed."},
        **problem_responses(400, 413, 422),
    },
)
async def ingest_document(
    body: DocumentCreate, rag: RagServiceDep, response: Response
) -> DocumentResponse:
{% if cookiecutter.redis == "yes" %}
    """Stores the document, pending; a job cuts it into chunks and embeds them, and
    `GET /documents/{id}` reports its status: ready once it is searchable, or failed
    with an error. A document of the same title in the same collection is replaced
    (its old chunks are found until the new ones are ready).
    """
{% else %}
    """Cuts the document into chunks and embeds them; it is searchable when this returns.
    A document of the same title in the same collection is replaced.
    """
{% endif %}
    ingested = await rag.ingest(body)
    if not ingested.changed:
        response.status_code = status.HTTP_200_OK
    return DocumentResponse.model_validate(ingested.document)


@router.get("/{document_id}", summary="A document and its status", responses=problem_responses(404))
async def get_document(document_id: UUID, rag: RagServiceDep) -> DocumentResponse:
    return DocumentResponse.model_validate(await rag.get(document_id))


@router.delete(
    "/{document_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a document, its chunks and their embeddings",
    responses=problem_responses(404),
)
async def delete_document(document_id: UUID, rag: RagServiceDep) -> None:
    await rag.delete(document_id)
