-- Every day with transactions or daily spend, queued: the next refresh rebuilds them all.
INSERT INTO analytics_pending_days (spend_date, upload_id)
SELECT transaction_date, %(reason)s FROM transactions GROUP BY 1
UNION
SELECT spend_date, %(reason)s FROM user_daily_spend GROUP BY 1;
