"""The ingestion job's work: a stored document's text cut into chunks, embedded, indexed.

The worker runs it (``jobs/ingestion.py``). The document goes from pending to
processing, then to ready, or to failed with an error its owner may read: the
message the API would have answered with, never an unexpected exception's text
(which may hold anything the job touched: the worker's log has it). An ingestion
of the same title meanwhile replaces the text: this job's work is then dropped,
and the job that ingestion queued does it.
"""

import asyncio
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.core.domain import DocumentStatus
from {{ cookiecutter.package_name }}.core.errors import AppError
from {{ cookiecutter.package_name }}.database.chunk_index import ChunkIndex
from {{ cookiecutter.package_name }}.database.documents import DocumentRepository
from {{ cookiecutter.package_name }}.database.session import unit_of_work
from {{ cookiecutter.package_name }}.services.llm.service import LLMService
from {{ cookiecutter.package_name }}.services.rag.chunking import Chunker
from {{ cookiecutter.package_name }}.services.rag.service import chunked, store_chunks

FAILED = "The document could not be indexed; ingest it again later."
MAX_ERROR_CHARS = 500


class DocumentIndexer:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        llm: LLMService,
        index: ChunkIndex,
        chunker: Chunker,
        settings: Settings,
    ) -> None:
        self._sessions = sessions
        self._llm = llm
        self._index = index
        self._chunker = chunker
        self._settings = settings

    async def index(self, document_id: UUID, caller: str) -> DocumentStatus | None:
        """Index the stored document; ``caller`` is charged for its embeddings.

        Returns its status at the end: ready or failed, or None when there was
        nothing to do (the document is gone, indexed already, or replaced meanwhile).
        """
        async with unit_of_work(self._sessions) as session:
            documents = DocumentRepository(session)
            document = await documents.get(document_id)
            if document is None or document.pending_text is None:
                return None
            text, content_hash = document.pending_text, document.content_hash
            processing = {"status": DocumentStatus.PROCESSING}
            if await documents.settle(document_id, content_hash, processing) is None:
                return None
        try:
            limit = self._settings.rag_max_chunks
            pieces = await asyncio.to_thread(chunked, self._chunker, text, limit)
            texts = [piece.text for piece in pieces]
            embeddings = await self._llm.embed(texts, caller, "document")
            async with unit_of_work(self._sessions) as session:
                ready = await DocumentRepository(session).settle(
                    document_id,
                    content_hash,
                    {
                        "status": DocumentStatus.READY,
                        "error": None,
                        "chunk_count": len(pieces),
                        "pending_text": None,
                    },
                )
                if ready is None:
                    return None
                await store_chunks(session, self._index, ready, pieces, embeddings)
        except AppError as exc:
            return await self._fail(document_id, content_hash, str(exc)[:MAX_ERROR_CHARS])
        except Exception:
            await self._fail(document_id, content_hash, FAILED)
            raise
        return DocumentStatus.READY

    async def _fail(self, document_id: UUID, content_hash: str, error: str) -> DocumentStatus:
        async with unit_of_work(self._sessions) as session:
            await DocumentRepository(session).settle(
                document_id,
                content_hash,
                {"status": DocumentStatus.FAILED, "error": error, "pending_text": None},
            )
        return DocumentStatus.FAILED
