{% set auth = cookiecutter.auth != "none" %}
{% set redis = cookiecutter.redis == "yes" %}
"""Documents in, chunks found, answers with sources.

{% if redis %}
Ingesting a document extracts its text in a worker thread (CPU work never blocks the
event loop) and stores the document, pending, with its text; the ingestion job
(``services/rag/indexing.py``, on the job queue) cuts it into chunks, embeds them
with no transaction open, then stores the chunks and their index entries in one unit
of work: a search sees the old chunks or the new ones, never half of them. The same
text again (by SHA-256) changes nothing, unless its indexing failed.
{% else %}
Ingesting a document extracts its text and cuts it into chunks in a worker thread
(CPU work never blocks the event loop), embeds the chunks with no transaction open,
then stores the document, its chunks and their index entries in one unit of work: a
search sees the old chunks or the new ones, never half of them. The same text again
(by SHA-256) changes nothing.
{% endif %}
A search embeds the query, asks the chunk index for the nearest chunks and for those
matching its words, and fuses both rankings by reciprocal rank fusion. An answer
gives the model the chunks that are similar enough as numbered sources, and says so
instead when none is.
"""

import asyncio
import base64
import binascii
import hashlib
import re
{% if redis %}
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
{% else %}
from collections.abc import AsyncGenerator, Sequence
{% endif %}
from contextlib import aclosing
from dataclasses import dataclass, field
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

{% if auth %}
from {{ cookiecutter.package_name }}.core.authorization import Principal
{% endif %}
from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.core.domain import DocumentStatus
from {{ cookiecutter.package_name }}.core.errors import (
    BadRequestError,
    NotFoundError,
    PayloadTooLargeError,
{% if redis %}
    ServiceUnavailableError,
{% endif %}
)
from {{ cookiecutter.package_name }}.database.chunk_index import ChunkIndex, Hit, IndexedChunk
from {{ cookiecutter.package_name }}.database.documents import DocumentRepository
from {{ cookiecutter.package_name }}.database.models import Chunk, Document
from {{ cookiecutter.package_name }}.database.session import unit_of_work
from {{ cookiecutter.package_name }}.models.llm import LLMRequest, StreamDelta
from {{ cookiecutter.package_name }}.models.rag import (
    AnswerRequest,
    AnswerSources,
    Citation,
    DocumentCreate,
    MediaType,
    SearchHit,
    SearchRequest,
)
from {{ cookiecutter.package_name }}.services.llm.service import LLMService, StreamEvent
from {{ cookiecutter.package_name }}.services.rag.chunking import Chunker, ChunkText, extract_text

{% if redis %}
Schedule = Callable[[UUID], Awaitable[object]]
"""Queues the ingestion job of a stored document."""
QUEUE_DOWN = "The job queue is unavailable: ingest the document again."
{% endif %}
# Reciprocal rank fusion: a chunk scores 1 / (RRF_K + rank) in each list it is in.
RRF_K = 60
# Each retriever offers this many times as many candidates as the search returns.
CANDIDATES_PER_RESULT = 4
MIN_CANDIDATES = 20
CITATION = re.compile(r"\[(\d{1,2})\]")
NOTHING_FOUND = "I found nothing relevant to this question in the documents: I cannot answer it."
ANSWER_SYSTEM = (
    "Answer the user's question from the numbered sources below, and only from them. "
    "Cite the sources you use by their number in square brackets, like [1]. If they do "
    "not hold the answer, say that you do not know.\n\nSources:\n{sources}"
)


@dataclass(frozen=True, slots=True)
class Ingested:
    document: Document
    changed: bool
    """False when the same text was there already: nothing was done."""


@dataclass(slots=True)
class Answer:
    """An answer's events, the sources it was given, and its text as it streams."""

    events: AsyncGenerator[StreamEvent]
    sources: AnswerSources
    text: list[str] = field(default_factory=list)

    def cited(self) -> AnswerSources:
        """The sources, with the numbers of those the answer so far cites, in order."""
        numbers = {source.number for source in self.sources.sources}
        seen = dict.fromkeys(int(match) for match in CITATION.findall("".join(self.text)))
        return self.sources.model_copy(
            update={"cited": [number for number in seen if number in numbers]}
        )


@dataclass(frozen=True, slots=True)
class Found:
    chunk: Chunk
    score: float
    similarity: float | None


def fuse(rankings: Sequence[Sequence[Hit]], k: int = RRF_K) -> dict[int, float]:
    """Reciprocal rank fusion: each ranking adds 1 / (k + rank) to a chunk's score."""
    scores: dict[int, float] = {}
    for hits in rankings:
        for rank, hit in enumerate(hits, start=1):
            scores[hit.chunk_id] = scores.get(hit.chunk_id, 0.0) + 1 / (k + rank)
    return scores


