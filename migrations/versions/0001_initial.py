"""stores, credentials, statements, statement index, activities

Revision ID: 0001
Revises:
Create Date: 2026-11-27 21:41:48.269612
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stores",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stores")),
        sa.UniqueConstraint("name", name=op.f("uq_stores_name")),
    )
    op.create_table(
        "activities",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Text(), nullable=False),
        sa.Column("definition", sa.Text(), nullable=False, comment="JSON"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activities")),
        sa.UniqueConstraint(
            "store_id", "activity_id", name=op.f("uq_activities_store_id_activity_id")
        ),
    )
    op.create_table(
        "statement_index",
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("stored_ms", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("direct", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint(
            "store_id", "key", "stored_ms", "seq", name=op.f("pk_statement_index")
        ),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "statements",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("statement_id", sa.String(length=36), nullable=False, comment="lower-case UUID"),
        sa.Column(
            "stored_ms", sa.BigInteger(), nullable=False, comment="stored, ms since the epoch"
        ),
        sa.Column("voided", sa.Boolean(), nullable=False),
        sa.Column("voiding", sa.Boolean(), nullable=False, comment="verb is voided"),
        sa.Column("object_ref", sa.String(length=36), nullable=True, comment="StatementRef target"),
        sa.Column("version", sa.String(length=16), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_statements_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_statements")),
        sa.UniqueConstraint(
            "store_id", "statement_id", name=op.f("uq_statements_store_id_statement_id")
        ),
    )
    with op.batch_alter_table("statements", schema=None) as batch_op:
        batch_op.create_index(
            "ix_statements_object_ref",
            ["store_id", "object_ref"],
            unique=False,
            sqlite_where=sa.text("object_ref IS NOT NULL"),
            postgresql_where=sa.text("object_ref IS NOT NULL"),
        )
        batch_op.create_index("ix_statements_order", ["store_id", "stored_ms", "seq"], unique=False)

    op.create_table(
        "credentials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column(
            "secret_hash", sa.String(length=300), nullable=False, comment="scrypt$n$r$p$salt$hash"
        ),
        sa.Column(
            "scopes", sa.String(length=500), nullable=False, comment="space-separated xAPI scopes"
        ),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column(
            "authority", sa.Text(), nullable=False, comment="the statement authority, as JSON"
        ),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_credentials_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credentials")),
        sa.UniqueConstraint("key", name=op.f("uq_credentials_key")),
    )
    with op.batch_alter_table("credentials", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_credentials_store_id"), ["store_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("credentials", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credentials_store_id"))

    op.drop_table("credentials")
    with op.batch_alter_table("statements", schema=None) as batch_op:
        batch_op.drop_index("ix_statements_order")
        batch_op.drop_index(
            "ix_statements_object_ref",
            sqlite_where=sa.text("object_ref IS NOT NULL"),
            postgresql_where=sa.text("object_ref IS NOT NULL"),
        )

    op.drop_table("statements")
    op.drop_table("statement_index")
    op.drop_table("activities")
    op.drop_table("stores")
