-- A transient failure: the upload waits for its next attempt, with the reason on show.
UPDATE uploads
SET status = 'queued', error = %(error)s
WHERE upload_id = %(upload_id)s AND status <> 'succeeded';
