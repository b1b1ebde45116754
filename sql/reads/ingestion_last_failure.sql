-- The most recent failed upload of the window and its error (no row when none failed).
-- Reads the upload ledger only, never `transactions`.
SELECT upload_id, file_name, source, error, finished_at
FROM uploads
WHERE status = 'failed'
  AND finished_at >= %(first_day)s::date::timestamp AT TIME ZONE 'UTC'
  AND finished_at < (%(last_day)s::date + 1)::timestamp AT TIME ZONE 'UTC'
ORDER BY finished_at DESC, upload_id
LIMIT 1;
