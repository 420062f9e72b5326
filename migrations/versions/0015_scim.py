"""scim: bearer tokens per store, the SCIM view of people, groups (issue 14)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 05:45:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def _stamps() -> list[sa.Column]:
    return [
        sa.Column("version", sa.Integer(), nullable=False, comment="bumped by every SCIM write"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "scim_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False, comment="e.g. Okta, Entra ID"),
        sa.Column("token_hash", sa.String(64), nullable=False, comment="SHA-256, hex"),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_scim_tokens_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scim_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_scim_tokens_token_hash")),
    )
    op.create_index(op.f("ix_scim_tokens_store_id"), "scim_tokens", ["store_id"])
    op.create_table(
        "scim_users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scim_id", sa.String(36), nullable=False, comment="the SCIM id, a UUID"),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column(
            "user_name", sa.String(320), nullable=False, comment="lower-case, unique per store"
        ),
        sa.Column("external_id", sa.String(300), nullable=True),
        sa.Column(
            "attributes", sa.Text(), nullable=False, comment="the other attributes sent, as JSON"
        ),
        *_stamps(),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_scim_users_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_scim_users_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scim_users")),
        sa.UniqueConstraint("scim_id", name=op.f("uq_scim_users_scim_id")),
        sa.UniqueConstraint("person_id", name=op.f("uq_scim_users_person_id")),
        sa.UniqueConstraint("store_id", "user_name", name=op.f("uq_scim_users_store_id_user_name")),
    )
    op.create_index("ix_scim_users_external_id", "scim_users", ["store_id", "external_id"])
    op.create_table(
        "scim_groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scim_id", sa.String(36), nullable=False, comment="the SCIM id, a UUID"),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("display_name", sa.String(300), nullable=False),
        sa.Column("external_id", sa.String(300), nullable=True),
        sa.Column(
            "attributes", sa.Text(), nullable=False, comment="the other attributes sent, as JSON"
        ),
        *_stamps(),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_scim_groups_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scim_groups")),
        sa.UniqueConstraint("scim_id", name=op.f("uq_scim_groups_scim_id")),
    )
    op.create_index("ix_scim_groups_store", "scim_groups", ["store_id", "display_name"])
    op.create_table(
        "scim_group_members",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("display", sa.String(300), nullable=True, comment="as the provider sent it"),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["scim_groups.id"],
            name=op.f("fk_scim_group_members_group_id_scim_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_scim_group_members_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("group_id", "person_id", name=op.f("pk_scim_group_members")),
    )
    op.create_index(op.f("ix_scim_group_members_person_id"), "scim_group_members", ["person_id"])


def downgrade() -> None:
    op.drop_table("scim_group_members")
    op.drop_table("scim_groups")
    op.drop_table("scim_users")
    op.drop_table("scim_tokens")
