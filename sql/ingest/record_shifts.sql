-- DuckDB. Records the CSV reader rejected (wrong column count, bad quoting, bad UTF-8) leave
-- gaps in `raw`'s rowid. Record j (1-based, in line order) of those has `accepted_before`
-- accepted records ahead of it; an accepted record at rowid r follows every rejected record
-- with accepted_before <= r, so its line is r + 2 + (how many those are).
CREATE TABLE record_shifts AS
SELECT line - 2 - records_before AS accepted_before,
       max(records_before + 1) AS records_before
FROM (
    SELECT line, row_number() OVER (ORDER BY line) - 1 AS records_before
    FROM (SELECT line FROM unparsable)
)
GROUP BY ALL;
