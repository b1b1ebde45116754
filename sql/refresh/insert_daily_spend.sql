-- Rebuilds whole days of user_daily_spend from `transactions` (the BRIN index on the date
-- finds the days' pages). Besides count, total, min and max it keeps what merges across days:
-- the sum of squares (for the standard deviation), the first and last timestamps, the
-- shortest gap inside the day (with the neighbouring days' first/last, the gap overall) and
-- every transaction's time (the risk profile counts those in the 24 hours up to the latest).
-- A bulk refresh's workers each take a slice of the users, low <= user_id < high (NULL: no
-- bound).
WITH day_rows AS (
    SELECT user_id, transaction_date, transaction_amount, "timestamp",
           "timestamp" - lag("timestamp") OVER (
               PARTITION BY user_id, transaction_date ORDER BY "timestamp"
           ) AS gap
    FROM transactions
    WHERE transaction_date = ANY(%(days)s)
      AND (%(low)s::integer IS NULL OR user_id >= %(low)s)
      AND (%(high)s::integer IS NULL OR user_id < %(high)s)
)
INSERT INTO user_daily_spend (
    user_id, spend_date, tx_count, total_amount, min_amount, max_amount, sum_squares,
    first_at, last_at, min_gap_seconds, transaction_times
)
SELECT user_id, transaction_date, count(*), sum(transaction_amount),
       min(transaction_amount), max(transaction_amount),
       sum(transaction_amount * transaction_amount),
       min("timestamp"), max("timestamp"), extract(epoch FROM min(gap)),
       array_agg("timestamp")
FROM day_rows
GROUP BY user_id, transaction_date;
