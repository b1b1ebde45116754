-- A refresh that rewrites most days builds the day-grained tables afresh, in a schema of its
-- own and without indexes: an index built once over all the rows costs a fraction of one
-- updated row by row. They replace the tables in public just before the refresh commits
-- (bulk_swap.sql), so readers go on reading the old ones meanwhile.
CREATE SCHEMA IF NOT EXISTS analytics_next;
CREATE TABLE analytics_next.user_daily_spend
    (LIKE public.user_daily_spend INCLUDING ALL EXCLUDING INDEXES);
CREATE TABLE analytics_next.user_monthly_spend
    (LIKE public.user_monthly_spend INCLUDING ALL EXCLUDING INDEXES);
CREATE TABLE analytics_next.user_spend_trend
    (LIKE public.user_spend_trend INCLUDING ALL EXCLUDING INDEXES);
CREATE TABLE analytics_next.user_spend_trend_months
    (LIKE public.user_spend_trend_months INCLUDING ALL EXCLUDING INDEXES);

-- From here the refresh's own SQL writes and reads the new tables; the rest stays in public.
SET LOCAL search_path TO analytics_next, public;

-- The days this refresh does not rewrite keep their rows.
INSERT INTO user_daily_spend
SELECT * FROM public.user_daily_spend
WHERE spend_date <> ALL(%(days)s)
ORDER BY user_id, spend_date;
