-- Risk profiles of a batch of users: one primary-key lookup each. A user without a profile
-- has no row.
SELECT user_id, tx_count, total_spend, mean_amount, stddev_amount, volatility_index,
       global_whale_rank, max_single_transaction, shortest_gap_minutes,
       first_transaction_at, last_transaction_at, active_days, tx_per_active_day, tx_last_24h
FROM user_risk_profile
WHERE user_id = ANY(%(user_ids)s::integer[]);
