-- The new tables replace the old ones as the refresh commits. Dropping a table waits for the
-- queries reading it; new readers then wait the few milliseconds to the commit, and read the
-- new table (PostgreSQL looks the name up again once the lock is theirs).
DROP TABLE public.user_daily_spend;
ALTER TABLE analytics_next.user_daily_spend SET SCHEMA public;
DROP TABLE public.user_monthly_spend;
ALTER TABLE analytics_next.user_monthly_spend SET SCHEMA public;
DROP TABLE public.user_spend_trend;
ALTER TABLE analytics_next.user_spend_trend SET SCHEMA public;
DROP TABLE public.user_spend_trend_months;
ALTER TABLE analytics_next.user_spend_trend_months SET SCHEMA public;
DROP TABLE public.user_risk_profile;
ALTER TABLE analytics_next.user_risk_profile SET SCHEMA public;
