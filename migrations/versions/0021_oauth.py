"""OAuth 2.0 client credentials on the xAPI endpoint (issue 17)

Revision ID: 0021
Revises: 0020
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "oauth_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("credential_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, comment="SHA-256, hex"),
        sa.Column("scopes", sa.String(500), nullable=False, comment="space-separated xAPI scopes"),
        sa.Column("issued_ms", sa.BigInteger(), nullable=False),
        sa.Column("expires_ms", sa.BigInteger(), nullable=False),
        sa.Column("revoked_ms", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["credential_id"],
            ["credentials.id"],
            name=op.f("fk_oauth_tokens_credential_id_credentials"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oauth_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_oauth_tokens_token_hash")),
    )
    op.create_index(
        op.f("ix_oauth_tokens_credential_id"), "oauth_tokens", ["credential_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_oauth_tokens_credential_id"), table_name="oauth_tokens")
    op.drop_table("oauth_tokens")
