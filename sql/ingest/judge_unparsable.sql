-- DuckDB. The records the CSV reader could not parse (reject_errors, one row per error), one
-- row each with one reason, whatever errors the reader found in it: what is wrong with its
-- bytes first, as that likely caused the rest (a column count, a quote).
CREATE TABLE unparsable AS
SELECT line,
       CASE WHEN contains(any_value(csv_line), chr(0)) THEN 'row contains a NUL byte'
            WHEN bool_or(error_type = 'INVALID ENCODING') THEN 'row is not valid UTF-8'
            WHEN regexp_matches(any_value(csv_line), '[\x01-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]')
                THEN 'row contains a control character'
            ELSE 'malformed CSV row: ' || lower(string_agg(DISTINCT error_type, ', '))
       END AS reason,
       any_value(csv_line) AS raw_line
FROM reject_errors
GROUP BY line;
