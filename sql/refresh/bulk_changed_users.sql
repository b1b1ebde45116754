-- The new trend tables start empty: every user's trend and risk profile are rebuilt from
-- their first day.
DELETE FROM changed_users;
INSERT INTO changed_users (user_id, changed_from)
SELECT user_id, min(spend_date) FROM user_daily_spend GROUP BY user_id;
