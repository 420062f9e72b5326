"""health checks, after-action reviews, mentoring and insight (issue 20)

Revision ID: 0026
Revises: 0025
"""

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def _store(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["store_id"], ["stores.id"], name=f"fk_{table}_store_id_stores", ondelete="CASCADE"
    )


def _person(table: str, column: str = "person_id") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], ["people.id"], name=f"fk_{table}_{column}_people", ondelete="CASCADE"
    )


def _aar(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["aar_id"],
        ["after_action_reviews.id"],
        name=f"fk_{table}_aar_id_after_action_reviews",
        ondelete="CASCADE",
    )


def _check(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["check_id"],
        ["health_checks.id"],
        name=f"fk_{table}_check_id_health_checks",
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.add_column(
        "reviews", sa.Column("rating", sa.SmallInteger(), nullable=True, comment="outcome, 1-5")
    )
    op.create_table(
        "feedback_settings",
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column(
            "k", sa.Integer(), nullable=False, comment="smallest group whose results are shown"
        ),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        _store("feedback_settings"),
        sa.PrimaryKeyConstraint("store_id", name="pk_feedback_settings"),
    )
    op.create_table(
        "health_checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column(
            "lead_id", sa.Integer(), nullable=False, comment="the team is the lead and reports"
        ),
        sa.Column(
            "kind", sa.String(10), nullable=False, comment="squad (traffic lights) or pulse (1-5)"
        ),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("questions", sa.Text(), nullable=False, comment="JSON list of {key, label}"),
        sa.Column("opens_on", sa.Date(), nullable=False),
        sa.Column("closes_on", sa.Date(), nullable=False, comment="last day answers are taken"),
        sa.Column("closed_ms", sa.BigInteger(), nullable=True, comment="closed early by the lead"),
        sa.Column("cycle_id", sa.Integer(), nullable=True, comment="the initiative it pulses"),
        sa.Column("template_id", sa.Integer(), nullable=True),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("closes_on >= opens_on", name="ck_health_checks_window_in_order"),
        _store("health_checks"),
        _person("health_checks", "lead_id"),
        sa.ForeignKeyConstraint(
            ["cycle_id"],
            ["review_cycles.id"],
            name="fk_health_checks_cycle_id_review_cycles",
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["objective_templates.id"],
            name="fk_health_checks_template_id_objective_templates",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_health_checks"),
    )
    op.create_index("ix_health_checks_lead", "health_checks", ["store_id", "lead_id", "opens_on"])
    op.create_table(
        "health_check_members",
        sa.Column("check_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column(
            "token_hash",
            sa.String(64),
            nullable=True,
            comment="SHA-256 of the one-time participation token; NULL once spent",
        ),
        sa.Column("answered", sa.Boolean(), nullable=False),
        _check("health_check_members"),
        _person("health_check_members"),
        sa.PrimaryKeyConstraint("check_id", "person_id", name="pk_health_check_members"),
    )
    # No person, no time, a random key; WITHOUT ROWID on SQLite: nothing keeps arrival order.
    op.create_table(
        "health_answers",
        sa.Column("id", sa.String(32), nullable=False, comment="random, never ordered"),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("check_id", sa.Integer(), nullable=False),
        sa.Column("question", sa.String(40), nullable=False),
        sa.Column(
            "value", sa.SmallInteger(), nullable=False, comment="squad: 1 red 2 amber 3 green; 1-5"
        ),
        sa.Column("trend", sa.SmallInteger(), nullable=True, comment="-1 worse, 0 same, 1 better"),
        _store("health_answers"),
        _check("health_answers"),
        sa.PrimaryKeyConstraint("id", name="pk_health_answers"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_health_answers_check", "health_answers", ["check_id", "question"])
    op.create_table(
        "after_action_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("expected", sa.Text(), nullable=False, comment="what was supposed to happen"),
        sa.Column("happened", sa.Text(), nullable=False, comment="what actually happened"),
        sa.Column("went_well", sa.Text(), nullable=False, comment="what's working"),
        sa.Column("went_badly", sa.Text(), nullable=False, comment="what's not"),
        sa.Column("to_fix", sa.Text(), nullable=False, comment="needs fixin'"),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("published_ms", sa.BigInteger(), nullable=False),
        _store("after_action_reviews"),
        _person("after_action_reviews", "author_id"),
        sa.PrimaryKeyConstraint("id", name="pk_after_action_reviews"),
    )
    op.create_index(
        "ix_after_action_reviews_store", "after_action_reviews", ["store_id", "occurred_on"]
    )
    op.create_table(
        "aar_participants",
        sa.Column("aar_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        _aar("aar_participants"),
        _person("aar_participants"),
        sa.PrimaryKeyConstraint("aar_id", "person_id", name="pk_aar_participants"),
    )
    op.create_table(
        "aar_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("aar_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        _aar("aar_links"),
        sa.PrimaryKeyConstraint("id", name="pk_aar_links"),
    )
    op.create_index("ix_aar_links_aar_id", "aar_links", ["aar_id"])
    op.create_table(
        "aar_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("aar_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(300), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("objective_id", sa.Integer(), nullable=True, comment="the objective it became"),
        _store("aar_actions"),
        _aar("aar_actions"),
        _person("aar_actions", "owner_id"),
        sa.ForeignKeyConstraint(
            ["objective_id"],
            ["objectives.id"],
            name="fk_aar_actions_objective_id_objectives",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_aar_actions"),
    )
    op.create_index("ix_aar_actions_aar_id", "aar_actions", ["aar_id"])
    op.create_table(
        "aar_lessons",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("aar_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        _store("aar_lessons"),
        _aar("aar_lessons"),
        sa.PrimaryKeyConstraint("id", name="pk_aar_lessons"),
    )
    op.create_index("ix_aar_lessons_aar_id", "aar_lessons", ["aar_id"])
    op.create_table(
        "aar_citations",
        sa.Column("aar_id", sa.Integer(), nullable=False),
        sa.Column("lesson_id", sa.Integer(), nullable=False),
        _aar("aar_citations"),
        sa.ForeignKeyConstraint(
            ["lesson_id"],
            ["aar_lessons.id"],
            name="fk_aar_citations_lesson_id_aar_lessons",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("aar_id", "lesson_id", name="pk_aar_citations"),
    )
    op.create_index("ix_aar_citations_lesson_id", "aar_citations", ["lesson_id"])
    op.create_table(
        "mentoring_pairs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("mentor_id", sa.Integer(), nullable=False),
        sa.Column("mentee_id", sa.Integer(), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("mentor_id <> mentee_id", name="ck_mentoring_pairs_not_oneself"),
        _store("mentoring_pairs"),
        _person("mentoring_pairs", "mentor_id"),
        _person("mentoring_pairs", "mentee_id"),
        sa.PrimaryKeyConstraint("id", name="pk_mentoring_pairs"),
        sa.UniqueConstraint(
            "store_id",
            "mentor_id",
            "mentee_id",
            name="uq_mentoring_pairs_store_id_mentor_id_mentee_id",
        ),
    )
    op.create_table(
        "mentoring_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("pair_id", sa.Integer(), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(300), nullable=False),
        sa.Column("logged_by", sa.Integer(), nullable=False),
        sa.Column("logged_ms", sa.BigInteger(), nullable=False),
        sa.Column("confirmed_ms", sa.BigInteger(), nullable=True, comment="by the other side"),
        sa.CheckConstraint("minutes > 0", name="ck_mentoring_sessions_minutes_positive"),
        _store("mentoring_sessions"),
        sa.ForeignKeyConstraint(
            ["pair_id"],
            ["mentoring_pairs.id"],
            name="fk_mentoring_sessions_pair_id_mentoring_pairs",
            ondelete="CASCADE",
        ),
        _person("mentoring_sessions", "logged_by"),
        sa.PrimaryKeyConstraint("id", name="pk_mentoring_sessions"),
    )
    op.create_index("ix_mentoring_sessions_pair_id", "mentoring_sessions", ["pair_id"])


def downgrade() -> None:
    for table in (
        "mentoring_sessions",
        "mentoring_pairs",
        "aar_citations",
        "aar_lessons",
        "aar_actions",
        "aar_links",
        "aar_participants",
        "after_action_reviews",
        "health_answers",
        "health_check_members",
        "health_checks",
        "feedback_settings",
    ):
        op.drop_table(table)
    with op.batch_alter_table("reviews") as batch:
        batch.drop_column("rating")
