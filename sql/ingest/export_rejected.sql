-- DuckDB. Every rejected record of one file with its line number, reason and raw text: rule
-- breaks from `checked`, and records the CSV reader could not parse. Only run when there are
-- some: the raw text of rule breaks comes from reading the file once more.
-- Line numbers count records with the header as line 1 (the physical line unless a quoted
-- field spans lines). Parsed records lost their place to the unparsable ones, so a record at
-- position rec follows every unparsable record with accepted_before < rec (record_shifts).
COPY (
    WITH raw AS (
        SELECT row_number() OVER () AS rec, *
        FROM read_csv(
            $path, header = true, auto_detect = false, columns = $columns,
            delim = ',', quote = '"', escape = '"', compression = $compression,
            strict_mode = true, null_padding = false, ignore_errors = true
        )
    ),
    raw_lines AS (
        SELECT rec,
               left(array_to_string(list_transform(
                   [*COLUMNS('^(transaction_id|user_id|product_id|timestamp|transaction_amount|extra_[0-9]+)$')],
                   lambda field: coalesce(field, '')), ','), 1000) AS raw_line
        FROM raw
        WHERE rec IN (SELECT rec FROM checked WHERE reason IS NOT NULL)
    )
    SELECT checked.rec + 1 + coalesce(shift.records_before, 0) AS line_number,
           checked.reason, raw_lines.raw_line
    FROM checked
    JOIN raw_lines USING (rec)
    ASOF LEFT JOIN record_shifts AS shift ON checked.rec > shift.accepted_before
    WHERE checked.reason IS NOT NULL
    UNION ALL
    SELECT line, 'malformed CSV row: ' || lower(string_agg(DISTINCT error_type, ', ')),
           left(any_value(csv_line), 1000)
    FROM reject_errors
    GROUP BY line
    ORDER BY 1
) TO $rejected_path (FORMAT csv, HEADER false);
