"""learning facts know their parent activity

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 03:08:02.140709
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("learning_facts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "parent_id",
                sa.Text(),
                nullable=True,
                comment="the first contextActivities.parent: a trail, a course",
            )
        )
    # Facts projected before knew no parent: project everything again (the worker does it on
    # its next job; satisfied objectives stay satisfied, delivered grades are not sent again).
    op.execute("DELETE FROM learning_facts")
    op.execute("UPDATE projection_cursors SET last_seq = 0")
    op.execute(
        "INSERT INTO jobs (store_id, kind, key, payload, state, attempts, run_at_ms, created_ms) "
        "SELECT c.store_id, 'statements', 'store:' || c.store_id, '{}', 'pending', 0, 0, 0 "
        "FROM projection_cursors c WHERE NOT EXISTS (SELECT 1 FROM jobs j WHERE "
        "j.kind = 'statements' AND j.key = 'store:' || c.store_id AND j.state = 'pending')"
    )


def downgrade() -> None:
    with op.batch_alter_table("learning_facts", schema=None) as batch_op:
        batch_op.drop_column("parent_id")