def _decoded(body: DocumentCreate, limit: int) -> bytes:
    if body.media_type is MediaType.PDF:
        try:
            content = base64.b64decode(body.content, validate=True)
        except (binascii.Error, ValueError) as exc:
            msg = "A PDF's content must be its bytes in base64."
            raise BadRequestError(msg) from exc
    else:
        content = body.content.encode()
    if len(content) > limit:
        msg = f"The document is larger than {limit} bytes."
        raise PayloadTooLargeError(msg)
    return content


def chunked(chunker: Chunker, text: str, limit: int) -> list[ChunkText]:
    """The text's chunks; 413 past ``limit`` of them. CPU work: call it in a thread."""
    pieces = chunker.chunks(text)
    if len(pieces) > limit:
        msg = f"The document makes more than {limit} chunks."
        raise PayloadTooLargeError(msg)
    return pieces


async def store_chunks(
    session: AsyncSession,
    index: ChunkIndex,
    document: Document,
    pieces: Sequence[ChunkText],
    embeddings: Sequence[Sequence[float]],
) -> None:
    """Replace the document's chunks and their index entries with these."""
    chunks = await DocumentRepository(session).replace_chunks(
        document,
        [
            Chunk(
                document_id=document.id,
                position=piece.position,
                text=piece.text,
                token_count=piece.token_count,
                heading=piece.heading,
            )
            for piece in pieces
        ],
    )
    await index.add(
        session,
        [
            IndexedChunk(chunk.id, chunk.text, embedding)
            for chunk, embedding in zip(chunks, embeddings, strict=True)
        ],
    )


