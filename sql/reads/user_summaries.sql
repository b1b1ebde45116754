-- A batch of summaries: for each ask (a user and a range of whole UTC days, both ends
-- inclusive; a missing end is open), the user's transactions in the range, one row per ask
-- numbered from 1 in the order given.
--
-- The months wholly inside a range come from user_monthly_spend, the days of the months the
-- range cuts (at most two partial months) from user_daily_spend: a few hundred primary-key
-- rows for years of history. The figures merge exactly: counts and totals add up, minima and
-- maxima combine. `has_spend` tells a user with nothing in the range from an unknown one.
WITH asks AS (
    SELECT ask, user_id,
           coalesce(start_date, '-infinity'::date) AS lo,
           coalesce(end_date, 'infinity'::date) AS hi
    FROM unnest(%(user_ids)s::integer[], %(start_dates)s::date[], %(end_dates)s::date[])
         WITH ORDINALITY AS given (user_id, start_date, end_date, ask)
),
bounds AS (
    SELECT ask, user_id, lo, hi,
           -- the first month that starts on or after lo, and the first that ends after hi
           (date_trunc('month', lo - 1) + interval '1 month')::date AS whole_from,
           date_trunc('month', hi + 1)::date AS whole_until
    FROM asks
),
parts AS (
    SELECT b.ask, m.tx_count, m.total_amount, m.min_amount, m.max_amount
    FROM bounds AS b
    JOIN user_monthly_spend AS m
      ON m.user_id = b.user_id AND m.month >= b.whole_from AND m.month < b.whole_until
    UNION ALL
    -- days before the first whole month (all of the range when it has no whole month)
    SELECT b.ask, d.tx_count, d.total_amount, d.min_amount, d.max_amount
    FROM bounds AS b
    JOIN user_daily_spend AS d
      ON d.user_id = b.user_id
     AND d.spend_date >= b.lo AND d.spend_date <= b.hi AND d.spend_date < b.whole_from
    UNION ALL
    -- days after the last whole month
    SELECT b.ask, d.tx_count, d.total_amount, d.min_amount, d.max_amount
    FROM bounds AS b
    JOIN user_daily_spend AS d
      ON d.user_id = b.user_id
     AND d.spend_date >= greatest(b.whole_from, b.whole_until) AND d.spend_date <= b.hi
),
totals AS (
    SELECT ask,
           sum(tx_count)::bigint AS transaction_count,
           sum(total_amount) AS total_amount,
           min(min_amount) AS min_transaction,
           max(max_amount) AS max_transaction,
           -- exact: numeric division, no rounding (display rounding belongs to the pages)
           sum(total_amount) / nullif(sum(tx_count), 0) AS mean_transaction
    FROM parts
    GROUP BY ask
)
SELECT a.ask, t.transaction_count, t.total_amount, t.min_transaction, t.max_transaction,
       t.mean_transaction,
       t.ask IS NOT NULL
       OR EXISTS (SELECT 1 FROM user_daily_spend AS d WHERE d.user_id = a.user_id) AS has_spend
FROM asks AS a
LEFT JOIN totals AS t USING (ask)
ORDER BY a.ask;
