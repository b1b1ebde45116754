-- The spend trend as the JSON array the API returns, built by PostgreSQL: a user has a row per
-- calendar day, thousands over years, and turning each into Python objects and back to JSON
-- cost ten times the range scan itself. Amounts are written with two decimals (10.00, and 0.00
-- for a day without spend): JSON numbers that every client reads as floats, as the response
-- model documents them.
SELECT coalesce(
    json_agg(
        json_build_object(
            'spend_date', spend_date,
            'daily_total', round(daily_total, 2),
            'rolling_7d_avg', round(rolling_7d_avg, 2)
        )
        ORDER BY spend_date
    ),
    '[]'
)::text
FROM user_spend_trend
WHERE user_id = %(user_id)s
  AND spend_date >= coalesce(%(start_date)s::date, '-infinity'::date)
  AND spend_date <= coalesce(%(end_date)s::date, 'infinity'::date);
