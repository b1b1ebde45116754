-- trend_scope.sql for the bulk path: the new trend tables start empty, so every user's trend
-- is written from their first day, found in one pass over the new daily spend (which has no
-- index yet for the per-user lookups of trend_scope.sql).
CREATE TEMP TABLE trend_scope ON COMMIT DROP AS
SELECT user_id, min(spend_date) AS changed_from, min(spend_date) AS first_day,
       max(spend_date) AS last_day
FROM user_daily_spend
GROUP BY user_id;

ANALYZE trend_scope;
