-- DuckDB. One chunk of the rows to load: valid rows whose id lies in [$low, $high), the first
-- occurrence of each transaction_id only, sorted by id. Chunks cover the id space in order,
-- so their concatenation is sorted too: PostgreSQL fills its primary-key index in order, not
-- at random pages, and starts on chunk k while DuckDB sorts chunk k + 1.
-- Columns in the order of `transactions`, upload_id included, so a chunk COPYs straight in.
COPY (
    SELECT DISTINCT ON (transaction_id)
           transaction_id, user_id, product_id, "timestamp", transaction_amount,
           CAST("timestamp" AS DATE) AS transaction_date, $upload_id AS upload_id
    FROM checked
    WHERE reason IS NULL
      AND transaction_id >= CAST($low AS UUID)
      AND ($high IS NULL OR transaction_id < CAST($high AS UUID))
    ORDER BY transaction_id, rec
) TO $path (FORMAT csv, HEADER false);
