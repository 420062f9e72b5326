"""attachment data, once per store and sha2

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 22:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "attachments",
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("sha2", sa.String(length=128), nullable=False, comment="lower-case hex"),
        sa.Column("content_type", sa.String(length=255), nullable=False),
        sa.Column("length", sa.BigInteger(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_attachments_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("store_id", "sha2", name=op.f("pk_attachments")),
    )


def downgrade() -> None:
    op.drop_table("attachments")
