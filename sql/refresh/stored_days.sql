-- The days user_daily_spend holds, by a loose index scan of its date index: one probe per day
-- instead of reading millions of rows.
WITH RECURSIVE stored AS (
    (SELECT spend_date FROM user_daily_spend ORDER BY spend_date LIMIT 1)
    UNION ALL
    SELECT (
        SELECT d.spend_date FROM user_daily_spend AS d
        WHERE d.spend_date > stored.spend_date
        ORDER BY d.spend_date
        LIMIT 1
    )
    FROM stored
    WHERE stored.spend_date IS NOT NULL
)
SELECT coalesce(array_agg(spend_date ORDER BY spend_date), '{}')
FROM stored
WHERE spend_date IS NOT NULL;
