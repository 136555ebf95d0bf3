"""The chunk index on SQLite: sqlite-vec for embeddings, FTS5 for words, in the same file.

Python's own ``sqlite3`` cannot load extensions on every build (pyenv's and some
distributions' leave it out), so the engine connects through ``sqlean`` (the same
module, with a current SQLite that can) and loads sqlite-vec into every connection.
The tables and the triggers that keep them in step with ``chunks`` are made by
migration ``0006_rag``.
"""

import re
from collections.abc import Sequence
from functools import partial
from typing import Any
from uuid import UUID

import aiosqlite
import sqlean  # type: ignore[import-untyped]  # ships no type information
import sqlite_vec  # type: ignore[import-untyped]  # nor does this one
from sqlalchemy import make_url, text
from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_dbapi
from sqlalchemy.ext.asyncio import AsyncSession

from {{ cookiecutter.package_name }}.database.chunk_index import Hit, IndexedChunk

# Words of a query: letters and digits (linear time); at most this many are searched.
WORD = re.compile(r"\w+")
MAX_QUERY_WORDS = 32
NO_OWNER = ""
DBAPI_ERRORS = (
    "DatabaseError",
    "DataError",
    "Error",
    "IntegrityError",
    "InterfaceError",
    "InternalError",
    "NotSupportedError",
    "OperationalError",
    "ProgrammingError",
    "sqlite_version",
    "sqlite_version_info",
)

NEAREST = text(
    "SELECT v.chunk_id, v.distance FROM chunk_index_vectors AS v "
    "JOIN chunks AS c ON c.id = v.chunk_id "
    "WHERE v.embedding MATCH :embedding AND v.k = :k "
    "AND v.collection = :collection AND v.owner = :owner "
    "ORDER BY v.distance"
)
KEYWORD = text(
    "SELECT c.id, bm25(chunk_index_text) AS rank FROM chunk_index_text "
    "JOIN chunks AS c ON c.id = chunk_index_text.rowid "
    "JOIN documents AS d ON d.id = c.document_id "
    "WHERE chunk_index_text MATCH :query AND d.collection = :collection "
    "AND coalesce(d.owner_id, '') = :owner "
    "ORDER BY rank LIMIT :k"
)
ADD = text(
    "INSERT INTO chunk_index_vectors (chunk_id, collection, owner, embedding) "
    "SELECT c.id, d.collection, coalesce(d.owner_id, ''), :embedding "
    "FROM chunks AS c JOIN documents AS d ON d.id = c.document_id WHERE c.id = :chunk_id"
)


def _connect(database: str, timeout: float) -> sqlean.Connection:
    """A connection with sqlite-vec loaded; runs in aiosqlite's thread."""
    connection = sqlean.connect(database, timeout=timeout, check_same_thread=False)
    connection.enable_load_extension(True)
    connection.load_extension(sqlite_vec.loadable_path())
    connection.enable_load_extension(False)
    return connection


def sqlite_driver(database_url: str, timeout: float) -> dict[str, Any]:
    """Options for ``create_async_engine``: aiosqlite over ``sqlean``, with sqlite-vec.

    Its errors are ``sqlean``'s: SQLAlchemy is told, so that it wraps them as usual
    (a constraint violation is still an ``IntegrityError``).
    """
    dbapi = AsyncAdapt_aiosqlite_dbapi(aiosqlite, sqlean)
    for name in DBAPI_ERRORS:
        setattr(dbapi, name, getattr(sqlean, name))
    database = make_url(database_url).database or ":memory:"

    def connect() -> aiosqlite.Connection:
        connection = aiosqlite.Connection(partial(_connect, database, timeout), iter_chunk_size=64)
        # A daemon thread, as SQLAlchemy makes its own: it never holds up the exit.
        connection._thread.daemon = True
        return connection

    return {"module": dbapi, "async_creator": connect}


def _owner(owner_id: UUID | None) -> str:
    # SQLAlchemy stores a UUID on SQLite as its 32 hexadecimal digits.
    return NO_OWNER if owner_id is None else owner_id.hex


def match_expression(query: str) -> str | None:
    """``query``'s words as an FTS5 query that any of them matches, each quoted: the
    caller's text is never read as query syntax. None when it has no words.
    """
    words = WORD.findall(query)[:MAX_QUERY_WORDS]
    return " OR ".join(f'"{word}"' for word in words) or None


class SqliteChunkIndex:
    async def add(self, session: AsyncSession, rows: Sequence[IndexedChunk]) -> None:
        if rows:
            vectors = [
                {"chunk_id": row.chunk_id, "embedding": sqlite_vec.serialize_float32(row.embedding)}
                for row in rows
            ]
            await session.execute(ADD, vectors)

    async def nearest(
        self,
        session: AsyncSession,
        embedding: Sequence[float],
        *,
        k: int,
        collection: str,
        owner_id: UUID | None,
    ) -> list[Hit]:
        result = await session.execute(
            NEAREST,
            {
                "embedding": sqlite_vec.serialize_float32(embedding),
                "k": k,
                "collection": collection,
                "owner": _owner(owner_id),
            },
        )
        return [Hit(chunk_id, 1 - distance) for chunk_id, distance in result.all()]

    async def keyword(
        self,
        session: AsyncSession,
        query: str,
        *,
        k: int,
        collection: str,
        owner_id: UUID | None,
    ) -> list[Hit]:
        expression = match_expression(query)
        if expression is None:
            return []
        result = await session.execute(
            KEYWORD,
            {"query": expression, "k": k, "collection": collection, "owner": _owner(owner_id)},
        )
        # bm25 is lower for better matches.
        return [Hit(chunk_id, -rank) for chunk_id, rank in result.all()]
