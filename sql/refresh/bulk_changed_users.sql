-- The new risk profile starts empty: every user's is built from their first day (the trend's
-- users come from bulk_trend_scope.sql).
INSERT INTO changed_users (user_id, changed_from)
SELECT user_id, min(spend_date) FROM user_daily_spend GROUP BY user_id;
