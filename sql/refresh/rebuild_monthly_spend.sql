-- The months of the rebuilt days, merged again from user_daily_spend (every day of each such
-- month, so a month row is always whole). Runs in the day rebuild's transaction.
DELETE FROM user_monthly_spend
WHERE month = ANY(
    SELECT DISTINCT date_trunc('month', day)::date FROM unnest(%(days)s::date[]) AS day
);
WITH months AS (
    SELECT DISTINCT date_trunc('month', day)::date AS month
    FROM unnest(%(days)s::date[]) AS day
)
INSERT INTO user_monthly_spend (user_id, month, tx_count, total_amount, min_amount, max_amount)
SELECT d.user_id, m.month, sum(d.tx_count), sum(d.total_amount), min(d.min_amount),
       max(d.max_amount)
FROM months AS m
JOIN user_daily_spend AS d
  ON d.spend_date >= m.month AND d.spend_date < (m.month + interval '1 month')::date
GROUP BY d.user_id, m.month
-- A user's months side by side on disk: a summary over years then reads a few pages, not one
-- page per month (a full rebuild writes every month; an append adds a month at the end).
ORDER BY d.user_id, m.month;
