SELECT upload_id, status FROM uploads WHERE upload_id = ANY(%(upload_ids)s);
