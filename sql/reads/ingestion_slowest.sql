-- The slowest succeeded loads that finished in the window, slowest first: from starting the
-- run to committing the rows. Reads the upload ledger only, never `transactions`.
SELECT upload_id, file_name, source, rows_read,
       extract(epoch FROM finished_at - started_at)::double precision AS seconds,
       finished_at
FROM uploads
WHERE status = 'succeeded'
  AND started_at IS NOT NULL
  AND finished_at >= %(first_day)s::date::timestamp AT TIME ZONE 'UTC'
  AND finished_at < (%(last_day)s::date + 1)::timestamp AT TIME ZONE 'UTC'
ORDER BY finished_at - started_at DESC, finished_at DESC, upload_id
LIMIT %(limit)s;
