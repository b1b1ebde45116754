-- An upload's rejected rows in file order: an index range scan on (upload_id, line_number).
SELECT line_number, reason, raw_line
FROM rejected_rows
WHERE upload_id = %(upload_id)s
ORDER BY line_number
LIMIT %(limit)s OFFSET %(offset)s;
