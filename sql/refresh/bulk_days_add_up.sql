-- Whether a bulk worker's rebuilt days add up to their transactions, over its slice of the
-- users, low <= user_id < high (NULL: no bound): the same rows, amounts and days on both sides,
-- each row weighted by its day's number so that a row counted on the wrong day shows. One total
-- per side instead of one per day (reconcile_days.sql, which names the days that differ): the
-- bulk path checks millions of rows.
SELECT (
    SELECT (count(*)::numeric, sum(transaction_amount),
            sum(transaction_date - date '2000-01-01')::numeric)
    FROM transactions
    WHERE transaction_date = ANY(%(days)s)
      AND (%(low)s::integer IS NULL OR user_id >= %(low)s)
      AND (%(high)s::integer IS NULL OR user_id < %(high)s)
) IS NOT DISTINCT FROM (
    SELECT (coalesce(sum(tx_count), 0), sum(total_amount),
            sum(tx_count * (spend_date - date '2000-01-01')))
    FROM user_daily_spend
    WHERE spend_date = ANY(%(days)s)
      AND (%(low)s::integer IS NULL OR user_id >= %(low)s)
      AND (%(high)s::integer IS NULL OR user_id < %(high)s)
);
