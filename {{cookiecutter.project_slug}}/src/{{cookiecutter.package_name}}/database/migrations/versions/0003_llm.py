"""LLM calls: one row per call of the LLM endpoints, for the usage totals.

Revision ID: 0003_llm
Revises: {{ "0002_auth" if cookiecutter.auth != "none" else "0001_core" }}
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_llm"
down_revision: str | Sequence[str] | None = {{ '"0002_auth"' if cookiecutter.auth != "none" else '"0001_core"' }}
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "llm_requests",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("caller", sa.String(length=255), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=True),
        sa.Column("model", sa.String(length=100), nullable=True),
        sa.Column("input_tokens", sa.Integer(), nullable=False),
        sa.Column("output_tokens", sa.Integer(), nullable=False),
        sa.Column("cache_read_tokens", sa.Integer(), nullable=False),
        sa.Column("cache_write_tokens", sa.Integer(), nullable=False),
        sa.Column("cost", sa.Double(), nullable=False),
        sa.Column("duration_ms", sa.Double(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error_code", sa.String(length=64), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("cached", sa.Boolean(), nullable=False),
        sa.Column("streamed", sa.Boolean(), nullable=False),
        sa.Column("fallback_from", sa.JSON(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_llm_requests")),
    )
    op.create_index(op.f("ix_llm_requests_created_at"), "llm_requests", ["created_at"])
    op.create_index(op.f("ix_llm_requests_day"), "llm_requests", ["day"])
    op.create_index(op.f("ix_llm_requests_request_id"), "llm_requests", ["request_id"])
    op.create_index("ix_llm_requests_caller_day", "llm_requests", ["caller", "day"])


def downgrade() -> None:
    # Dropping the table drops its indexes too.
    op.drop_table("llm_requests")
