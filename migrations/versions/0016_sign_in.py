"""sign in (issue 14): per-store sign-in settings (passwords, OpenID Connect) and email domains

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 05:45:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sign_in_settings",
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column(
            "password_enabled",
            sa.Boolean(),
            nullable=False,
            comment="false: pages and POST /api/tokens refuse passwords",
        ),
        sa.Column(
            "oidc_issuer",
            sa.String(length=500),
            nullable=True,
            comment="https issuer; its /.well-known/openid-configuration is read",
        ),
        sa.Column("oidc_client_id", sa.String(length=500), nullable=True),
        sa.Column(
            "oidc_client_secret",
            sa.Text(),
            nullable=True,
            comment="AES-GCM sealed under LEARNLOOP_SECRET_KEY (directory.sign_in.services)",
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_sign_in_settings_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("store_id", name=op.f("pk_sign_in_settings")),
    )
    op.create_table(
        "sign_in_domains",
        sa.Column("domain", sa.String(length=253), nullable=False, comment="lower-case"),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False, comment="order shown"),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_sign_in_domains_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("domain", name=op.f("pk_sign_in_domains")),
    )
    op.create_index(
        op.f("ix_sign_in_domains_store_id"), "sign_in_domains", ["store_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_sign_in_domains_store_id"), table_name="sign_in_domains")
    op.drop_table("sign_in_domains")
    op.drop_table("sign_in_settings")
