"""Each day's transaction times in user_daily_spend, so no refresh reads `transactions` by day
for the risk profile's 24-hour count (a big upload's rows lie in transaction_id order, so the
date's BRIN index cannot narrow such a read, and it grew with the table).

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE user_daily_spend ADD COLUMN transaction_times timestamptz[];
        -- Filled by the next refresh: every day is queued, so it takes the bulk path and
        -- rebuilds them all at once.
        INSERT INTO analytics_pending_days (spend_date, upload_id)
        SELECT DISTINCT spend_date, 'migration-0006' FROM user_daily_spend;
        """
    )


def downgrade() -> None:
    op.execute("ALTER TABLE user_daily_spend DROP COLUMN transaction_times;")
