-- A user's transactions over a range of whole UTC days, both ends inclusive; a missing end is
-- open. One range scan of the (user_id, spend_date) primary key; the per-day figures merge
-- exactly: counts and totals add up, minima and maxima combine.
SELECT sum(tx_count)::bigint AS transaction_count,
       sum(total_amount) AS total_amount,
       min(min_amount) AS min_transaction,
       max(max_amount) AS max_transaction,
       round(sum(total_amount) / nullif(sum(tx_count), 0), 2) AS mean_transaction
FROM user_daily_spend
WHERE user_id = %(user_id)s
  AND spend_date >= coalesce(%(start_date)s::date, '-infinity'::date)
  AND spend_date <= coalesce(%(end_date)s::date, 'infinity'::date);
