-- trend_scope.sql for the bulk path: the new trend tables start empty, so every user's trend
-- is written from their first day to their last, both read from the slice's new risk profile
-- (a transaction's day is its timestamp's date in UTC, as finish_risk.sql reads it too).
CREATE TEMP TABLE trend_scope ON COMMIT DROP AS
SELECT user_id, first_day AS changed_from, first_day, last_day
FROM (
    SELECT user_id, (first_transaction_at AT TIME ZONE 'UTC')::date AS first_day,
           (last_transaction_at AT TIME ZONE 'UTC')::date AS last_day
    FROM user_risk_profile
) AS days;

ANALYZE trend_scope;
