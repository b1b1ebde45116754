-- DuckDB. Counts and time range of one checked file (days of every valid row: a day whose
-- only rows turn out to be duplicates is reported too, which costs a needless refresh at most).
SELECT count(*) FILTER (WHERE reason IS NULL) AS rows_valid,
       count(*) FILTER (WHERE reason IS NOT NULL) AS rows_invalid,
       (SELECT count(*) FROM unparsable) AS rows_malformed,
       min("timestamp") FILTER (WHERE reason IS NULL) AS first_timestamp,
       max("timestamp") FILTER (WHERE reason IS NULL) AS last_timestamp,
       list(DISTINCT CAST("timestamp" AS DATE) ORDER BY CAST("timestamp" AS DATE))
           FILTER (WHERE reason IS NULL) AS days
FROM checked;
