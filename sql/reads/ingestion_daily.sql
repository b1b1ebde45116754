-- Uploads that finished on each UTC day of the window, and their rows: every day of the
-- window is listed (zeros where nothing finished), so a quiet day shows as a gap rather than
-- vanishing. Reads the upload ledger only (one row per file), never `transactions`; queued and
-- running uploads have no finished_at yet.
WITH window_days AS (
    -- Through timestamp, not timestamptz: the session's time zone must not shift a day.
    SELECT generate_series(
               %(first_day)s::date::timestamp, %(last_day)s::date::timestamp, interval '1 day'
           )::date AS day
),
finished AS (
    SELECT (finished_at AT TIME ZONE 'UTC')::date AS day,
           status, rows_loaded, rows_duplicate, rows_rejected
    FROM uploads
    WHERE finished_at >= %(first_day)s::date::timestamp AT TIME ZONE 'UTC'
      AND finished_at < (%(last_day)s::date + 1)::timestamp AT TIME ZONE 'UTC'
)
SELECT w.day,
       count(f.day) AS uploads,
       count(*) FILTER (WHERE f.status = 'failed') AS failed,
       coalesce(sum(f.rows_loaded), 0)::bigint AS rows_loaded,
       coalesce(sum(f.rows_duplicate), 0)::bigint AS rows_duplicate,
       coalesce(sum(f.rows_rejected), 0)::bigint AS rows_rejected
FROM window_days AS w
LEFT JOIN finished AS f ON f.day = w.day
GROUP BY w.day
ORDER BY w.day;
