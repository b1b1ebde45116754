"""Per-user monthly spend: a coarser copy of user_daily_spend for long summaries.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        -- Per user and calendar month, the daily figures merged (counts and totals add up,
        -- minima and maxima combine). A summary over years reads a few hundred of these plus
        -- the days of the two months its range cuts, instead of thousands of days.
        CREATE TABLE user_monthly_spend (
            user_id       integer NOT NULL,
            month         date NOT NULL CHECK (month = date_trunc('month', month)::date),
            tx_count      bigint NOT NULL,
            total_amount  numeric(18, 2) NOT NULL,
            min_amount    numeric(10, 2) NOT NULL,
            max_amount    numeric(10, 2) NOT NULL,
            PRIMARY KEY (user_id, month)
        );
        CREATE INDEX user_monthly_spend_month_idx ON user_monthly_spend (month);
        INSERT INTO user_monthly_spend
        SELECT user_id, date_trunc('month', spend_date)::date, sum(tx_count),
               sum(total_amount), min(min_amount), max(max_amount)
        FROM user_daily_spend
        GROUP BY 1, 2
        ORDER BY 1, 2;
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE user_monthly_spend;")
