-- A refresh that rewrites most days builds the day-grained tables and the risk profile afresh,
-- in a schema of its own and without indexes: an index built once over all the rows costs a
-- fraction of one updated row by row. The refresh's workers fill them side by side, each with
-- a slice of the users, and commit; readers never look here. The tables replace those in
-- public as the refresh commits (bulk_swap.sql). What a refresh that died left here goes.
DROP SCHEMA IF EXISTS analytics_next CASCADE;
CREATE SCHEMA analytics_next;
CREATE TABLE analytics_next.user_daily_spend
    (LIKE public.user_daily_spend INCLUDING ALL EXCLUDING INDEXES);
CREATE TABLE analytics_next.user_monthly_spend
    (LIKE public.user_monthly_spend INCLUDING ALL EXCLUDING INDEXES);
CREATE TABLE analytics_next.user_spend_trend
    (LIKE public.user_spend_trend INCLUDING ALL EXCLUDING INDEXES);
CREATE TABLE analytics_next.user_spend_trend_months
    (LIKE public.user_spend_trend_months INCLUDING ALL EXCLUDING INDEXES);
CREATE TABLE analytics_next.user_risk_profile
    (LIKE public.user_risk_profile INCLUDING ALL EXCLUDING INDEXES);
