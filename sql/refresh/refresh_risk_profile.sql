-- Brings the risk profile of the users in risk_scope up to date, from daily aggregates only
-- (never their transactions). Everything in it merges: counts, sums and sums of squares add
-- up, maxima combine, and the shortest gap is the least of the gaps inside days and between
-- one active day's last and the next one's first transaction.
-- A user whose changes all come after their last known day (the daily append) has just the new
-- days folded into the stored profile; anyone else is merged again from all their days. The
-- figures derived from the sums (mean, standard deviation, volatility, transactions per active
-- day) come last, for both paths, in finish_risk.sql.
-- `earliest`, the scope's earliest changed day as a constant, lets the planner read just the
-- new days' rows for an append (the per-user bound alone reads as a third of the table): an
-- appended user has no rows between their last known day and their changed day.
WITH appended AS (
    SELECT s.user_id, s.known_last_day FROM risk_scope AS s
    WHERE s.changed_from > s.known_last_day
),
new_days AS (
    SELECT d.*,
           extract(epoch FROM d.first_at - lag(d.last_at) OVER (
               PARTITION BY d.user_id ORDER BY d.spend_date
           )) AS gap_from_previous_day
    FROM appended AS a
    JOIN user_daily_spend AS d
      ON d.user_id = a.user_id
     AND d.spend_date > a.known_last_day
     AND d.spend_date >= %(earliest)s
),
added AS (
    SELECT user_id, sum(tx_count) AS tx_count, sum(total_amount) AS total,
           sum(sum_squares) AS sum_squares, max(max_amount) AS max_amount,
           min(first_at) AS first_at, max(last_at) AS last_at, count(*) AS active_days,
           least(min(min_gap_seconds), min(gap_from_previous_day)) AS gap_seconds
    FROM new_days
    GROUP BY user_id
),
merged AS (
    SELECT r.user_id,
           r.tx_count + a.tx_count AS tx_count,
           r.total_spend + a.total AS total_spend,
           r.sum_squares + a.sum_squares AS sum_squares,
           greatest(r.max_single_transaction, a.max_amount) AS max_amount,
           least(r.shortest_gap_minutes, a.gap_seconds / 60.0,
                 extract(epoch FROM a.first_at - r.last_transaction_at) / 60.0) AS gap_minutes,
           a.last_at,
           r.active_days + a.active_days AS active_days
    FROM user_risk_profile AS r
    JOIN added AS a ON a.user_id = r.user_id
)
UPDATE user_risk_profile AS r
SET tx_count = m.tx_count,
    total_spend = m.total_spend,
    sum_squares = m.sum_squares,
    max_single_transaction = m.max_amount,
    shortest_gap_minutes = m.gap_minutes,
    last_transaction_at = m.last_at,
    active_days = m.active_days
FROM merged AS m
WHERE r.user_id = m.user_id;

DELETE FROM user_risk_profile
WHERE user_id IN (
    SELECT user_id FROM risk_scope
    WHERE known_last_day IS NULL OR changed_from <= known_last_day
);

INSERT INTO user_risk_profile (
    user_id, tx_count, total_spend, mean_amount, stddev_amount, sum_squares, volatility_index,
    global_whale_rank, max_single_transaction, shortest_gap_minutes, first_transaction_at,
    last_transaction_at, active_days, tx_per_active_day, tx_last_24h
)
WITH days AS (
    SELECT d.*,
           extract(epoch FROM d.first_at - lag(d.last_at) OVER (
               PARTITION BY d.user_id ORDER BY d.spend_date
           )) AS gap_from_previous_day
    FROM user_daily_spend AS d
    WHERE d.user_id IN (
        SELECT user_id FROM risk_scope
        WHERE known_last_day IS NULL OR changed_from <= known_last_day
    )
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
)
-- The figures derived from these (zero here) and the 24-hour count come in finish_risk.sql.
SELECT user_id, tx_count, total_spend, 0, 0, sum_squares, 0, 0, max_amount,
       shortest_gap_seconds / 60.0, first_at, last_at, active_days, 0, 0
FROM merged;
