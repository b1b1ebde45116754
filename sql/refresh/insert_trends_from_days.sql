-- The whole trend of each of `users`, from their days (spend_trend_from_days): users with no
-- trend rows yet (missing_trend_users.sql). The users come as a parameter, not a subquery, so
-- that PostgreSQL inlines the function and reads their days by the daily spend's key.
INSERT INTO user_spend_trend (user_id, spend_date, daily_total, rolling_7d_avg)
SELECT user_id, spend_date, daily_total, rolling_7d_avg
FROM spend_trend_from_days(%(users)s::integer[]);
