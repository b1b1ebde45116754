UPDATE uploads SET landing_key = %(key)s WHERE upload_id = %(upload_id)s;
