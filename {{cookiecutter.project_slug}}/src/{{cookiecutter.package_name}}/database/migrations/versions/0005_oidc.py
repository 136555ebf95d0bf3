"""OpenID Connect: users' accounts at providers, and the sign-ins begun there.

Revision ID: 0005_oidc
Revises: {{ "0004_conversations" if cookiecutter.llm != "none" else "0002_auth" }}
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_oidc"
down_revision: str | Sequence[str] | None = {{ '"0004_conversations"' if cookiecutter.llm != "none" else '"0002_auth"' }}
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "oidc_identities",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_oidc_identities_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oidc_identities")),
    )
    op.create_index(op.f("ix_oidc_identities_created_at"), "oidc_identities", ["created_at"])
    op.create_index(
        "ix_oidc_identities_provider_subject",
        "oidc_identities",
        ["provider", "subject"],
        unique=True,
    )
    op.create_index(op.f("ix_oidc_identities_user_id"), "oidc_identities", ["user_id"])

    op.create_table(
        "oidc_login_states",
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("code_verifier", sa.String(length=128), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("state_hash", name=op.f("pk_oidc_login_states")),
    )
    op.create_index(op.f("ix_oidc_login_states_expires_at"), "oidc_login_states", ["expires_at"])


def downgrade() -> None:
    op.drop_table("oidc_login_states")
    op.drop_table("oidc_identities")
