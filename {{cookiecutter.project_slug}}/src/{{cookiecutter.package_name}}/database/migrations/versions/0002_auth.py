{% set jwt = cookiecutter.auth in ["jwt", "jwt_and_api_key"] %}
{% set api_keys = cookiecutter.auth in ["api_key", "jwt_and_api_key"] %}
{% if cookiecutter.auth == "jwt" %}
"""Authentication: users' password hashes and their login sessions.
{% elif cookiecutter.auth == "api_key" %}
"""Authentication: API keys.
{% else %}
"""Authentication: users' password hashes, their login sessions, and API keys.
{% endif %}

Revision ID: 0002_auth
Revises: 0001_core
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_auth"
down_revision: str | Sequence[str] | None = "0001_core"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
{% if api_keys %}
    # Roles are stored as plain strings (no database enum): the new "service" role needs
    # no change to the users table.
{% endif %}
{% if jwt %}
    with op.batch_alter_table("users") as users:
        users.add_column(sa.Column("password_hash", sa.String(length=255), nullable=True))

    op.create_table(
        "login_sessions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("refresh_jti", sa.Uuid(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_login_sessions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_sessions")),
    )
    op.create_index(op.f("ix_login_sessions_created_at"), "login_sessions", ["created_at"])
    op.create_index(op.f("ix_login_sessions_user_id"), "login_sessions", ["user_id"])
{% endif %}
{% if api_keys %}
{% if jwt %}

{% endif %}
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("prefix", sa.String(length=32), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_api_keys_owner_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("prefix", name=op.f("uq_api_keys_prefix")),
    )
    op.create_index(op.f("ix_api_keys_created_at"), "api_keys", ["created_at"])
    op.create_index(op.f("ix_api_keys_owner_id"), "api_keys", ["owner_id"])
{% endif %}


def downgrade() -> None:
{% if api_keys %}
    op.drop_table("api_keys")
{% endif %}
{% if jwt %}
    op.drop_table("login_sessions")
    with op.batch_alter_table("users") as users:
        users.drop_column("password_hash")
{% endif %}
