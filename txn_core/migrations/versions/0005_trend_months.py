"""The spend trend pre-rendered as the API's JSON, a month of days per row.

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        -- A user's full trend is thousands of days; building their JSON objects on every request
        -- costs several times joining a few hundred stored months. `body` holds the month's
        -- days as JSON objects, comma-separated and in date order, without the brackets.
        CREATE TABLE user_spend_trend_months (
            user_id  integer NOT NULL,
            month    date NOT NULL CHECK (month = date_trunc('month', month)::date),
            body     text NOT NULL,
            PRIMARY KEY (user_id, month)
        );
        -- One day of the trend as the API's JSON object: dates as ISO text, amounts with their
        -- two decimals (JSON numbers, as the response model documents them). The refresh's
        -- rendering and the read of a range both use it. A single SQL expression, declared
        -- STABLE like to_char, so PostgreSQL inlines it into the query that calls it.
        CREATE FUNCTION trend_day_json(day date, daily_total numeric, rolling_7d_avg numeric)
        RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS $$
            SELECT '{"spend_date":"' || to_char(day, 'YYYY-MM-DD')
                   || '","daily_total":' || round(daily_total, 2)
                   || ',"rolling_7d_avg":' || round(rolling_7d_avg, 2) || '}'
        $$;
        INSERT INTO user_spend_trend_months
        SELECT user_id, date_trunc('month', spend_date)::date,
               string_agg(
                   trend_day_json(spend_date, daily_total, rolling_7d_avg), ',' ORDER BY spend_date
               )
        FROM user_spend_trend
        GROUP BY 1, 2
        ORDER BY 1, 2;
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE user_spend_trend_months; DROP FUNCTION trend_day_json;")
