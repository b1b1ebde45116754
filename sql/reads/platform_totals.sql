-- Headline figures of the overview, from the per-user profiles (one row per user).
SELECT count(*) AS users,
       coalesce(sum(tx_count), 0)::bigint AS transactions,
       coalesce(sum(total_spend), 0) AS total_spend,
       min(first_transaction_at) AS first_transaction_at,
       max(last_transaction_at) AS last_transaction_at
FROM user_risk_profile;
