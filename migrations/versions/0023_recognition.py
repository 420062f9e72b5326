"""kudos, badges and leaderboards (issue 19)

Revision ID: 0023
Revises: 0022
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

# A 64-bit id that is SQLite's rowid alias (lrs.models.Seq).
Seq = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _store(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["store_id"], ["stores.id"], name=f"fk_{table}_store_id_stores", ondelete="CASCADE"
    )


def _person(table: str, column: str = "person_id") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], ["people.id"], name=f"fk_{table}_{column}_people", ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "recognition_settings",
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column(
            "allowance", sa.Integer(), nullable=False, comment="points per person and period"
        ),
        sa.Column("period", sa.String(10), nullable=False, comment="month or quarter (UTC)"),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        _store("recognition_settings"),
        sa.PrimaryKeyConstraint("store_id", name="pk_recognition_settings"),
    )
    op.create_table(
        "kudos_allowances",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("given", sa.Integer(), nullable=False, comment="points given in the period"),
        sa.CheckConstraint("given >= 0", name="ck_kudos_allowances_given_not_negative"),
        _person("kudos_allowances"),
        _store("kudos_allowances"),
        sa.PrimaryKeyConstraint("person_id", "period_start", name="pk_kudos_allowances"),
    )
    op.create_table(
        "kudos_wallets",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("received", sa.Integer(), nullable=False),
        sa.Column("redeemed", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "redeemed >= 0 AND redeemed <= received",
            name="ck_kudos_wallets_redeemed_within_received",
        ),
        _person("kudos_wallets"),
        _store("kudos_wallets"),
        sa.PrimaryKeyConstraint("person_id", name="pk_kudos_wallets"),
    )
    op.create_table(
        "kudos_gifts",
        sa.Column("id", Seq, autoincrement=True, nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("giver_id", sa.Integer(), nullable=False),
        sa.Column("receiver_id", sa.Integer(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column(
            "reason", sa.String(30), nullable=False, comment="help, mentoring, code-review, …"
        ),
        sa.Column("link", sa.Text(), nullable=True, comment="what it was for: an IRI"),
        sa.Column("period_start", sa.Date(), nullable=False, comment="the allowance it came from"),
        sa.Column("given_ms", sa.BigInteger(), nullable=False, comment="ms since the epoch"),
        sa.Column("statement_id", sa.String(36), nullable=False, comment="its xAPI statement"),
        sa.CheckConstraint("points > 0", name="ck_kudos_gifts_points_positive"),
        sa.CheckConstraint("giver_id <> receiver_id", name="ck_kudos_gifts_not_to_oneself"),
        _person("kudos_gifts", "giver_id"),
        _person("kudos_gifts", "receiver_id"),
        _store("kudos_gifts"),
        sa.PrimaryKeyConstraint("id", name="pk_kudos_gifts"),
    )
    op.create_index(
        "ix_kudos_gifts_receiver", "kudos_gifts", ["store_id", "receiver_id", "given_ms"]
    )
    op.create_index("ix_kudos_gifts_giver", "kudos_gifts", ["store_id", "giver_id", "given_ms"])
    op.create_table(
        "reward_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("cost", sa.Integer(), nullable=False, comment="points"),
        sa.Column("stock", sa.Integer(), nullable=False, comment="how many are left"),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("cost > 0", name="ck_reward_items_cost_positive"),
        sa.CheckConstraint("stock >= 0", name="ck_reward_items_stock_not_negative"),
        _store("reward_items"),
        sa.PrimaryKeyConstraint("id", name="pk_reward_items"),
        sa.UniqueConstraint("store_id", "name", name="uq_reward_items_store_id_name"),
    )
    op.create_table(
        "redemptions",
        sa.Column("id", Seq, autoincrement=True, nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("cost", sa.Integer(), nullable=False, comment="points, as the item cost then"),
        sa.Column("redeemed_ms", sa.BigInteger(), nullable=False),
        sa.Column("fulfilled_ms", sa.BigInteger(), nullable=True),
        sa.Column("fulfilled_by", sa.String(320), nullable=True, comment="the admin's email"),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["reward_items.id"],
            name="fk_redemptions_item_id_reward_items",
            ondelete="CASCADE",
        ),
        _person("redemptions"),
        _store("redemptions"),
        sa.PrimaryKeyConstraint("id", name="pk_redemptions"),
    )
    op.create_index("ix_redemptions_store", "redemptions", ["store_id", "fulfilled_ms", "id"])
    op.create_index("ix_redemptions_person_id", "redemptions", ["person_id"])
    op.create_table(
        "badges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("rule", sa.String(10), nullable=False, comment="all, any, k_of_n"),
        sa.Column("k", sa.Integer(), nullable=True),
        sa.Column(
            "criteria", sa.Text(), nullable=False, comment="JSON: objectives.criteria.Criterion"
        ),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        _store("badges"),
        sa.PrimaryKeyConstraint("id", name="pk_badges"),
        sa.UniqueConstraint("store_id", "name", name="uq_badges_store_id_name"),
    )
    op.create_table(
        "badge_awards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("badge_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("awarded_ms", sa.BigInteger(), nullable=False),
        sa.Column("statement_id", sa.String(36), nullable=False),
        sa.Column("credential", sa.Text(), nullable=False, comment="VC-JWT (Open Badges 3.0)"),
        sa.ForeignKeyConstraint(
            ["badge_id"], ["badges.id"], name="fk_badge_awards_badge_id_badges", ondelete="CASCADE"
        ),
        _person("badge_awards"),
        _store("badge_awards"),
        sa.PrimaryKeyConstraint("id", name="pk_badge_awards"),
        sa.UniqueConstraint("badge_id", "person_id", name="uq_badge_awards_badge_id_person_id"),
    )
    op.create_index("ix_badge_awards_person", "badge_awards", ["store_id", "person_id"])
    op.create_table(
        "badge_issuer_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("kid", sa.String(100), nullable=False),
        sa.Column("private_jwk", sa.Text(), nullable=False, comment="sealed (lrs.sealing)"),
        sa.Column("public_jwk", sa.Text(), nullable=False, comment="JSON"),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        _store("badge_issuer_keys"),
        sa.PrimaryKeyConstraint("id", name="pk_badge_issuer_keys"),
        sa.UniqueConstraint("kid", name="uq_badge_issuer_keys_kid"),
    )
    op.create_index("ix_badge_issuer_keys_store_id", "badge_issuer_keys", ["store_id"])
    op.create_table(
        "leaderboard_opt_ins",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("opted_in_ms", sa.BigInteger(), nullable=False),
        _person("leaderboard_opt_ins"),
        _store("leaderboard_opt_ins"),
        sa.PrimaryKeyConstraint("person_id", name="pk_leaderboard_opt_ins"),
    )
    op.create_index("ix_leaderboard_opt_ins_store_id", "leaderboard_opt_ins", ["store_id"])
    op.create_table(
        "badge_cursors",
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        _store("badge_cursors"),
        sa.PrimaryKeyConstraint("store_id", name="pk_badge_cursors"),
    )


def downgrade() -> None:
    op.drop_table("badge_cursors")
    op.drop_index("ix_leaderboard_opt_ins_store_id", table_name="leaderboard_opt_ins")
    op.drop_table("leaderboard_opt_ins")
    op.drop_index("ix_badge_issuer_keys_store_id", table_name="badge_issuer_keys")
    op.drop_table("badge_issuer_keys")
    op.drop_index("ix_badge_awards_person", table_name="badge_awards")
    op.drop_table("badge_awards")
    op.drop_table("badges")
    op.drop_index("ix_redemptions_person_id", table_name="redemptions")
    op.drop_index("ix_redemptions_store", table_name="redemptions")
    op.drop_table("redemptions")
    op.drop_table("reward_items")
    op.drop_index("ix_kudos_gifts_giver", table_name="kudos_gifts")
    op.drop_index("ix_kudos_gifts_receiver", table_name="kudos_gifts")
    op.drop_table("kudos_gifts")
    op.drop_table("kudos_wallets")
    op.drop_table("kudos_allowances")
    op.drop_table("recognition_settings")
