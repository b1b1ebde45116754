-- A user's risk profile: one primary-key lookup.
SELECT user_id, tx_count, total_spend, mean_amount, stddev_amount, volatility_index,
       global_whale_rank, max_single_transaction, shortest_gap_minutes,
       first_transaction_at, last_transaction_at, active_days, tx_per_active_day, tx_last_24h
FROM user_risk_profile
WHERE user_id = %(user_id)s;
