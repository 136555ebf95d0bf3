"""Where chunks are found: by nearness of their embeddings, and by their words.

Chunks' text lives in the ``chunks`` table; their embeddings and their keyword index
live in structures of the database's own, which a ``ChunkIndex`` keeps and queries
(``database/chunk_index_{{ cookiecutter.database }}.py``). Every method works inside the
caller's session, so the index changes in the same transaction as the chunks.

Searches only return chunks of documents in the given collection whose owner is
``owner_id`` (None: documents without an owner, as every document is without
authentication). Adding chunks indexes them; deleting their rows (or their document's,
or its owner's) removes them from the index too: the database does it (triggers on
SQLite, foreign keys on PostgreSQL), since a cascade never shows the application
which chunks went.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

TABLE_PREFIX = "chunk_index_"
"""Every table of a chunk index starts so: no model describes them, and Alembic leaves
them out when it compares the models with the database (``migrations/env.py``)."""


@dataclass(frozen=True, slots=True)
class IndexedChunk:
    """A chunk to index: its id in ``chunks``, its text and its embedding."""

    chunk_id: int
    text: str
    embedding: Sequence[float]


@dataclass(frozen=True, slots=True)
class Hit:
    """A chunk found, and how well it matched: higher is better, comparable within a
    single search only (cosine similarity for ``nearest``, a keyword rank for ``keyword``).
    """

    chunk_id: int
    score: float


class ChunkIndex(Protocol):
    async def add(self, session: AsyncSession, rows: Sequence[IndexedChunk]) -> None:
        """Index these chunks, whose rows (and their document's) are already flushed."""
        ...

    async def nearest(
        self,
        session: AsyncSession,
        embedding: Sequence[float],
        *,
        k: int,
        collection: str,
        owner_id: UUID | None,
    ) -> list[Hit]:
        """The ``k`` chunks whose embeddings are nearest, best first."""
        ...

    async def keyword(
        self,
        session: AsyncSession,
        query: str,
        *,
        k: int,
        collection: str,
        owner_id: UUID | None,
    ) -> list[Hit]:
        """The ``k`` chunks that best match the words of ``query`` (plain text, never
        query syntax), best first; none when it has no words.
        """
        ...
