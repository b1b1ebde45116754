"""trend_day_json writes the date with to_json instead of to_char: a bulk refresh renders 7M
days at 10M rows, and to_char, which reads its format string on every call, was a sixth of
that statement's time (to_json: 0.6 s less per 3.5M days). to_json writes a date as ISO text
whatever the session's DateStyle, quotes included: the same text as before, day for day.

Revision ID: 0008
Revises: 0007
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE OR REPLACE FUNCTION trend_day_json(
            day date, daily_total numeric, rolling_7d_avg numeric
        )
        RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS $$
            SELECT '{"spend_date":' || to_json(day)
                   || ',"daily_total":' || round(daily_total, 2)
                   || ',"rolling_7d_avg":' || round(rolling_7d_avg, 2) || '}'
        $$;
        """
    )


def downgrade() -> None:
    op.execute(
        """
        CREATE OR REPLACE FUNCTION trend_day_json(
            day date, daily_total numeric, rolling_7d_avg numeric
        )
        RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS $$
            SELECT '{"spend_date":"' || to_char(day, 'YYYY-MM-DD')
                   || '","daily_total":' || round(daily_total, 2)
                   || ',"rolling_7d_avg":' || round(rolling_7d_avg, 2) || '}'
        $$;
        """
    )
