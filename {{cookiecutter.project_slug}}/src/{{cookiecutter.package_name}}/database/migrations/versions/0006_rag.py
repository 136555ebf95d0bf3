{% set oidc = cookiecutter.oidc_signin == "yes" %}
"""Retrieval: documents, their chunks, and the chunks' embeddings and keyword index.

The embeddings' dimension is ``EMBEDDING_DIMENSIONS`` when this migration runs (the
environment passes it in ``config.attributes``): changing it later means a new
migration and embedding every chunk again (docs/rag.md).

Revision ID: 0006_rag
Revises: {{ "0005_oidc" if oidc else "0004_conversations" }}
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

revision: str = "0006_rag"
down_revision: str | Sequence[str] | None = {{ '"0005_oidc"' if oidc else '"0004_conversations"' }}
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
{% if cookiecutter.database == "postgresql" %}

MAX_INDEXED_DIMENSIONS = 2000
{% endif %}


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("collection", sa.String(length=64), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("media_type", sa.String(length=64), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "processing",
                "ready",
                "failed",
                name="document_status",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("chunk_count", sa.Integer(), nullable=False),
{% if cookiecutter.redis == "yes" %}
        sa.Column("pending_text", sa.Text(), nullable=True),
{% endif %}
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["users.id"],
            name=op.f("fk_documents_owner_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
    )
    op.create_index(
        "ix_documents_collection_owner_id_title", "documents", ["collection", "owner_id", "title"]
    )
    op.create_index(op.f("ix_documents_created_at"), "documents", ["created_at"])
    op.create_index(op.f("ix_documents_owner_id"), "documents", ["owner_id"])

    op.create_table(
        "chunks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("token_count", sa.Integer(), nullable=False),
        sa.Column("heading", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_chunks_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chunks")),
        sa.UniqueConstraint("document_id", "position", name=op.f("uq_chunks_document_id")),
    )

    dimensions = int(context.config.attributes["embedding_dimensions"])
{% if cookiecutter.database == "sqlite" %}
    # sqlite-vec: a flat index, scanned in C, partitioned by collection; the owner is a
    # metadata column, filtered during the scan. '' stands for no owner.
    op.execute(
        "CREATE VIRTUAL TABLE chunk_index_vectors USING vec0("
        "chunk_id INTEGER PRIMARY KEY, collection TEXT PARTITION KEY, owner TEXT, "
        f"embedding FLOAT[{dimensions}] distance_metric=cosine)"
    )
    # FTS5 over the chunks' own text (external content: no second copy), kept in step
    # by triggers; deleting a chunk (or its document, or its owner) deletes its vector.
    op.execute(
        "CREATE VIRTUAL TABLE chunk_index_text USING fts5("
        "text, content='chunks', content_rowid='id', tokenize='porter unicode61')"
    )
    op.execute(
        "CREATE TRIGGER chunks_indexed AFTER INSERT ON chunks BEGIN "
        "INSERT INTO chunk_index_text (rowid, text) VALUES (new.id, new.text); END"
    )
    op.execute(
        "CREATE TRIGGER chunks_unindexed AFTER DELETE ON chunks BEGIN "
        "INSERT INTO chunk_index_text (chunk_index_text, rowid, text) "
        "VALUES ('delete', old.id, old.text); "
        "DELETE FROM chunk_index_vectors WHERE chunk_id = old.id; END"
    )
{% elif cookiecutter.database == "postgresql" %}
    if dimensions > MAX_INDEXED_DIMENSIONS:
        msg = (
            f"EMBEDDING_DIMENSIONS={dimensions}: pgvector's HNSW index takes at most "
            f"{MAX_INDEXED_DIMENSIONS} dimensions (choose a model or a dimension within it)"
        )
        raise ValueError(msg)
    # Needs a role that may create it, unless an administrator already has; the service
    # refuses to start without it (database/chunk_index_postgresql.py).
    op.execute("CREATE EXTENSION IF NOT EXISTS vector")
    # The embeddings and the words of each chunk, with the document's collection and
    # owner for the filters; deleting a chunk (or its document, or its owner) deletes them.
    op.execute(
        "CREATE TABLE chunk_index_vectors ("
        "chunk_id integer PRIMARY KEY REFERENCES chunks (id) ON DELETE CASCADE, "
        "collection varchar(64) NOT NULL, owner_id uuid, "
        f"embedding vector({dimensions}) NOT NULL)"
    )
    op.execute(
        "CREATE INDEX ix_chunk_index_vectors_embedding ON chunk_index_vectors "
        "USING hnsw (embedding vector_cosine_ops)"
    )
    op.execute(
        "CREATE INDEX ix_chunk_index_vectors_collection ON chunk_index_vectors "
        "(collection, owner_id)"
    )
    op.execute(
        "CREATE TABLE chunk_index_text ("
        "chunk_id integer PRIMARY KEY REFERENCES chunks (id) ON DELETE CASCADE, "
        "collection varchar(64) NOT NULL, owner_id uuid, keywords tsvector NOT NULL)"
    )
    op.execute("CREATE INDEX ix_chunk_index_text_keywords ON chunk_index_text USING gin (keywords)")
{% endif %}


def downgrade() -> None:
{% if cookiecutter.database == "sqlite" %}
    op.execute("DROP TRIGGER chunks_unindexed")
    op.execute("DROP TRIGGER chunks_indexed")
    op.execute("DROP TABLE chunk_index_text")
    op.execute("DROP TABLE chunk_index_vectors")
{% elif cookiecutter.database == "postgresql" %}
    # The extension stays: other schemas may use it, and dropping it needs its owner.
    op.execute("DROP TABLE chunk_index_text")
    op.execute("DROP TABLE chunk_index_vectors")
{% endif %}
    op.drop_table("chunks")
    op.drop_table("documents")
