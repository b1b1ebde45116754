-- Each user with rows on the rebuilt days changed from the earliest of them (users left with
-- none were noted as their rows went, delete_daily_spend.sql).
INSERT INTO changed_users (user_id, changed_from)
SELECT user_id, min(spend_date)
FROM user_daily_spend
WHERE spend_date = ANY(%(days)s)
GROUP BY user_id;
