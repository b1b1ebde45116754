-- Written in the same transaction as the rows themselves: the ledger never disagrees with them.
UPDATE uploads
SET status = 'succeeded', finished_at = now(), error = NULL,
    rows_read = %(rows_read)s, rows_loaded = %(rows_loaded)s,
    rows_duplicate = %(rows_duplicate)s, rows_rejected = %(rows_rejected)s,
    first_timestamp = %(first_timestamp)s, last_timestamp = %(last_timestamp)s,
    days_touched = %(days_touched)s
WHERE upload_id = %(upload_id)s;
