"""objectives

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 22:28:25.771565
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "learning_facts",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column(
            "actor_key", sa.BigInteger(), nullable=False, comment="index key of the actor's IFI"
        ),
        sa.Column("verb_id", sa.Text(), nullable=False),
        sa.Column("activity_id", sa.Text(), nullable=True),
        sa.Column("activity_type", sa.Text(), nullable=True),
        sa.Column(
            "source",
            sa.String(length=30),
            nullable=False,
            comment="lms, code_review, microlearning, xapi",
        ),
        sa.Column(
            "at_ms", sa.BigInteger(), nullable=False, comment="timestamp, ms since the epoch"
        ),
        sa.Column("score", sa.Float(), nullable=True, comment="scaled score, or raw/max"),
        sa.Column("success", sa.Boolean(), nullable=True),
        sa.Column("completion", sa.Boolean(), nullable=True),
        sa.Column("has_response", sa.Boolean(), nullable=False),
        sa.Column("fingerprint", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_learning_facts")),
    )
    with op.batch_alter_table("learning_facts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_learning_facts_actor", ["store_id", "actor_key", "verb_id", "at_ms"], unique=False
        )
        batch_op.create_index(
            "ix_learning_facts_actor_time", ["store_id", "actor_key", "at_ms"], unique=False
        )

    op.create_table(
        "objective_templates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("rule", sa.String(length=20), nullable=False, comment="all, any or k_of_n"),
        sa.Column("k", sa.Integer(), nullable=True),
        sa.Column("criteria", sa.Text(), nullable=False, comment="JSON list of criteria"),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_objective_templates_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_objective_templates")),
    )
    with op.batch_alter_table("objective_templates", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_objective_templates_store_id"), ["store_id"], unique=False
        )

    op.create_table(
        "projection_cursors",
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_projection_cursors_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("store_id", name=op.f("pk_projection_cursors")),
    )
    op.create_table(
        "review_cycles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_review_cycles_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_cycles")),
    )
    with op.batch_alter_table("review_cycles", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_review_cycles_store_id"), ["store_id"], unique=False)

    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column(
            "email", sa.String(length=320), nullable=False, comment="lower-case; the sign-in name"
        ),
        sa.Column(
            "password_hash", sa.String(length=300), nullable=True, comment="scrypt; None: LTI only"
        ),
        sa.Column("is_admin", sa.Boolean(), nullable=False),
        sa.Column("session_epoch", sa.Integer(), nullable=False, comment="bump to sign out all"),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_accounts_person_id_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_accounts_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("store_id", "email", name=op.f("uq_accounts_store_id_email")),
    )
    op.create_table(
        "reporting_lines",
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("manager_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["manager_id"],
            ["people.id"],
            name=op.f("fk_reporting_lines_manager_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_reporting_lines_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_reporting_lines_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_reporting_lines")),
    )
    with op.batch_alter_table("reporting_lines", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reporting_lines_manager_id"), ["manager_id"], unique=False
        )

    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False, comment="draft…closed"),
        sa.Column("manager_comment", sa.Text(), nullable=False),
        sa.Column("reviewer_comment", sa.Text(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["cycle_id"],
            ["review_cycles.id"],
            name=op.f("fk_reviews_cycle_id_review_cycles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_reviews_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_reviews_store_id_stores"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reviews")),
        sa.UniqueConstraint("cycle_id", "person_id", name=op.f("uq_reviews_cycle_id_person_id")),
    )
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reviews_person_id"), ["person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_reviews_store_id"), ["store_id"], unique=False)

    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_api_tokens_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_tokens_account_id"), ["account_id"], unique=False)

    op.create_table(
        "objectives",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("template_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("rule", sa.String(length=20), nullable=False),
        sa.Column("k", sa.Integer(), nullable=True),
        sa.Column("criteria", sa.Text(), nullable=False, comment="JSON list of criteria"),
        sa.Column("satisfied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("satisfied_statement_id", sa.String(length=36), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["review_id"],
            ["reviews.id"],
            name=op.f("fk_objectives_review_id_reviews"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_objectives_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["objective_templates.id"],
            name=op.f("fk_objectives_template_id_objective_templates"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_objectives")),
    )
    with op.batch_alter_table("objectives", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_objectives_review_id"), ["review_id"], unique=False)

    op.create_table(
        "review_grants",
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_review_grants_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["review_id"],
            ["reviews.id"],
            name=op.f("fk_review_grants_review_id_reviews"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("review_id", "person_id", name=op.f("pk_review_grants")),
    )


def downgrade() -> None:
    op.drop_table("review_grants")
    with op.batch_alter_table("objectives", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_objectives_review_id"))

    op.drop_table("objectives")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_tokens_account_id"))

    op.drop_table("api_tokens")
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reviews_store_id"))
        batch_op.drop_index(batch_op.f("ix_reviews_person_id"))

    op.drop_table("reviews")
    with op.batch_alter_table("reporting_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reporting_lines_manager_id"))

    op.drop_table("reporting_lines")
    op.drop_table("accounts")
    with op.batch_alter_table("review_cycles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_cycles_store_id"))

    op.drop_table("review_cycles")
    op.drop_table("projection_cursors")
    with op.batch_alter_table("objective_templates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_objective_templates_store_id"))

    op.drop_table("objective_templates")
    with op.batch_alter_table("learning_facts", schema=None) as batch_op:
        batch_op.drop_index("ix_learning_facts_actor_time")
        batch_op.drop_index("ix_learning_facts_actor")

    op.drop_table("learning_facts")
