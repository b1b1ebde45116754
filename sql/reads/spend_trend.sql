-- A user's daily totals and 7-day moving average in date order, optionally within a range of
-- days (both ends inclusive): a range scan of the (user_id, spend_date) primary key.
SELECT spend_date, daily_total, rolling_7d_avg
FROM user_spend_trend
WHERE user_id = %(user_id)s
  AND spend_date >= coalesce(%(start_date)s::date, '-infinity'::date)
  AND spend_date <= coalesce(%(end_date)s::date, 'infinity'::date)
ORDER BY spend_date;
