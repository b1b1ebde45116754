-- Months of the given days whose user_monthly_spend rows do not merge their user_daily_spend
-- rows (expected: none).
WITH months AS (
    SELECT DISTINCT date_trunc('month', day)::date AS month
    FROM unnest(%(days)s::date[]) AS day
),
from_days AS (
    SELECT d.user_id, m.month, sum(d.tx_count) AS tx_count, sum(d.total_amount) AS total,
           min(d.min_amount) AS low, max(d.max_amount) AS high
    FROM months AS m
    JOIN user_daily_spend AS d
      ON d.spend_date >= m.month AND d.spend_date < (m.month + interval '1 month')::date
    GROUP BY d.user_id, m.month
),
stored AS (
    SELECT s.user_id, s.month, s.tx_count, s.total_amount AS total, s.min_amount AS low,
           s.max_amount AS high
    FROM user_monthly_spend AS s
    JOIN months AS m USING (month)
)
SELECT DISTINCT coalesce(f.month, s.month) AS month
FROM from_days AS f
FULL JOIN stored AS s ON s.user_id = f.user_id AND s.month = f.month
WHERE (f.tx_count, f.total, f.low, f.high) IS DISTINCT FROM (s.tx_count, s.total, s.low, s.high)
ORDER BY 1;
