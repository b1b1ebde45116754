SELECT landing_key, upload_id FROM uploads WHERE landing_key = ANY(%(landing_keys)s);
