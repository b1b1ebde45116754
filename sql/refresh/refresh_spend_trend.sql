-- Rewrites the trend of the users whose daily spend changed, from the earliest changed day on:
-- every calendar day from then to the user's last active day, zero where nothing was spent,
-- and the 7-day moving average (the day and the 6 before, over the days that exist in the
-- user's series, as the reference computes it). Appending a day rewrites one row per user.
CREATE TEMP TABLE trend_scope ON COMMIT DROP AS
SELECT c.user_id,
       -- From the earliest changed day, or from the day after the stored series ends when the
       -- new day comes later (the days in between get their zero rows).
       least(c.changed_from, t.series_end + 1) AS changed_from,
       s.first_day, s.last_day
-- One row per user before the lookups (a user is in changed_users once per statement).
FROM (
    SELECT user_id, min(changed_from) AS changed_from FROM changed_users GROUP BY user_id
) AS c
JOIN LATERAL (
    SELECT min(spend_date) AS first_day, max(spend_date) AS last_day
    FROM user_daily_spend AS d
    WHERE d.user_id = c.user_id
) AS s ON true
JOIN LATERAL (
    SELECT max(spend_date) AS series_end FROM user_spend_trend AS t WHERE t.user_id = c.user_id
) AS t ON true;

-- Without statistics the planner would hash whole tables instead of using the primary keys.
ANALYZE trend_scope;

DELETE FROM user_spend_trend AS t
USING trend_scope AS s
WHERE t.user_id = s.user_id
  AND (t.spend_date >= s.changed_from OR s.first_day IS NULL OR t.spend_date < s.first_day);

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
           ON d.user_id = s.user_id AND d.spend_date = calendar.day::date
    WHERE s.first_day IS NOT NULL
) AS windowed
WHERE spend_date >= changed_from;
