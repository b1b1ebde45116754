-- Recomputes the risk profile of the users whose daily spend changed, by merging their daily
-- aggregates (a few hundred rows per user, never their transactions): counts, sums and sums of
-- squares add up, maxima combine, and the shortest gap is the least of the gaps inside days
-- and the gaps between one active day's last and the next one's first transaction.
CREATE TEMP TABLE risk_scope ON COMMIT DROP AS
SELECT DISTINCT user_id
FROM daily_spend_changes
WHERE change_id > %(after)s AND change_id <= %(up_to)s;

DELETE FROM user_risk_profile WHERE user_id IN (SELECT user_id FROM risk_scope);

INSERT INTO user_risk_profile (
    user_id, tx_count, total_spend, mean_amount, stddev_amount, volatility_index,
    global_whale_rank, max_single_transaction, shortest_gap_minutes, first_transaction_at,
    last_transaction_at, active_days, tx_per_active_day, tx_last_24h
)
WITH days AS (
    SELECT d.*,
           extract(epoch FROM d.first_at - lag(d.last_at) OVER (
               PARTITION BY d.user_id ORDER BY d.spend_date
           )) AS gap_from_previous_day
    FROM user_daily_spend AS d
    WHERE d.user_id IN (SELECT user_id FROM risk_scope)
),
merged AS (
    SELECT user_id,
           sum(tx_count) AS tx_count,
           sum(total_amount) AS total_spend,
           sum(sum_squares) AS sum_squares,
           max(max_amount) AS max_amount,
           least(min(min_gap_seconds), min(gap_from_previous_day)) AS shortest_gap_seconds,
           min(first_at) AS first_at,
           max(last_at) AS last_at,
           count(*) AS active_days
    FROM days
    GROUP BY user_id
),
stats AS (
    SELECT *,
           total_spend / tx_count AS mean,
           sqrt(greatest(sum_squares / tx_count - (total_spend / tx_count) ^ 2, 0)) AS stddev
    FROM merged
)
SELECT user_id, tx_count, total_spend, round(mean, 2), round(stddev, 2),
       CASE WHEN mean = 0 THEN 0 ELSE round(stddev / mean, 2) END,
       0,  -- ranked below, over all users
       max_amount, shortest_gap_seconds / 60.0, first_at, last_at, active_days,
       round(tx_count::numeric / active_days, 2),
       0   -- counted below
FROM stats;
