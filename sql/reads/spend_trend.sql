-- A user's daily totals and 7-day moving average in date order, optionally within a range of
-- days (both ends inclusive): a range scan of the (user_id, spend_date) primary key, or the
-- same rows from the user's days while a bulk refresh builds them (user_spend_trend_of).
SELECT spend_date, daily_total, rolling_7d_avg
FROM user_spend_trend_of(%(user_id)s)
WHERE spend_date >= coalesce(%(start_date)s::date, '-infinity'::date)
  AND spend_date <= coalesce(%(end_date)s::date, 'infinity'::date)
ORDER BY spend_date;
