-- The spend trend over a range of days as the JSON array the API returns, built by PostgreSQL
-- day by day as the refresh renders user_spend_trend_months (a whole trend is read from
-- there): trend_day_json, defined with that table. The days are the user's stored trend, or
-- the same rows from their days while a bulk refresh builds them (user_spend_trend_of).
SELECT '[' || coalesce(
    string_agg(trend_day_json(spend_date, daily_total, rolling_7d_avg), ',' ORDER BY spend_date),
    ''
) || ']'
FROM user_spend_trend_of(%(user_id)s)
WHERE spend_date >= coalesce(%(start_date)s::date, '-infinity'::date)
  AND spend_date <= coalesce(%(end_date)s::date, 'infinity'::date);
