-- Users whose trend skips a calendar day between their first and last day (expected: none).
SELECT user_id, count(*) AS rows, max(spend_date) - min(spend_date) + 1 AS days
FROM user_spend_trend
GROUP BY user_id
HAVING count(*) <> max(spend_date) - min(spend_date) + 1
ORDER BY user_id
LIMIT 20;
