"""LTI connection checks (issue 15): what the latest launch of a registration carried

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


def downgrade() -> None:
    with op.batch_alter_table("lti_registrations", schema=None) as batch_op:
        batch_op.drop_column("privacy_dismissed_ms")
        batch_op.drop_column("privacy_warning_ms")
        batch_op.drop_column("last_launch")
        batch_op.drop_column("last_launch_ms")
