-- A failed load committed nothing, so its counts are zero; the error says why.
UPDATE uploads
SET status = 'failed', finished_at = now(), error = %(error)s,
    rows_read = 0, rows_loaded = 0, rows_duplicate = 0, rows_rejected = 0
WHERE upload_id = %(upload_id)s;
