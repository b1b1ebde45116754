-- A failed load committed nothing, so its counts are zero; the error says why. A succeeded
-- upload is never marked failed (its rows are in).
UPDATE uploads
SET status = 'failed', finished_at = now(), error = %(error)s,
    rows_read = 0, rows_loaded = 0, rows_duplicate = 0, rows_rejected = 0
WHERE upload_id = %(upload_id)s AND status <> 'succeeded';
