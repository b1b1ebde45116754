-- The days being rebuilt leave user_daily_spend whole; each removed (user, day) is a change.
WITH removed AS (
    DELETE FROM user_daily_spend WHERE spend_date = ANY(%(days)s)
    RETURNING user_id, spend_date
)
INSERT INTO changed_user_days (user_id, spend_date)
SELECT user_id, spend_date FROM removed;
