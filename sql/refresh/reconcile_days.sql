-- Days whose per-user spend does not add up to their transactions (expected: none), over the
-- users of one slice, low <= user_id < high (NULL: no bound; bounded in a bulk refresh's workers).
WITH facts AS (
    SELECT transaction_date AS day, count(*) AS tx_count, sum(transaction_amount) AS total
    FROM transactions
    WHERE transaction_date = ANY(%(days)s)
      AND (%(low)s::integer IS NULL OR user_id >= %(low)s)
      AND (%(high)s::integer IS NULL OR user_id < %(high)s)
    GROUP BY transaction_date
),
rolled_up AS (
    SELECT spend_date AS day, sum(tx_count) AS tx_count, sum(total_amount) AS total
    FROM user_daily_spend
    WHERE spend_date = ANY(%(days)s)
      AND (%(low)s::integer IS NULL OR user_id >= %(low)s)
      AND (%(high)s::integer IS NULL OR user_id < %(high)s)
    GROUP BY spend_date
)
SELECT coalesce(f.day, r.day) AS day, f.tx_count, f.total, r.tx_count, r.total
FROM facts AS f
FULL JOIN rolled_up AS r ON r.day = f.day
WHERE f.tx_count IS DISTINCT FROM r.tx_count OR f.total IS DISTINCT FROM r.total
ORDER BY 1;
