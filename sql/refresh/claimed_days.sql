SELECT coalesce(array_agg(DISTINCT spend_date ORDER BY spend_date), '{}') FROM claimed_days;
