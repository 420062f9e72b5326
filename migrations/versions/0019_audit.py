"""Audit trail of administrative actions (issue 16): who, what, when, from where

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 07:45:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

# A 64-bit id that is SQLite's rowid alias (lrs.models.Seq).
Seq = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("id", Seq, autoincrement=True, nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=True, comment="null: instance-wide"),
        sa.Column(
            "occurred_at_ms", sa.BigInteger(), nullable=False, comment="ms since the epoch, UTC"
        ),
        sa.Column(
            "actor_kind",
            sa.String(20),
            nullable=False,
            comment="account, credential, scim, lms, command_line, anonymous",
        ),
        sa.Column(
            "actor_id",
            sa.String(200),
            nullable=False,
            comment="account id, credential key, SCIM token id, os user@host",
        ),
        sa.Column("actor_label", sa.String(400), nullable=False, comment="who, in words"),
        sa.Column(
            "address",
            sa.String(100),
            nullable=False,
            comment="client IP after trusted proxies, or 'command line'",
        ),
        sa.Column("action", sa.String(100), nullable=False, comment="dotted: credential.revoked"),
        sa.Column("target_kind", sa.String(50), nullable=False),
        sa.Column("target_id", sa.String(200), nullable=False),
        sa.Column("target_label", sa.String(400), nullable=False),
        sa.Column("details", sa.Text(), nullable=False, comment="JSON; never secrets"),
        sa.Column("request_id", sa.String(128), nullable=True),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_audit_events_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    op.create_index("ix_audit_events_store_order", "audit_events", ["store_id", "id"])
    op.create_index("ix_audit_events_store_action", "audit_events", ["store_id", "action", "id"])


def downgrade() -> None:
    op.drop_index("ix_audit_events_store_action", table_name="audit_events")
    op.drop_index("ix_audit_events_store_order", table_name="audit_events")
    op.drop_table("audit_events")
