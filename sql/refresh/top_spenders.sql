-- A small preview for the UI: the biggest spenders and their risk numbers.
SELECT global_whale_rank, user_id, total_spend, tx_count, volatility_index
FROM user_risk_profile
ORDER BY global_whale_rank, user_id
LIMIT %(limit)s;
