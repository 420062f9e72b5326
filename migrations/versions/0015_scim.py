"""scim (issue 14); filled in by the work that needs it

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 05:45:00
"""

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
