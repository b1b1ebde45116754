-- The figures of a risk profile that come last, on both paths: those derived from its merged
-- sums and the 24-hour count, for the users in risk_scope (by the daily spend's primary key),
-- and the whale rank over everyone.

-- The mean, standard deviation (from the sum of squares), volatility (the deviation over the
-- mean) and transactions per active day; the transactions in the 24 hours up to each user's
-- latest one: all of that day's, plus the previous day's after the same time of day, counted
-- in that day's transaction_times.
WITH targets AS (
    SELECT user_id, last_transaction_at,
           (last_transaction_at AT TIME ZONE 'UTC')::date AS last_day,
           total_spend / tx_count AS mean,
           sqrt(greatest(sum_squares / tx_count - (total_spend / tx_count) ^ 2, 0)) AS stddev
    FROM user_risk_profile
    WHERE user_id IN (SELECT user_id FROM risk_scope)
)
UPDATE user_risk_profile AS r
SET mean_amount = targets.mean,
    stddev_amount = round(targets.stddev, 2),
    volatility_index = CASE
        WHEN targets.mean = 0 THEN 0 ELSE round(targets.stddev / targets.mean, 2)
    END,
    tx_per_active_day = round(r.tx_count::numeric / r.active_days, 2),
    tx_last_24h = latest.tx_count + coalesce((
        SELECT count(*) FROM unnest(previous.transaction_times) AS at
        WHERE at > targets.last_transaction_at - interval '24 hours'
    ), 0)
FROM targets
JOIN user_daily_spend AS latest
  ON latest.user_id = targets.user_id AND latest.spend_date = targets.last_day
LEFT JOIN user_daily_spend AS previous
  ON previous.user_id = targets.user_id AND previous.spend_date = targets.last_day - 1
WHERE r.user_id = targets.user_id;

-- The whale rank is global: one total changing can move everyone below it.
UPDATE user_risk_profile AS r
SET global_whale_rank = ranked.whale_rank
FROM (
    SELECT user_id, dense_rank() OVER (ORDER BY total_spend DESC) AS whale_rank
    FROM user_risk_profile
) AS ranked
WHERE ranked.user_id = r.user_id AND r.global_whale_rank IS DISTINCT FROM ranked.whale_rank;
