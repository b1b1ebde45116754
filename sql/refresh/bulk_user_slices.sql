-- Where a bulk refresh splits the users into slices of about as many transactions each (the
-- boundaries at `fractions`), from a sample of some 2,000 pages of `transactions`: the
-- slices are ranges of user_id, which the planner estimates from its statistics.
SELECT percentile_disc(%(fractions)s::float8[]) WITHIN GROUP (ORDER BY user_id)
FROM transactions TABLESAMPLE SYSTEM ((
    SELECT least(100, 200000.0 / greatest(
        pg_relation_size('transactions') / current_setting('block_size')::integer, 1
    ))
));
