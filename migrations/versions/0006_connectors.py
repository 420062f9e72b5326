"""connectors and their deliveries

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 22:37:00.900219
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "connectors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False, comment="github, gitlab or gerrit"),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column(
            "secret",
            sa.String(length=500),
            nullable=False,
            comment="AES-GCM sealed under LEARNLOOP_SECRET_KEY (connectors.crypto)",
        ),
        sa.Column(
            "signing_token",
            sa.String(length=1000),
            nullable=True,
            comment="GitLab's signing token, sealed like secret",
        ),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_connectors_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connectors")),
    )
    with op.batch_alter_table("connectors", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_connectors_store_id"), ["store_id"], unique=False)

    op.create_table(
        "connector_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("connector_id", sa.Integer(), nullable=False),
        sa.Column(
            "delivery_id",
            sa.String(length=200),
            nullable=False,
            comment="the forge's id of the delivery",
        ),
        sa.Column("event", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False, comment="stored or ignored"),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("statement_ids", sa.Text(), nullable=False, comment="JSON array"),
        sa.Column(
            "received_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["connector_id"],
            ["connectors.id"],
            name=op.f("fk_connector_deliveries_connector_id_connectors"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_connector_deliveries_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connector_deliveries")),
        sa.UniqueConstraint(
            "connector_id",
            "delivery_id",
            name=op.f("uq_connector_deliveries_connector_id_delivery_id"),
        ),
    )
    with op.batch_alter_table("connector_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_connector_deliveries_store_id"), ["store_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("connector_deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_connector_deliveries_store_id"))
    op.drop_table("connector_deliveries")
    with op.batch_alter_table("connectors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_connectors_store_id"))
    op.drop_table("connectors")
