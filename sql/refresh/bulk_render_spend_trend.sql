-- render_spend_trend.sql for the bulk path: every month of the slice's trend (the worker's
-- transaction sees only the rows it wrote), with no scope to join.
INSERT INTO user_spend_trend_months (user_id, month, body)
SELECT user_id, date_trunc('month', spend_date::timestamp)::date,
       string_agg(
           trend_day_json(spend_date, daily_total, rolling_7d_avg), ',' ORDER BY spend_date
       )
FROM user_spend_trend
GROUP BY 1, 2;
