-- The upload's status as the load sees it under the ingestion lock: a concurrent run of the
-- same upload that committed first is seen here, so the second adds nothing.
SELECT status FROM uploads WHERE upload_id = %(upload_id)s FOR UPDATE;
