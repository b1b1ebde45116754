-- The bulk path's months and risk profiles, both from the slice's new daily spend in one pass
-- (the days are read and sorted once, not once per table). The days come in (user, month, day)
-- order, so the lag to the previous active day and the months' grouping share one sort; each
-- month also carries what its user's risk profile merges (as refresh_risk_profile.sql does from
-- the days), and the profiles are merged from the months. The figures derived from their sums,
-- the 24-hour counts and the whale rank come once the tables are indexed (finish_risk.sql).
-- Months are cut from timestamps without a time zone, as render_spend_trend.sql cuts them: no
-- zone lookup per day.
WITH months AS MATERIALIZED (
    SELECT user_id, month,
           sum(tx_count) AS tx_count, sum(total_amount) AS total_amount,
           min(min_amount) AS min_amount, max(max_amount) AS max_amount,
           sum(sum_squares) AS sum_squares,
           least(min(min_gap_seconds), min(gap_from_previous_day)) AS gap_seconds,
           min(first_at) AS first_at, max(last_at) AS last_at, count(*) AS active_days
    FROM (
        SELECT d.user_id, date_trunc('month', d.spend_date::timestamp)::date AS month, d.tx_count,
               d.total_amount, d.min_amount, d.max_amount, d.sum_squares, d.min_gap_seconds,
               d.first_at, d.last_at,
               extract(epoch FROM d.first_at - lag(d.last_at) OVER (
                   PARTITION BY d.user_id
                   ORDER BY date_trunc('month', d.spend_date::timestamp)::date, d.spend_date
               )) AS gap_from_previous_day
        FROM user_daily_spend AS d
    ) AS days
    GROUP BY user_id, month
),
monthly AS (
    -- In (user, month) order, as the months come: a user's months side by side on disk.
    INSERT INTO user_monthly_spend
        (user_id, month, tx_count, total_amount, min_amount, max_amount)
    SELECT user_id, month, tx_count, total_amount, min_amount, max_amount FROM months
),
merged AS (
    SELECT user_id, sum(tx_count) AS tx_count, sum(total_amount) AS total_spend,
           sum(sum_squares) AS sum_squares, max(max_amount) AS max_amount,
           min(gap_seconds) AS shortest_gap_seconds, min(first_at) AS first_at,
           max(last_at) AS last_at, sum(active_days) AS active_days
    FROM months
    GROUP BY user_id
)
INSERT INTO user_risk_profile (
    user_id, tx_count, total_spend, mean_amount, stddev_amount, sum_squares, volatility_index,
    global_whale_rank, max_single_transaction, shortest_gap_minutes, first_transaction_at,
    last_transaction_at, active_days, tx_per_active_day, tx_last_24h
)
-- The figures derived from these (zero here) and the 24-hour count come in finish_risk.sql.
SELECT user_id, tx_count, total_spend, 0, 0, sum_squares, 0, 0, max_amount,
       shortest_gap_seconds / 60.0, first_at, last_at, active_days, 0, 0
FROM merged;
