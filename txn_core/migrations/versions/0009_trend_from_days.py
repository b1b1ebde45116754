"""A user's trend computed from their days, for the moments it is not stored.

A bulk refresh commits its daily spend and risk profiles with the trend still to build (its
rows take a quarter of the refresh), so that a big upload is readable sooner; its workers build
the trend right after. Until a user's rows are there, `user_spend_trend_of` answers from the
days, the same rows. Both functions are single SQL queries, declared STABLE and not STRICT, so
PostgreSQL inlines them into the query that calls them: a filter on the user reaches the index
scan of the days.

Revision ID: 0009
Revises: 0008
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        -- The trend of `for_users` from user_daily_spend: every calendar day from a user's
        -- first active day to their last, zero where nothing was spent, and the 7-day moving
        -- average over the days of the series. Each active day is followed by the idle days
        -- up to the user's next, so the days are sorted once and joined to nothing. The
        -- incremental path rewrites a trend from its earliest changed day instead
        -- (rewrite_spend_trend.sql); the tests hold both to the same rows.
        CREATE FUNCTION spend_trend_from_days(for_users integer[])
        RETURNS TABLE (
            user_id integer, spend_date date, daily_total numeric, rolling_7d_avg numeric
        )
        LANGUAGE sql STABLE PARALLEL SAFE AS $$
            SELECT user_id, spend_date, daily_total,
                   round(avg(daily_total) OVER (
                       PARTITION BY user_id ORDER BY spend_date
                       ROWS BETWEEN 6 PRECEDING AND CURRENT ROW
                   ), 2)
            FROM (
                SELECT user_id, spend_date + days_after AS spend_date,
                       CASE WHEN days_after = 0 THEN total_amount ELSE 0.00 END AS daily_total
                FROM (
                    -- days_after: 0 for the active day, then 1, 2, ... for the idle days after.
                    SELECT d.user_id, d.spend_date, d.total_amount,
                           generate_series(0, coalesce(
                               lead(d.spend_date) OVER (
                                   PARTITION BY d.user_id ORDER BY d.spend_date
                               ) - d.spend_date - 1,
                               0
                           )) AS days_after
                    FROM user_daily_spend AS d
                    WHERE d.user_id = ANY(for_users)
                ) AS active_days
            ) AS calendar
        $$;

        -- A user's trend as readers see it: its stored rows, or, while a bulk refresh's
        -- workers have not yet built them, the same rows from the days. The test that no row
        -- is stored runs once per query, before either branch.
        CREATE FUNCTION user_spend_trend_of(for_user integer)
        RETURNS TABLE (spend_date date, daily_total numeric, rolling_7d_avg numeric)
        LANGUAGE sql STABLE PARALLEL SAFE AS $$
            SELECT t.spend_date, t.daily_total, t.rolling_7d_avg
            FROM user_spend_trend AS t
            WHERE t.user_id = for_user
            UNION ALL
            SELECT d.spend_date, d.daily_total, d.rolling_7d_avg
            FROM spend_trend_from_days(ARRAY[for_user]) AS d
            WHERE NOT EXISTS (SELECT FROM user_spend_trend AS s WHERE s.user_id = for_user)
        $$;
        """
    )


def downgrade() -> None:
    op.execute(
        "DROP FUNCTION user_spend_trend_of(integer); "
        "DROP FUNCTION spend_trend_from_days(integer[]);"
    )