class RagService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        llm: LLMService,
        index: ChunkIndex,
{% if not redis %}
        chunker: Chunker,
{% endif %}
        settings: Settings,
        caller: str,
{% if auth %}
        principal: Principal,
{% endif %}
{% if redis %}
        schedule: Schedule,
{% endif %}
    ) -> None:
        self._sessions = sessions
        self._llm = llm
        self._index = index
{% if not redis %}
        self._chunker = chunker
{% endif %}
        self._settings = settings
        self._caller = caller
{% if redis %}
        self._schedule = schedule
{% endif %}
{% if auth %}
        self._owner_id: UUID | None = principal.user_id
{% else %}
        # Without authentication documents have no owner: everyone shares them.
        self._owner_id: UUID | None = None
{% endif %}

    async def ingest(self, body: DocumentCreate) -> Ingested:
{% if redis %}
        """Store the document, pending, and queue its ingestion job."""
{% endif %}
        content = _decoded(body, self._settings.rag_max_document_bytes)
        text = await asyncio.to_thread(extract_text, content, body.media_type)
        content_hash = hashlib.sha256(text.encode()).hexdigest()
{% if redis %}
        async with unit_of_work(self._sessions) as session:
            known = await DocumentRepository(session).find(
                body.collection, self._owner_id, body.title
            )
            if (
                known is not None
                and known.content_hash == content_hash
                and known.status is not DocumentStatus.FAILED
            ):
                return Ingested(known, changed=False)
            document = await self._stored(
                session,
                body,
                known,
                {
                    "content_hash": content_hash,
                    "status": DocumentStatus.PENDING,
                    "error": None,
                    "pending_text": text,
                },
            )
        try:
            await self._schedule(document.id)
        except ServiceUnavailableError:
            async with unit_of_work(self._sessions) as session:
                await DocumentRepository(session).settle(
                    document.id,
                    content_hash,
                    {"status": DocumentStatus.FAILED, "error": QUEUE_DOWN, "pending_text": None},
                )
            raise
        return Ingested(document, changed=True)
{% else %}
        async with unit_of_work(self._sessions) as session:
            known = await DocumentRepository(session).find(
                body.collection, self._owner_id, body.title
            )
        if known is not None and known.content_hash == content_hash:
            return Ingested(known, changed=False)
        limit = self._settings.rag_max_chunks
        pieces = await asyncio.to_thread(chunked, self._chunker, text, limit)
        embeddings = await self._llm.embed(
            [piece.text for piece in pieces], self._caller, "document"
        )
        async with unit_of_work(self._sessions) as session:
            # Found again: another request may have stored the same title meanwhile.
            known = await DocumentRepository(session).find(
                body.collection, self._owner_id, body.title
            )
            document = await self._stored(
                session,
                body,
                known,
                {
                    "content_hash": content_hash,
                    "status": DocumentStatus.READY,
                    "chunk_count": len(pieces),
                },
            )
            await store_chunks(session, self._index, document, pieces, embeddings)
        return Ingested(document, changed=True)
{% endif %}

    async def _stored(
        self,
        session: AsyncSession,
        body: DocumentCreate,
        document: Document | None,
        values: dict[str, object],
    ) -> Document:
        """``document`` (the body's title's, if there is one) updated with ``values``, or
        created with them.
        """
        documents = DocumentRepository(session)
        values = {"media_type": body.media_type.value, **values}
        if document is None:
            return await documents.create(
                Document(
                    collection=body.collection,
                    owner_id=self._owner_id,
                    title=body.title,
                    **values,
                )
            )
        return await documents.update(document, values)

    async def get(self, document_id: UUID) -> Document:
        async with unit_of_work(self._sessions) as session:
            return await self._own(session, document_id)

    async def delete(self, document_id: UUID) -> None:
        """Delete the document; its chunks and their index entries go with it."""
        async with unit_of_work(self._sessions) as session:
            documents = DocumentRepository(session)
            await documents.delete(await self._own(session, document_id))

    async def _own(self, session: AsyncSession, document_id: UUID) -> Document:
        """The caller's document; 404 for any other, so none is known to exist."""
        document = await DocumentRepository(session).get(document_id)
        if document is None or document.owner_id != self._owner_id:
            msg = "No such document."
            raise NotFoundError(msg)
        return document

    async def search(self, body: SearchRequest) -> list[SearchHit]:
        found = await self._find(body.query, body.collection, body.top_k)
        return [
            SearchHit(
                chunk_id=item.chunk.id,
                document_id=item.chunk.document_id,
                document_title=item.chunk.document.title,
                position=item.chunk.position,
                heading=item.chunk.heading,
                text=item.chunk.text,
                score=round(item.score, 6),
                similarity=item.similarity,
            )
            for item in found
        ]

    async def _find(self, query: str, collection: str, top_k: int) -> list[Found]:
        [embedding] = await self._llm.embed([query], self._caller, "query")
        candidates = max(top_k * CANDIDATES_PER_RESULT, MIN_CANDIDATES)
        async with unit_of_work(self._sessions) as session:
            nearest = await self._index.nearest(
                session, embedding, k=candidates, collection=collection, owner_id=self._owner_id
            )
            matching = await self._index.keyword(
                session, query, k=candidates, collection=collection, owner_id=self._owner_id
            )
            scores = fuse([nearest, matching])
            best = sorted(scores, key=lambda chunk_id: scores[chunk_id], reverse=True)[:top_k]
            chunks = await DocumentRepository(session).chunks(best)
        similarity = {hit.chunk_id: round(hit.score, 6) for hit in nearest}
        return [
            Found(chunks[chunk_id], scores[chunk_id], similarity.get(chunk_id))
            for chunk_id in best
            if chunk_id in chunks
        ]

    async def answer(self, body: AnswerRequest) -> Answer:
        """The answer, to be streamed. Nothing similar enough: a short answer saying so,
        and no model call. An unknown model is refused before anything is searched.
        """
        self._llm.check_model(body.model)
        top_k = body.top_k or self._settings.rag_top_k
        found = [
            item
            for item in await self._find(body.question, body.collection, top_k)
            if item.similarity is not None and item.similarity >= self._settings.rag_min_score
        ]
        sources = AnswerSources(
            found=bool(found),
            sources=[
                Citation(
                    number=number,
                    chunk_id=item.chunk.id,
                    document_id=item.chunk.document_id,
                    document_title=item.chunk.document.title,
                    position=item.chunk.position,
                    heading=item.chunk.heading,
                    similarity=item.similarity,
                )
                for number, item in enumerate(found, start=1)
            ],
            cited=[],
        )
        if not found:
            return Answer(_nothing_found(), sources)
        numbered = "\n\n".join(
            f"[{number}] {item.chunk.document.title}"
            + (f" / {item.chunk.heading}" if item.chunk.heading else "")
            + f"\n{item.chunk.text}"
            for number, item in enumerate(found, start=1)
        )
        request = LLMRequest(
            prompt=body.question,
            system=ANSWER_SYSTEM.format(sources=numbered),
            model=body.model,
        )
        answer = Answer(self._llm.stream(request, self._caller), sources)
        answer.events = _kept(answer.events, answer.text)
        return answer


async def _kept(
    events: AsyncGenerator[StreamEvent], text: list[str]
) -> AsyncGenerator[StreamEvent]:
    """``events``, keeping the answer's text in ``text`` as it streams."""
    async with aclosing(events):
        async for event in events:
            if isinstance(event, StreamDelta):
                text.append(event.text)
            yield event


async def _nothing_found() -> AsyncGenerator[StreamEvent]:
    yield StreamDelta(text=NOTHING_FOUND)
