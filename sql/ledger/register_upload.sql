-- A landed file becomes an upload, queued. Registering the same upload again changes nothing.
INSERT INTO uploads (upload_id, source, file_name, landing_key, size_bytes)
VALUES (%(upload_id)s, %(source)s, %(file_name)s, %(landing_key)s, %(size_bytes)s)
ON CONFLICT (upload_id) DO NOTHING;
