-- Loads run one at a time in the database (their DuckDB stage still runs in parallel).
-- Readers are not blocked: this mode conflicts only with itself and with writers.
LOCK TABLE transactions IN SHARE ROW EXCLUSIVE MODE;
