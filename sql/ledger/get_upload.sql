SELECT upload_id, source, file_name, landing_key, size_bytes, status,
       rows_read, rows_loaded, rows_duplicate, rows_rejected, error,
       first_timestamp, last_timestamp, days_touched, run_id,
       created_at, started_at, finished_at
FROM uploads
WHERE upload_id = %(upload_id)s;
