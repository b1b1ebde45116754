UPDATE uploads
SET status = 'running', started_at = now(), finished_at = NULL, error = NULL,
    run_id = coalesce(%(run_id)s, run_id)
WHERE upload_id = %(upload_id)s;
