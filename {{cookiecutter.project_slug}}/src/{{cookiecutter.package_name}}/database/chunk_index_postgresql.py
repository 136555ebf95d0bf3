"""The chunk index on PostgreSQL: pgvector for embeddings, full-text search for words.

Two tables beside ``chunks`` (made by the ``0006_rag`` migration), one row per chunk,
deleted with it by their foreign keys: ``chunk_index_vectors`` holds the embedding under an
HNSW index (cosine distance), ``chunk_index_text`` the chunk's words as a ``tsvector``
(English stemming, as SQLite's porter tokenizer) under a GIN index. Both carry the
document's collection and owner, so that a search filters without a join.

A vector search lets pgvector's index scan read on (``hnsw.iterative_scan``) when the
filters drop the candidates it found first, so a small collection among large ones
still gets its ``k`` chunks. A keyword search takes the words of the caller's text
(never its query syntax) and finds the chunks with all of them; when none has them
all, those with any (PostgreSQL's ranking knows no word is rarer than another, so
any-word matches come second). Both are ranked by ``ts_rank_cd``; an any-word search
ranks at most ``MAX_ANY_WORD_CANDIDATES`` matches, so a common word costs a bounded time.
"""

import re
from collections.abc import Sequence
from uuid import UUID

import structlog
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from {{ cookiecutter.package_name }}.database.chunk_index import Hit, IndexedChunk

logger = structlog.get_logger(__name__)

WORD = re.compile(r"\w+")
MAX_QUERY_WORDS = 64
"""Words of a keyword query searched for; the rest are ignored (a bound on its cost)."""
MAX_ANY_WORD_CANDIDATES = 10_000
MIN_EF_SEARCH = 100
"""Candidates an HNSW search keeps (``hnsw.ef_search``; raised to ``k`` for larger
searches, at most 1000): pgvector's default, 40, misses more of the true nearest
chunks for a fraction of a millisecond less."""
MAX_EF_SEARCH = 1000

INDEX_VECTORS = text(
    "INSERT INTO chunk_index_vectors (chunk_id, collection, owner_id, embedding) "
    "SELECT chunks.id, documents.collection, documents.owner_id, CAST(new.embedding AS vector) "
    "FROM unnest(CAST(:chunk_ids AS integer[]), CAST(:embeddings AS text[])) "
    "AS new (chunk_id, embedding) "
    "JOIN chunks ON chunks.id = new.chunk_id "
    "JOIN documents ON documents.id = chunks.document_id"
)
INDEX_WORDS = text(
    "INSERT INTO chunk_index_text (chunk_id, collection, owner_id, keywords) "
    "SELECT chunks.id, documents.collection, documents.owner_id, "
    "to_tsvector('english', chunks.text) "
    "FROM chunks JOIN documents ON documents.id = chunks.document_id "
    "WHERE chunks.id = ANY(CAST(:chunk_ids AS integer[]))"
)
SCAN_ON = text(
    "SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true), "
    "set_config('hnsw.ef_search', :ef_search, true)"
)
# The owner's condition has two forms: "= NULL" would match nothing.
OF_OWNER = "owner_id = :owner_id"
WITHOUT_OWNER = "owner_id IS NULL"
# relaxed_order may return the k nearest slightly out of order: sorted again outside.
NEAREST = (
    "SELECT chunk_id, distance FROM ("
    "SELECT chunk_id, embedding <=> CAST(:embedding AS vector) AS distance "
    "FROM chunk_index_vectors WHERE collection = :collection AND {owner} "
    "ORDER BY distance LIMIT :k) AS nearest ORDER BY distance"
)
# websearch_to_tsquery reads "a b" as both words and "a or b" as either, and never
# fails on its input.
MATCHING = (
    "SELECT chunk_id, ts_rank_cd(keywords, query) AS rank FROM ("
    "SELECT chunk_id, keywords, query "
    "FROM chunk_index_text, websearch_to_tsquery('english', :query) AS query "
    "WHERE keywords @@ query AND collection = :collection AND {owner} "
    "LIMIT :candidates) AS matches "
    "ORDER BY rank DESC, chunk_id LIMIT :k"
)
NEAREST_OF_OWNER = text(NEAREST.format(owner=OF_OWNER))
NEAREST_WITHOUT_OWNER = text(NEAREST.format(owner=WITHOUT_OWNER))
MATCHING_OF_OWNER = text(MATCHING.format(owner=OF_OWNER))
MATCHING_WITHOUT_OWNER = text(MATCHING.format(owner=WITHOUT_OWNER))


