INSERT INTO rejected_rows (upload_id, line_number, reason, raw_line)
SELECT %(upload_id)s, line_number, reason, raw_line FROM staging_rejected;
