"""documents: state, activity profile and agent profile, one table

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 22:09:17
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.String(length=16),
            nullable=False,
            comment="state, activity_profile or agent_profile",
        ),
        sa.Column(
            "scope_key",
            sa.String(length=64),
            nullable=False,
            comment="SHA-256 hex of kind, activity id, agent IFI, registration",
        ),
        sa.Column("activity_id", sa.Text(), nullable=True),
        sa.Column("agent_ifi", sa.Text(), nullable=True, comment="lrs.core.agents.ifi_string"),
        sa.Column("registration", sa.String(length=36), nullable=True, comment="lower-case UUID"),
        sa.Column("document_id", sa.Text(), nullable=False, comment="stateId or profileId"),
        sa.Column("content_type", sa.Text(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column(
            "etag", sa.String(length=42), nullable=False, comment="quoted SHA-1 hex of content"
        ),
        sa.Column(
            "updated_ms", sa.BigInteger(), nullable=False, comment="updated, ms since the epoch"
        ),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_documents_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
        sa.UniqueConstraint(
            "store_id",
            "kind",
            "scope_key",
            "document_id",
            name=op.f("uq_documents_store_id_kind_scope_key_document_id"),
        ),
    )
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.create_index(
            "ix_documents_scope_updated",
            ["store_id", "kind", "scope_key", "updated_ms"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_index("ix_documents_scope_updated")

    op.drop_table("documents")
