"""The PostgreSQL server that ``rag`` bakes on PostgreSQL run their suites on."""

from __future__ import annotations

import psycopg


def test_pgvector_server_creates_the_vector_extension_and_compares_vectors(
    pgvector_admin_url: str,
) -> None:
    with psycopg.connect(pgvector_admin_url, autocommit=True) as connection:
        connection.execute("CREATE EXTENSION IF NOT EXISTS vector")
        row = connection.execute("SELECT '[1, 0]'::vector <=> '[0, 1]'::vector").fetchone()

    assert row == (1.0,)  # cosine distance of orthogonal vectors
