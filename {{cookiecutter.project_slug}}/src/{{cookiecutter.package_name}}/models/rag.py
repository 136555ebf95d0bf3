"""Bodies of the retrieval endpoints: documents in, chunks found, answers' sources."""

from datetime import datetime
from enum import StrEnum
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from {{ cookiecutter.package_name }}.core.domain import DocumentStatus
from {{ cookiecutter.package_name }}.models.llm import ModelName
from {{ cookiecutter.package_name }}.models.requests import NO_NUL, Title

Collection = Annotated[
    str,
    Field(
        default="default",
        pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$",
        description="Documents are searched within one collection: lowercase letters, "
        "digits, - and _.",
    ),
]


class MediaType(StrEnum):
    TEXT = "text/plain"
    MARKDOWN = "text/markdown"
    HTML = "text/html"
    PDF = "application/pdf"


class DocumentCreate(BaseModel):
    """A document to ingest; the same title in the same collection replaces it."""

    model_config = ConfigDict(extra="forbid")

    title: Title
    collection: Collection
    media_type: MediaType = MediaType.MARKDOWN
    content: str = Field(
        min_length=1,
        pattern=NO_NUL,
        description="The document: its text, or for a PDF its bytes in base64.",
    )


class DocumentResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    collection: str
    title: str
    media_type: str
    content_hash: str = Field(description="SHA-256 of the document's text.")
    status: DocumentStatus
    error: str | None
    chunk_count: int
    created_at: datetime
    updated_at: datetime


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str = Field(min_length=1, max_length=2000, pattern=NO_NUL)
    collection: Collection
    top_k: int = Field(default=5, ge=1, le=50)


class SearchHit(BaseModel):
    chunk_id: int
    document_id: UUID
    document_title: str
    position: int = Field(description="The chunk's place in its document, from 0.")
    heading: str | None = Field(description="The Markdown heading the chunk is under.")
    text: str
    score: float = Field(description="Reciprocal rank fusion of the vector and keyword ranks.")
    similarity: float | None = Field(
        description="Cosine similarity to the query; None when only its words matched."
    )


class SearchResponse(BaseModel):
    hits: list[SearchHit]


class AnswerRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1, max_length=4000, pattern=NO_NUL)
    collection: Collection
    top_k: int | None = Field(
        default=None, ge=1, le=20, description="Sources to give the model; RAG_TOP_K if unset."
    )
    model: ModelName | None = Field(
        default=None, description="One of the configured models; the provider's default if unset."
    )


class Citation(BaseModel):
    number: int = Field(description="The source's number, as the answer cites it: [1].")
    chunk_id: int
    document_id: UUID
    document_title: str
    position: int
    heading: str | None
    similarity: float | None


class AnswerSources(BaseModel):
    """The last event of an answer: the sources it was given, those it cited."""

    found: bool = Field(description="False: nothing relevant was found, and the model not asked.")
    sources: list[Citation]
    cited: list[int] = Field(description="Numbers of the sources the answer cites.")
