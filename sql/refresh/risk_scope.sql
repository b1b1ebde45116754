-- The users whose risk profile a refresh brings up to date (refresh_risk_profile.sql), from
-- which day, and the last day their stored profile knows.
CREATE TEMP TABLE risk_scope ON COMMIT DROP AS
SELECT c.user_id, min(c.changed_from) AS changed_from,
       (r.last_transaction_at AT TIME ZONE 'UTC')::date AS known_last_day
FROM changed_users AS c
LEFT JOIN user_risk_profile AS r ON r.user_id = c.user_id
GROUP BY c.user_id, r.last_transaction_at;

ANALYZE risk_scope;
