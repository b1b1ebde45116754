-- The calendar days before the latest active day of the users in scope (for the 24-hour count).
SELECT min(last_transaction_at AT TIME ZONE 'UTC')::date - 1 AS previous_from,
       max(last_transaction_at AT TIME ZONE 'UTC')::date - 1 AS previous_to
FROM user_risk_profile
WHERE user_id IN (SELECT user_id FROM risk_scope);
