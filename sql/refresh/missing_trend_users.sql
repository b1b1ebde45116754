-- The users, within a slice (low <= user_id < high, NULL: no bound), who have days but no
-- trend rows: a bulk refresh commits before its workers build the trend, and a build that died
-- leaves them so until the next refresh builds them first (render_missing_trends).
SELECT coalesce(array_agg(r.user_id ORDER BY r.user_id), '{}')
FROM user_risk_profile AS r
WHERE (%(low)s::integer IS NULL OR r.user_id >= %(low)s)
  AND (%(high)s::integer IS NULL OR r.user_id < %(high)s)
  AND NOT EXISTS (SELECT FROM user_spend_trend AS t WHERE t.user_id = r.user_id);
