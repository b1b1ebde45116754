-- DuckDB. The rows to load: valid, and the first occurrence of each transaction_id only,
-- sorted by id so that PostgreSQL fills its primary-key index in order, not at random pages.
-- Columns in the order of `transactions`, upload_id included, so the file COPYs straight in.
CREATE TABLE accepted AS
SELECT DISTINCT ON (transaction_id)
       transaction_id, user_id, product_id, "timestamp", transaction_amount,
       CAST("timestamp" AS DATE) AS transaction_date
FROM checked
WHERE reason IS NULL
ORDER BY transaction_id, rec;

COPY (
    SELECT transaction_id, user_id, product_id,
           strftime("timestamp", '%Y-%m-%d %H:%M:%S.%f+00'), transaction_amount, transaction_date,
           $upload_id
    FROM accepted
) TO $path (FORMAT csv, HEADER false);
