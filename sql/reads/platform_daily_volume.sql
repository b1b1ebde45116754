-- Platform-wide spend and transactions per day over a window of days that have data
-- (counted back from the latest day): both the latest day and the window are range scans of
-- the spend_date index.
WITH latest AS (
    SELECT max(spend_date) AS last_day FROM user_daily_spend
)
SELECT d.spend_date,
       sum(d.total_amount) AS total_amount,
       sum(d.tx_count)::bigint AS tx_count,
       count(*) AS active_users
FROM user_daily_spend AS d
CROSS JOIN latest
WHERE d.spend_date > latest.last_day - %(days)s::integer
GROUP BY d.spend_date
ORDER BY d.spend_date;
