"""The refresh queue: days that received rows wait in the warehouse until the analytics fold
them in; aggregates that cannot overflow; means kept exact.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        -- Every load appends the days it added rows to, in the transaction of the rows
        -- themselves; a refresh folds them in and deletes exactly the entries it read, in its
        -- own transaction. No crash, retry or date outside the daily partitions can lose one.
        -- Append-only: loaders never wait on a refresh, and a refresh never deletes an entry
        -- that committed after it looked.
        CREATE TABLE analytics_pending_days (
            entry_id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            spend_date  date NOT NULL,
            upload_id   text NOT NULL,
            queued_at   timestamptz NOT NULL DEFAULT now()
        );

        -- What the change log had not yet applied everywhere, and any day whose daily spend
        -- disagrees with its transactions (days outside the partitions were never refreshed).
        INSERT INTO analytics_pending_days (spend_date, upload_id)
        SELECT DISTINCT spend_date, 'migration-0004' FROM daily_spend_changes
        WHERE change_id > (SELECT min(last_change_id) FROM analytics_watermarks)
        UNION
        SELECT coalesce(f.day, d.day), 'migration-0004'
        FROM (
            SELECT transaction_date AS day, count(*) AS n, sum(transaction_amount) AS total
            FROM transactions GROUP BY 1
        ) AS f
        FULL JOIN (
            SELECT spend_date AS day, sum(tx_count) AS n, sum(total_amount) AS total
            FROM user_daily_spend GROUP BY 1
        ) AS d ON d.day = f.day
        WHERE (f.n, f.total) IS DISTINCT FROM (d.n, d.total);

        DROP TABLE daily_spend_changes, analytics_watermarks;

        -- Uploads are found by id (a dropped file's id comes from its name, size and mtime).
        DROP INDEX uploads_landing_key_idx;

        -- Sums over many rows may exceed any fixed precision the contract's amounts allow.
        ALTER TABLE user_daily_spend
            ALTER COLUMN tx_count TYPE bigint,
            ALTER COLUMN total_amount TYPE numeric;
        ALTER TABLE user_monthly_spend ALTER COLUMN total_amount TYPE numeric;
        ALTER TABLE user_spend_trend
            ALTER COLUMN daily_total TYPE numeric,
            ALTER COLUMN rolling_7d_avg TYPE numeric;
        -- The mean is exact (total / count); rounding belongs to the pages.
        ALTER TABLE user_risk_profile
            ALTER COLUMN total_spend TYPE numeric,
            ALTER COLUMN mean_amount TYPE numeric,
            ALTER COLUMN stddev_amount TYPE numeric,
            ALTER COLUMN tx_per_active_day TYPE numeric,
            ALTER COLUMN active_days TYPE bigint,
            ALTER COLUMN tx_last_24h TYPE bigint;
        UPDATE user_risk_profile SET mean_amount = total_spend / tx_count;
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE analytics_pending_days;
        CREATE INDEX uploads_landing_key_idx ON uploads (landing_key);
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
        """
    )
