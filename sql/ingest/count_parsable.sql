-- DuckDB. How many records of one file the CSV reader can parse with the header's columns,
-- skipping the rest without recording why: a fast first look that tells a file of junk
-- (millions of unparsable lines, each costly to record) before the full check reads it.
SELECT count(*) FROM read_csv(
    $path, header = true, auto_detect = false, columns = $columns,
    delim = ',', quote = '"', escape = '"', compression = $compression,
    ignore_errors = true, strict_mode = true, null_padding = false
);
