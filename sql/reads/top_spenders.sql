-- The biggest spenders, best first: walks the global_whale_rank index and stops at the limit.
SELECT user_id, global_whale_rank, total_spend, tx_count, volatility_index
FROM user_risk_profile
ORDER BY global_whale_rank, user_id
LIMIT %(limit)s;
