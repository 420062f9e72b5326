"""covering progress index, voided statements index

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27 23:18:34.391206
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("learning_facts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_learning_facts_actor"))
        batch_op.create_index(
            "ix_learning_facts_actor",
            [
                "store_id",
                "actor_key",
                "verb_id",
                "at_ms",
                "source",
                "activity_id",
                "activity_type",
                "score",
                "success",
                "completion",
                "has_response",
                "fingerprint",
            ],
            unique=False,
        )

    with op.batch_alter_table("statements", schema=None) as batch_op:
        batch_op.create_index(
            "ix_statements_voided",
            ["store_id", "seq"],
            unique=False,
            sqlite_where=sa.text("voided"),
            postgresql_where=sa.text("voided"),
        )


def downgrade() -> None:
    with op.batch_alter_table("statements", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_statements_voided",
            sqlite_where=sa.text("voided"),
            postgresql_where=sa.text("voided"),
        )

    with op.batch_alter_table("learning_facts", schema=None) as batch_op:
        batch_op.drop_index("ix_learning_facts_actor")
        batch_op.create_index(
            batch_op.f("ix_learning_facts_actor"),
            ["store_id", "actor_key", "verb_id", "at_ms"],
            unique=False,
        )