class MissingExtensionError(RuntimeError):
    """The database lacks an extension the service needs (named in the message)."""


def vector_literal(embedding: Sequence[float]) -> str:
    """pgvector's text form of an embedding, ``[0.1,0.2]``."""
    return "[" + ",".join(str(float(value)) for value in embedding) + "]"


def words_of(query: str) -> list[str]:
    """The words of ``query`` (letters and digits), at most ``MAX_QUERY_WORDS``."""
    return WORD.findall(query)[:MAX_QUERY_WORDS]


class PostgresChunkIndex:
    async def add(self, session: AsyncSession, rows: Sequence[IndexedChunk]) -> None:
        if not rows:
            return
        chunk_ids = [row.chunk_id for row in rows]
        embeddings = [vector_literal(row.embedding) for row in rows]
        await session.execute(INDEX_VECTORS, {"chunk_ids": chunk_ids, "embeddings": embeddings})
        await session.execute(INDEX_WORDS, {"chunk_ids": chunk_ids})

    async def nearest(
        self,
        session: AsyncSession,
        embedding: Sequence[float],
        *,
        k: int,
        collection: str,
        owner_id: UUID | None,
    ) -> list[Hit]:
        ef_search = min(max(MIN_EF_SEARCH, k), MAX_EF_SEARCH)
        await session.execute(SCAN_ON, {"ef_search": str(ef_search)})
        statement = NEAREST_WITHOUT_OWNER if owner_id is None else NEAREST_OF_OWNER
        result = await session.execute(
            statement,
            {
                "embedding": vector_literal(embedding),
                "collection": collection,
                "owner_id": owner_id,
                "k": k,
            },
        )
        return [Hit(chunk_id=row.chunk_id, score=1.0 - row.distance) for row in result]

    async def keyword(
        self,
        session: AsyncSession,
        query: str,
        *,
        k: int,
        collection: str,
        owner_id: UUID | None,
    ) -> list[Hit]:
        words = words_of(query)
        if not words:
            return []
        statement = MATCHING_WITHOUT_OWNER if owner_id is None else MATCHING_OF_OWNER
        parameters = {"collection": collection, "owner_id": owner_id, "k": k}
        every_word = {**parameters, "query": " ".join(words), "candidates": None}
        result = await session.execute(statement, every_word)
        hits = [Hit(chunk_id=row.chunk_id, score=row.rank) for row in result]
        if hits or len(words) == 1:
            return hits
        any_word = {
            **parameters,
            "query": " or ".join(words),
            "candidates": MAX_ANY_WORD_CANDIDATES,
        }
        result = await session.execute(statement, any_word)
        return [Hit(chunk_id=row.chunk_id, score=row.rank) for row in result]


async def require_vector_extension(engine: AsyncEngine) -> None:
    """Refuse to start on a database without pgvector, rather than fail at the first
    document. A database that does not answer is left to the readiness check: the
    service starts without it.
    """
    try:
        async with engine.connect() as connection:
            installed = await connection.scalar(
                text("SELECT true FROM pg_extension WHERE extname = 'vector'")
            )
    except (OSError, SQLAlchemyError) as exc:
        logger.warning("vector_extension_unchecked", error=type(exc).__name__)
        return
    if not installed:
        msg = (
            "the PostgreSQL extension 'vector' (pgvector) is not installed in this database: "
            "install pgvector on the server, then run the migrations as a role that may "
            "create it (or have an administrator run CREATE EXTENSION vector)"
        )
        raise MissingExtensionError(msg)
