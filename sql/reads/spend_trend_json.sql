-- The spend trend over a range of days as the JSON array the API returns, built by PostgreSQL
-- day by day as the refresh renders user_spend_trend_months (a whole trend is read from
-- there): trend_day_json, defined with that table.
SELECT '[' || coalesce(
    string_agg(trend_day_json(spend_date, daily_total, rolling_7d_avg), ',' ORDER BY spend_date),
    ''
) || ']'
FROM user_spend_trend
WHERE user_id = %(user_id)s
  AND spend_date >= coalesce(%(start_date)s::date, '-infinity'::date)
  AND spend_date <= coalesce(%(end_date)s::date, 'infinity'::date);
