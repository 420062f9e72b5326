"""erasure records and retention policies (issue 17)

Revision ID: 0022
Revises: 0021
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

# A 64-bit id that is SQLite's rowid alias (lrs.models.Seq).
Seq = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "erasure_records",
        sa.Column("id", Seq, autoincrement=True, nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column(
            "erased_at_ms", sa.BigInteger(), nullable=False, comment="ms since the epoch, UTC"
        ),
        sa.Column("actor_kind", sa.String(20), nullable=False, comment="account, command_line, …"),
        sa.Column("actor_id", sa.String(200), nullable=False, comment="account id, os user@host"),
        sa.Column("counts", sa.Text(), nullable=False, comment="JSON: rows erased per kind"),
        sa.Column(
            "identifier_hashes",
            sa.Text(),
            nullable=False,
            comment="JSON list of HMAC-SHA256 hex of each erased identity",
        ),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_erasure_records_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erasure_records")),
    )
    op.create_index("ix_erasure_records_store", "erasure_records", ["store_id", "id"])
    op.create_table(
        "retention_policies",
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("keep_months", sa.Integer(), nullable=False, comment="statements older go"),
        sa.Column(
            "keep_aggregates",
            sa.Boolean(),
            nullable=False,
            comment="learning facts (progress, met) stay when statements go",
        ),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        sa.Column("last_run_ms", sa.BigInteger(), nullable=True),
        sa.Column("last_deleted", sa.BigInteger(), nullable=False, comment="at the last run"),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_retention_policies_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("store_id", name=op.f("pk_retention_policies")),
    )

    op.create_table(
        "statement_seq_floor",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_statement_seq_floor")),
    )


def downgrade() -> None:
    op.drop_table("statement_seq_floor")
    op.drop_table("retention_policies")
    op.drop_index("ix_erasure_records_store", table_name="erasure_records")
    op.drop_table("erasure_records")
