"""LTI connection checks (issue 15): what the latest launch of a registration carried, roster log

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 06:15:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("lti_registrations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("last_launch_ms", sa.BigInteger(), nullable=True, comment="the latest launch")
        )
        batch_op.add_column(
            sa.Column(
                "last_launch",
                sa.Text(),
                nullable=True,
                comment="what the latest launch carried: message type, AGS scopes, NRPS, whether "
                "name and email were shared (JSON; lti.checks)",
            )
        )
        batch_op.add_column(
            sa.Column(
                "privacy_warning_ms",
                sa.BigInteger(),
                nullable=True,
                comment="when a launch without name or email was first seen; null once both "
                "came again",
            )
        )
        batch_op.add_column(
            sa.Column(
                "privacy_dismissed_ms",
                sa.BigInteger(),
                nullable=True,
                comment="when an admin dismissed that warning",
            )
        )

    op.create_table(
        "lti_roster_loads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("registration_id", sa.Integer(), nullable=False),
        sa.Column("context_pk", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(10), nullable=False, comment="loaded, failed"),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_lti_roster_loads_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["lti_registrations.id"],
            name=op.f("fk_lti_roster_loads_registration_id_lti_registrations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["context_pk"],
            ["lti_contexts.id"],
            name=op.f("fk_lti_roster_loads_context_pk_lti_contexts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lti_roster_loads")),
    )
    op.create_index(
        "ix_lti_roster_loads_registration", "lti_roster_loads", ["registration_id", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_lti_roster_loads_registration", table_name="lti_roster_loads")
    op.drop_table("lti_roster_loads")
    with op.batch_alter_table("lti_registrations", schema=None) as batch_op:
        batch_op.drop_column("privacy_dismissed_ms")
        batch_op.drop_column("privacy_warning_ms")
        batch_op.drop_column("last_launch")
        batch_op.drop_column("last_launch_ms")
