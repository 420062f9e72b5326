"""notifications, email and inbox (issue 21)

Revision ID: 0024
Revises: 0023
"""

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

# A 64-bit id that is SQLite's rowid alias (lrs.models.Seq).
Seq = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _fk(table: str, column: str, referred: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        [f"{referred}.id"],
        name=op.f(f"fk_{table}_{column}_{referred}"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column("id", Seq, autoincrement=True, nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False, comment="objective.met, review.due, ..."),
        sa.Column(
            "title", sa.String(400), nullable=False, comment="one line, as the inbox shows it"
        ),
        sa.Column(
            "data", sa.Text(), nullable=False, comment="JSON: the names and ids the templates use"
        ),
        sa.Column("link", sa.String(500), nullable=False, comment="path of the page it is about"),
        sa.Column("dedupe", sa.String(200), nullable=True),
        sa.Column("created_ms", sa.BigInteger(), nullable=False, comment="ms since the epoch, UTC"),
        sa.Column("read_ms", sa.BigInteger(), nullable=True),
        sa.Column("held", sa.Boolean(), nullable=False, comment="for the weekly digest"),
        sa.Column("digested_ms", sa.BigInteger(), nullable=True),
        _fk("notifications", "store_id", "stores"),
        _fk("notifications", "person_id", "people"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint(
            "store_id",
            "person_id",
            "dedupe",
            name=op.f("uq_notifications_store_id_person_id_dedupe"),
        ),
    )
    op.create_index("ix_notifications_inbox", "notifications", ["store_id", "person_id", "id"])
    op.create_table(
        "notification_preferences",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(12), nullable=False, comment="immediately, digest, off"),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        _fk("notification_preferences", "person_id", "people"),
        _fk("notification_preferences", "store_id", "stores"),
        sa.PrimaryKeyConstraint("person_id", "kind", name=op.f("pk_notification_preferences")),
    )
    op.create_table(
        "chat_hooks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("manager_id", sa.Integer(), nullable=False),
        sa.Column("flavor", sa.String(10), nullable=False, comment="slack or teams"),
        sa.Column(
            "url_sealed", sa.Text(), nullable=False, comment="lrs.sealing, context chat:<id>"
        ),
        sa.Column("url_host", sa.String(300), nullable=False, comment="shown on the admin page"),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        _fk("chat_hooks", "store_id", "stores"),
        _fk("chat_hooks", "manager_id", "people"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_hooks")),
        sa.UniqueConstraint(
            "store_id",
            "manager_id",
            "flavor",
            name=op.f("uq_chat_hooks_store_id_manager_id_flavor"),
        ),
    )


def downgrade() -> None:
    op.drop_table("chat_hooks")
    op.drop_table("notification_preferences")
    op.drop_index("ix_notifications_inbox", table_name="notifications")
    op.drop_table("notifications")
