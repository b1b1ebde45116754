-- A user's transactions over a range of whole UTC days, both ends inclusive; a missing end is
-- open. The months wholly inside the range come from user_monthly_spend, the days of the
-- months the range cuts (at most two partial months) from user_daily_spend: a few hundred
-- primary-key rows for years of history. The figures merge exactly: counts and totals add
-- up, minima and maxima combine.
WITH bounds AS (
    SELECT lo, hi,
           -- the first month that starts on or after lo, and the first that ends after hi
           (date_trunc('month', lo - 1) + interval '1 month')::date AS whole_from,
           date_trunc('month', hi + 1)::date AS whole_until
    FROM (
        SELECT coalesce(%(start_date)s::date, '-infinity'::date) AS lo,
               coalesce(%(end_date)s::date, 'infinity'::date) AS hi
    ) AS given
),
parts AS (
    SELECT m.tx_count, m.total_amount, m.min_amount, m.max_amount
    FROM user_monthly_spend AS m, bounds AS b
    WHERE m.user_id = %(user_id)s AND m.month >= b.whole_from AND m.month < b.whole_until
    UNION ALL
    -- days before the first whole month (all of the range when it has no whole month)
    SELECT d.tx_count, d.total_amount, d.min_amount, d.max_amount
    FROM user_daily_spend AS d, bounds AS b
    WHERE d.user_id = %(user_id)s
      AND d.spend_date >= b.lo AND d.spend_date <= b.hi AND d.spend_date < b.whole_from
    UNION ALL
    -- days after the last whole month
    SELECT d.tx_count, d.total_amount, d.min_amount, d.max_amount
    FROM user_daily_spend AS d, bounds AS b
    WHERE d.user_id = %(user_id)s
      AND d.spend_date >= greatest(b.whole_from, b.whole_until) AND d.spend_date <= b.hi
)
SELECT sum(tx_count)::bigint AS transaction_count,
       sum(total_amount) AS total_amount,
       min(min_amount) AS min_transaction,
       max(max_amount) AS max_transaction,
       round(sum(total_amount) / nullif(sum(tx_count), 0), 2) AS mean_transaction
FROM parts;
