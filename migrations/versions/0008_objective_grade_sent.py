"""objective grade sent

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 23:03:11.641356
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("objectives", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "grade_posted_at",
                sa.DateTime(timezone=True),
                nullable=True,
                comment="when the LMS gradebook received the met score",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("objectives", schema=None) as batch_op:
        batch_op.drop_column("grade_posted_at")
