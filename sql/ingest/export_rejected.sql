-- DuckDB. Every rejected record of one file with its line number, reason and raw text: rule
-- breaks from `checked`, and records the CSV reader could not parse. Only run when there are
-- some: the raw text of rule breaks comes from reading the file once more.
-- Line numbers count records with the header as line 1 (the physical line unless a quoted
-- field spans lines). Parsed records lost their place to the unparsable ones, so a record at
-- position rec follows every unparsable record with accepted_before < rec (record_shifts).
-- The raw text is made safe for a PostgreSQL text column: every NUL and other control
-- character (tab, CR and LF are kept) becomes U+FFFD, and it is cut to 1,000 characters.
-- Bytes that are not UTF-8 never reach SQL: the reader puts a '?' in csv_line for each.
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
               array_to_string(list_transform(
                   [*COLUMNS('^(transaction_id|user_id|product_id|timestamp|transaction_amount|extra_[0-9]+)$')],
                   lambda field: coalesce(field, '')), ',') AS raw_line
        FROM raw
        WHERE rec IN (SELECT rec FROM checked WHERE reason IS NOT NULL)
    ),
    rejected AS (
        SELECT checked.rec + 1 + coalesce(shift.records_before, 0) AS line_number,
               checked.reason, raw_lines.raw_line
        FROM checked
        JOIN raw_lines USING (rec)
        ASOF LEFT JOIN record_shifts AS shift ON checked.rec > shift.accepted_before
        WHERE checked.reason IS NOT NULL
        UNION ALL
        SELECT line, reason, raw_line FROM unparsable  -- judge_unparsable.sql
    )
    SELECT line_number, reason,
           regexp_replace(left(raw_line, 1000), '[\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]', chr(65533), 'g')
    FROM rejected
    ORDER BY 1
) TO $rejected_path (FORMAT csv, HEADER false);
