-- The days this refresh does not rewrite keep their rows (those of the worker's users).
INSERT INTO user_daily_spend
SELECT * FROM public.user_daily_spend
WHERE spend_date <> ALL(%(days)s)
  AND (%(low)s::integer IS NULL OR user_id >= %(low)s)
  AND (%(high)s::integer IS NULL OR user_id < %(high)s)
ORDER BY user_id, spend_date;
