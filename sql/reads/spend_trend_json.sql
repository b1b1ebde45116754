-- The spend trend over a range of days as the JSON array the API returns, built by PostgreSQL
-- the way the refresh renders user_spend_trend_months (a whole trend is read from there):
-- dates as ISO text, amounts with their two decimals (10.00, and 0.00 for a day without
-- spend), JSON numbers that every client reads as floats, as the response model documents.
SELECT '[' || coalesce(
    string_agg(
        '{"spend_date":"' || to_char(spend_date, 'YYYY-MM-DD')
                || '","daily_total":' || round(daily_total, 2)
                || ',"rolling_7d_avg":' || round(rolling_7d_avg, 2) || '}',
        ',' ORDER BY spend_date
    ),
    ''
) || ']'
FROM user_spend_trend
WHERE user_id = %(user_id)s
  AND spend_date >= coalesce(%(start_date)s::date, '-infinity'::date)
  AND spend_date <= coalesce(%(end_date)s::date, 'infinity'::date);
