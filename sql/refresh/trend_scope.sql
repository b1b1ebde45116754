-- The users whose trend a refresh rewrites (rewrite_spend_trend.sql), and from which day.
CREATE TEMP TABLE trend_scope ON COMMIT DROP AS
SELECT c.user_id,
       -- From the earliest changed day; from the day after the stored series ends when the new
       -- day comes later (the days in between get their zero rows); from the stored series'
       -- start when the user's first day is no longer where it began (the whole series again).
       least(
           c.changed_from,
           t.series_end + 1,
           CASE WHEN s.first_day IS DISTINCT FROM t.series_start THEN t.series_start END
       ) AS changed_from,
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
    SELECT min(spend_date) AS series_start, max(spend_date) AS series_end
    FROM user_spend_trend AS t
    WHERE t.user_id = c.user_id
) AS t ON true;

-- Without statistics the planner would hash whole tables instead of using the primary keys.
ANALYZE trend_scope;
