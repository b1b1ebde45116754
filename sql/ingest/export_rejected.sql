-- DuckDB. Every rejected record of one file with its line number, reason and raw text: rule
-- breaks from `checked`, and records the CSV reader could not parse.
-- Line numbers count records with the header as line 1 (the physical line unless a quoted
-- field spans lines). Parsed records lost their place to the unparsable ones, so a record at
-- position rec follows every unparsable record with accepted_before < rec (record_shifts).
COPY (
    SELECT checked.rec + 1 + coalesce(shift.records_before, 0) AS line_number, reason, raw_line
    FROM checked ASOF LEFT JOIN record_shifts AS shift ON checked.rec > shift.accepted_before
    WHERE checked.reason IS NOT NULL
    UNION ALL
    SELECT line, 'malformed CSV row: ' || lower(string_agg(DISTINCT error_type, ', ')),
           left(any_value(csv_line), 1000)
    FROM reject_errors
    GROUP BY line
    ORDER BY 1
) TO $path (FORMAT csv, HEADER false);
