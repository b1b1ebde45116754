-- Every month merged from the new user_daily_spend in one pass, a user's months side by side.
INSERT INTO user_monthly_spend (user_id, month, tx_count, total_amount, min_amount, max_amount)
SELECT user_id, date_trunc('month', spend_date)::date, sum(tx_count), sum(total_amount),
       min(min_amount), max(max_amount)
FROM user_daily_spend
GROUP BY 1, 2
ORDER BY 1, 2;
