"""The ingestion job: the worker indexes a document the app stored, pending."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.core.rate_limit import RateLimiter
from {{ cookiecutter.package_name }}.core.redis import redis_timeouts
{% if cookiecutter.database == "sqlite" %}
from {{ cookiecutter.package_name }}.database.chunk_index_sqlite import SqliteChunkIndex
{% else %}
from {{ cookiecutter.package_name }}.database.chunk_index_postgresql import PostgresChunkIndex
{% endif %}
from {{ cookiecutter.package_name }}.jobs.tasks import JobContext
from {{ cookiecutter.package_name }}.services.llm.service import open_llm_service
from {{ cookiecutter.package_name }}.services.llm.usage_store import DatabaseUsageRecorder
from {{ cookiecutter.package_name }}.services.rag.chunking import Chunker
from {{ cookiecutter.package_name }}.services.rag.indexing import DocumentIndexer


@asynccontextmanager
async def open_indexer(
    settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[DocumentIndexer]:
    """What the job needs, open for as long as the block: the LLM service (its calls
    charged to the budgets and recorded in the database), the chunker, the chunk index.
    """
    async with AsyncExitStack() as resources:
        limiter = RateLimiter(
            settings.rate_limit_storage_uri, redis_options=redis_timeouts(settings)
        )
        resources.push_async_callback(limiter.aclose)
        llm = await resources.enter_async_context(
            open_llm_service(settings, limiter, recorders=[DatabaseUsageRecorder(sessions)])
        )
        # Loads its tokenizer's vocabulary: off the event loop.
        chunker = await asyncio.to_thread(
            Chunker, settings.rag_chunk_tokens, settings.rag_chunk_overlap
        )
        index = {{ "SqliteChunkIndex" if cookiecutter.database == "sqlite" else "PostgresChunkIndex" }}()
        yield DocumentIndexer(sessions, llm, index, chunker, settings)


async def index_document(ctx: JobContext, document_id: str, caller: str) -> str | None:
    """Cut the document into chunks, embed and index them: its status says how it went
    (``GET /api/v1/documents/{id}``). Returns that status; None if there was nothing to do.
    """
    indexer: DocumentIndexer = ctx["indexer"]
    status = await indexer.index(UUID(document_id), caller)
    return None if status is None else status.value
