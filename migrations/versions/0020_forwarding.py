"""statement forwarding and outbound webhooks (issue 17)

Revision ID: 0020
Revises: 0019
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

# A 64-bit id that is SQLite's rowid alias (lrs.models.Seq).
Seq = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "forward_destinations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column(
            "endpoint", sa.String(2000), nullable=False, comment="xAPI base URL, no /statements"
        ),
        sa.Column("auth", sa.String(10), nullable=False, comment="basic, oauth"),
        sa.Column(
            "username", sa.String(400), nullable=False, comment="Basic key or OAuth client id"
        ),
        sa.Column(
            "secret_sealed", sa.Text(), nullable=False, comment="lrs.sealing, context forward:<id>"
        ),
        sa.Column("token_url", sa.String(2000), nullable=False, comment="OAuth only"),
        sa.Column("scope", sa.String(400), nullable=False, comment="OAuth scope asked"),
        sa.Column("version", sa.String(16), nullable=False, comment="xAPI version sent"),
        sa.Column("state", sa.String(10), nullable=False, comment="active, paused, dead"),
        sa.Column(
            "cursor_seq",
            sa.BigInteger(),
            nullable=False,
            comment="last statements.seq this destination is past",
        ),
        sa.Column("failures", sa.Integer(), nullable=False, comment="failed attempts in a row"),
        sa.Column("next_attempt_ms", sa.BigInteger(), nullable=False, comment="backoff"),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("delivered", sa.BigInteger(), nullable=False, comment="statements accepted"),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_forward_destinations_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forward_destinations")),
        sa.UniqueConstraint("store_id", "name", name=op.f("uq_forward_destinations_store_id_name")),
    )
    op.create_index(op.f("ix_forward_destinations_store_id"), "forward_destinations", ["store_id"])
    op.create_table(
        "forward_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("destination_id", sa.Integer(), nullable=False),
        sa.Column("verb", sa.String(2000), nullable=False, comment="verb IRI, exact"),
        sa.Column("activity_prefix", sa.String(2000), nullable=False),
        sa.Column("source", sa.String(50), nullable=False, comment="xapi, lti, connector..."),
        sa.Column("actor_domain", sa.String(255), nullable=False, comment="mbox domain"),
        sa.ForeignKeyConstraint(
            ["destination_id"],
            ["forward_destinations.id"],
            name=op.f("fk_forward_rules_destination_id_forward_destinations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forward_rules")),
    )
    op.create_index(op.f("ix_forward_rules_destination_id"), "forward_rules", ["destination_id"])
    op.create_table(
        "webhook_endpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("description", sa.String(200), nullable=False),
        sa.Column("events", sa.String(400), nullable=False, comment="comma list; '': all"),
        sa.Column(
            "secret_sealed", sa.Text(), nullable=False, comment="lrs.sealing, context webhook:<id>"
        ),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_webhook_endpoints_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_endpoints")),
    )
    op.create_index(op.f("ix_webhook_endpoints_store_id"), "webhook_endpoints", ["store_id"])
    op.create_table(
        "deliveries",
        sa.Column("id", Seq, autoincrement=True, nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(10), nullable=False, comment="forward, webhook"),
        sa.Column("target_id", sa.Integer(), nullable=False, comment="destination or endpoint id"),
        sa.Column(
            "occurred_ms", sa.BigInteger(), nullable=False, comment="ms since the epoch, UTC"
        ),
        sa.Column(
            "outcome", sa.String(10), nullable=False, comment="delivered, retrying, dead, ..."
        ),
        sa.Column(
            "status", sa.Integer(), nullable=False, comment="the peer's HTTP status; 0: none"
        ),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column(
            "items", sa.Integer(), nullable=False, comment="statements in the batch; 1 event"
        ),
        sa.Column("first_seq", sa.BigInteger(), nullable=True, comment="forward: stored order"),
        sa.Column("last_seq", sa.BigInteger(), nullable=True),
        sa.Column("event_id", sa.String(100), nullable=True, comment="webhook-id"),
        sa.Column("event_type", sa.String(100), nullable=True),
        sa.Column("message", sa.Text(), nullable=False, comment="what happened, in words"),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_deliveries_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
    )
    op.create_index(
        "ix_deliveries_target", "deliveries", ["store_id", "channel", "target_id", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_deliveries_target", table_name="deliveries")
    op.drop_table("deliveries")
    op.drop_index(op.f("ix_webhook_endpoints_store_id"), table_name="webhook_endpoints")
    op.drop_table("webhook_endpoints")
    op.drop_index(op.f("ix_forward_rules_destination_id"), table_name="forward_rules")
    op.drop_table("forward_rules")
    op.drop_index(op.f("ix_forward_destinations_store_id"), table_name="forward_destinations")
    op.drop_table("forward_destinations")
