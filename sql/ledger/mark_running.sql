-- A succeeded upload never goes back: a late or concurrent run of it changes nothing.
UPDATE uploads
SET status = 'running', started_at = now(), finished_at = NULL,
    run_id = coalesce(%(run_id)s, run_id)
WHERE upload_id = %(upload_id)s AND status <> 'succeeded';
