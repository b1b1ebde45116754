UPDATE analytics_watermarks
SET last_change_id = %(up_to)s, refreshed_at = now()
WHERE consumer = %(consumer)s;
