"""Analytics: per-user daily spend, the spend trend and the risk profile, with change tracking.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        -- Per user and UTC day. Everything here merges across days: counts and sums add up,
        -- minima and maxima combine, and the first/last timestamps with the shortest gap
        -- inside each day give the shortest gap overall.
        CREATE TABLE user_daily_spend (
            user_id          integer NOT NULL,
            spend_date       date NOT NULL,
            tx_count         integer NOT NULL,
            total_amount     numeric(16, 2) NOT NULL,
            min_amount       numeric(10, 2) NOT NULL,
            max_amount       numeric(10, 2) NOT NULL,
            sum_squares      numeric NOT NULL,
            first_at         timestamptz NOT NULL,
            last_at          timestamptz NOT NULL,
            min_gap_seconds  double precision,
            PRIMARY KEY (user_id, spend_date)
        );
        -- Day rebuilds replace whole days.
        CREATE INDEX user_daily_spend_date_idx ON user_daily_spend (spend_date);

        -- Every (user, day) a daily refresh rewrote, in order; the trend and the risk profile
        -- each remember how far they have read (analytics_watermarks), so each change is
        -- applied exactly once, in the same transaction that moves the watermark.
        CREATE TABLE daily_spend_changes (
            change_id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            user_id     integer NOT NULL,
            spend_date  date NOT NULL
        );
        CREATE TABLE analytics_watermarks (
            consumer        text PRIMARY KEY,
            last_change_id  bigint NOT NULL DEFAULT 0,
            refreshed_at    timestamptz
        );
        INSERT INTO analytics_watermarks (consumer)
        VALUES ('user_spend_trend'), ('user_risk_profile');

        -- Every calendar day from a user's first to last active day, zero on days without spend.
        CREATE TABLE user_spend_trend (
            user_id         integer NOT NULL,
            spend_date      date NOT NULL,
            daily_total     numeric(16, 2) NOT NULL,
            rolling_7d_avg  numeric(16, 2) NOT NULL,
            PRIMARY KEY (user_id, spend_date)
        );

        CREATE TABLE user_risk_profile (
            user_id                  integer PRIMARY KEY,
            tx_count                 bigint NOT NULL,
            total_spend              numeric(18, 2) NOT NULL,
            mean_amount              numeric(18, 2) NOT NULL,
            stddev_amount            numeric(18, 2) NOT NULL,
            sum_squares              numeric NOT NULL,
            volatility_index         numeric(10, 2) NOT NULL,
            global_whale_rank        integer NOT NULL,
            max_single_transaction   numeric(10, 2) NOT NULL,
            shortest_gap_minutes     double precision,
            first_transaction_at     timestamptz NOT NULL,
            last_transaction_at      timestamptz NOT NULL,
            active_days              integer NOT NULL,
            tx_per_active_day        numeric(12, 2) NOT NULL,
            tx_last_24h              integer NOT NULL
        );
        CREATE INDEX user_risk_profile_rank_idx ON user_risk_profile (global_whale_rank);
        """
    )


def downgrade() -> None:
    op.execute(
        "DROP TABLE user_risk_profile, user_spend_trend, analytics_watermarks, "
        "daily_spend_changes, user_daily_spend;"
    )
