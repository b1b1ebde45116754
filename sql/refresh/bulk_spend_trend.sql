-- The trend of every user of a bulk refresh's slice (the worker's transaction sees only the
-- days it wrote), from their first active day to their last: the same rows as
-- rewrite_spend_trend.sql (every calendar day, zero where nothing was spent, and the 7-day
-- moving average over the days of the series), but the calendar comes from the days
-- themselves. Each active day is followed by the idle days up to the user's next, so the days
-- are sorted once and joined to nothing; the tests hold both statements to the same tables.
INSERT INTO user_spend_trend (user_id, spend_date, daily_total, rolling_7d_avg)
SELECT user_id, spend_date, daily_total,
       round(avg(daily_total) OVER (
           PARTITION BY user_id ORDER BY spend_date
           ROWS BETWEEN 6 PRECEDING AND CURRENT ROW
       ), 2)
FROM (
    SELECT user_id, spend_date + days_after AS spend_date,
           CASE WHEN days_after = 0 THEN total_amount ELSE 0.00 END AS daily_total
    FROM (
        -- days_after: 0 for the active day itself, then 1, 2, ... for the idle days after it.
        SELECT user_id, spend_date, total_amount,
               generate_series(0, coalesce(
                   lead(spend_date) OVER (PARTITION BY user_id ORDER BY spend_date)
                   - spend_date - 1,
                   0
               )) AS days_after
        FROM user_daily_spend
    ) AS active_days
) AS calendar;
