"""PostgreSQL's chunk index: what only it does (search is tested through the API in
``test_rag.py``, on the bake's database)."""

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.database.chunk_index import IndexedChunk
from {{ cookiecutter.package_name }}.database.chunk_index_postgresql import (
    MissingExtensionError,
    PostgresChunkIndex,
)
from {{ cookiecutter.package_name }}.database.engine import create_engine
from {{ cookiecutter.package_name }}.database.models import Chunk, Document
from {{ cookiecutter.package_name }}.main import create_app
from tests.conftest import Serve, make_settings


@pytest.fixture
async def without_pgvector(spare_database: str) -> AsyncIterator[str]:
    """The spare database without the vector extension (put back afterwards)."""
    engine = create_engine(make_settings(database_url=spare_database))
    try:
        async with engine.begin() as connection:
            await connection.execute(text("DROP EXTENSION IF EXISTS vector CASCADE"))
        yield spare_database
        async with engine.begin() as connection:
            await connection.execute(text("CREATE EXTENSION IF NOT EXISTS vector"))
    finally:
        await engine.dispose()


async def test_the_service_refuses_to_start_without_the_vector_extension_and_names_it(
    settings: Settings, serve: Serve, without_pgvector: str
) -> None:
    elsewhere = settings.model_copy(update={"database_url": without_pgvector})

    with pytest.raises(MissingExtensionError, match=r"extension 'vector' \(pgvector\)"):
        async with serve(create_app(elsewhere)):
            pass


async def test_keyword_search_reads_query_syntax_as_words_and_needs_not_all_of_them(
    session: AsyncSession, settings: Settings
) -> None:
    document = Document(
        collection="manuals", title="Pumps", media_type="text/plain", content_hash="0" * 64
    )
    chunk = Chunk(document=document, position=0, text="Bleed the pump: open & close", token_count=7)
    session.add(chunk)
    await session.flush()
    index = PostgresChunkIndex()
    embedding = [1.0] * settings.embedding_dimensions
    await index.add(session, [IndexedChunk(chunk.id, chunk.text, embedding)])

    found = {
        query: await index.keyword(session, query, k=5, collection="manuals", owner_id=None)
        for query in ["pump & !(", "'bleed' <-> :* | \\", "bleed the valve", "&|!():*", ""]
    }

    assert [hit.chunk_id for hit in found["pump & !("]] == [chunk.id]
    assert [hit.chunk_id for hit in found["'bleed' <-> :* | \\"]] == [chunk.id]
    assert [hit.chunk_id for hit in found["bleed the valve"]] == [chunk.id]  # no valve in it
    assert found["&|!():*"] == []
    assert found[""] == []
