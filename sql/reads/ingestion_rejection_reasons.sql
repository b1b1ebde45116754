-- The commonest reasons rows were rejected, over the uploads that finished in the window.
-- Only uploads that rejected something are joined, each through the (upload_id, line_number)
-- primary key of rejected_rows; `transactions` is never read.
SELECT r.reason, count(*) AS rejected
FROM uploads AS u
JOIN rejected_rows AS r ON r.upload_id = u.upload_id
WHERE u.rows_rejected > 0
  AND u.finished_at >= %(first_day)s::date::timestamp AT TIME ZONE 'UTC'
  AND u.finished_at < (%(last_day)s::date + 1)::timestamp AT TIME ZONE 'UTC'
GROUP BY r.reason
ORDER BY rejected DESC, r.reason
LIMIT %(limit)s;
