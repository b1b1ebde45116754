-- The days being rebuilt leave user_daily_spend whole; each user who had rows on them changed.
WITH removed AS (
    DELETE FROM user_daily_spend WHERE spend_date = ANY(%(days)s)
    RETURNING user_id, spend_date
)
INSERT INTO changed_users (user_id, changed_from)
SELECT user_id, min(spend_date) FROM removed GROUP BY user_id;
