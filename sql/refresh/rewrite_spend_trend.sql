-- Rewrites the trend of the users in trend_scope from their changed day on: every calendar day
-- from then to the user's last active day, zero where nothing was spent, and the 7-day moving
-- average (the day and the 6 before, over the days that exist in the user's series, as the
-- reference computes it). Appending a day rewrites one row per user.
-- `earliest`, the scope's earliest changed day as a constant, tells the planner how little of
-- the tables a small refresh touches: the per-user bounds alone read as a third of them.
DELETE FROM user_spend_trend AS t
USING trend_scope AS s
WHERE t.user_id = s.user_id
  AND t.spend_date >= s.changed_from
  AND t.spend_date >= %(earliest)s;

INSERT INTO user_spend_trend (user_id, spend_date, daily_total, rolling_7d_avg)
SELECT user_id, spend_date, daily_total, rolling_7d_avg
FROM (
    SELECT s.user_id, calendar.day::date AS spend_date, s.changed_from, s.first_day,
           coalesce(d.total_amount, 0.00) AS daily_total,
           round(avg(coalesce(d.total_amount, 0.00)) OVER (
               PARTITION BY s.user_id ORDER BY calendar.day
               ROWS BETWEEN 6 PRECEDING AND CURRENT ROW
           ), 2) AS rolling_7d_avg
    FROM trend_scope AS s
    CROSS JOIN LATERAL generate_series(
        greatest(s.first_day, s.changed_from - 6), s.last_day, interval '1 day'
    ) AS calendar(day)
    LEFT JOIN user_daily_spend AS d
           ON d.user_id = s.user_id
          AND d.spend_date = calendar.day::date
          AND d.spend_date >= %(earliest)s::date - 6
    WHERE s.first_day IS NOT NULL
) AS windowed
WHERE spend_date >= changed_from;
