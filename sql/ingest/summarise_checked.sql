-- DuckDB. Counts and time range of one checked file; days and times are those of the rows
-- that will load.
SELECT (SELECT count(*) FROM checked WHERE reason IS NULL) AS rows_valid,
       count(*) AS rows_unique,
       (SELECT count(*) FROM checked WHERE reason IS NOT NULL) AS rows_invalid,
       (SELECT count(DISTINCT line) FROM reject_errors) AS rows_malformed,
       min("timestamp") AS first_timestamp,
       max("timestamp") AS last_timestamp,
       list(DISTINCT transaction_date ORDER BY transaction_date) AS days
FROM accepted;
