-- DuckDB. Parses one CSV file and applies the data contract to every record, in one pass.
-- Out: `checked`, one row per parsed record: its position among parsed records (`rec`), typed
-- values and, when the record breaks a rule, the first rule it breaks.
-- Records the CSV reader itself rejects (column count, quoting, UTF-8) land in reject_errors.
CREATE TABLE checked AS
WITH raw AS (
    SELECT * FROM read_csv(
        $path, header = true, auto_detect = false, columns = $columns,
        delim = ',', quote = '"', escape = '"', compression = $compression,
        store_rejects = true, strict_mode = true, null_padding = false
    )
),
numbered AS (
    -- A streaming window: row_number() over the scan follows file order.
    SELECT row_number() OVER () AS rec, * FROM raw
),
fields AS (
    SELECT *,
           trim(transaction_id) AS id_text,
           trim(user_id) AS user_text,
           trim(product_id) AS product_text,
           trim("timestamp") AS ts_text,
           trim(transaction_amount) AS amount_text
    FROM numbered
),
typed AS (
    SELECT *,
           TRY_CAST(id_text AS UUID) AS valid_id,
           CASE WHEN regexp_full_match(user_text, '[0-9]{1,10}')
                THEN TRY_CAST(user_text AS BIGINT) END AS valid_user,
           CASE WHEN regexp_full_match(product_text, '[0-9]{1,10}')
                THEN TRY_CAST(product_text AS BIGINT) END AS valid_product,
           CASE WHEN regexp_full_match(
                    ts_text,
                    '\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?\s*(Z|z|[+-]\d{2}(:?\d{2})?)?')
                THEN TRY_CAST(ts_text AS TIMESTAMPTZ) END AS valid_ts,
           CASE WHEN regexp_full_match(amount_text, '\+?([0-9]{1,12}(\.[0-9]{0,2})?|\.[0-9]{1,2})')
                THEN TRY_CAST(amount_text AS DECIMAL(18, 2)) END AS valid_amount
    FROM fields
),
judged AS (
    SELECT *,
           CASE
               WHEN id_text IS NULL OR id_text = '' THEN 'missing transaction_id'
               WHEN valid_id IS NULL THEN 'transaction_id is not a UUID'
               WHEN user_text IS NULL OR user_text = '' THEN 'missing user_id'
               WHEN valid_user IS NULL OR valid_user NOT BETWEEN 1 AND 2147483647
                   THEN 'user_id is not a positive integer'
               WHEN product_text IS NULL OR product_text = '' THEN 'missing product_id'
               WHEN valid_product IS NULL OR valid_product NOT BETWEEN 1 AND 2147483647
                   THEN 'product_id is not a positive integer'
               WHEN ts_text IS NULL OR ts_text = '' THEN 'missing timestamp'
               WHEN valid_ts IS NULL THEN 'timestamp is not an ISO 8601 date-time'
               WHEN amount_text IS NULL OR amount_text = '' THEN 'missing transaction_amount'
               WHEN valid_amount IS NULL
                   THEN 'transaction_amount is not a decimal with at most 2 places'
               WHEN valid_amount >= 100000000
                   THEN 'transaction_amount is not below 100,000,000'
           END AS reason
    FROM typed
)
SELECT rec,
       valid_id AS transaction_id,
       CAST(valid_user AS INTEGER) AS user_id,
       CAST(valid_product AS INTEGER) AS product_id,
       valid_ts AS "timestamp",
       valid_amount AS transaction_amount,
       reason
FROM judged;
