-- DuckDB. The commonest reasons the rows of one file were rejected, for the error of a file
-- refused as a whole.
SELECT reason, count(*) AS rows FROM checked WHERE reason IS NOT NULL GROUP BY reason
UNION ALL
SELECT reason, count(*) FROM unparsable GROUP BY reason
ORDER BY rows DESC, reason
LIMIT 3;
