-- DuckDB. Parses one CSV file and applies the data contract to every record, in one pass.
-- Out: `checked`, one row per parsed record: its position among parsed records (`rec`), typed
-- values and, when the record breaks a rule, the first rule it breaks and its raw text.
-- Records the CSV reader itself rejects (column count, quoting, UTF-8) land in reject_errors.
CREATE TABLE checked AS
WITH raw AS (
    SELECT * FROM read_csv(
        $path, header = true, auto_detect = false, columns = $columns,
        delim = ',', quote = '"', escape = '"', compression = $compression,
        store_rejects = true, strict_mode = true, null_padding = false
    )
),
fields AS (
    -- A streaming window: row_number() over the scan follows file order.
    SELECT row_number() OVER () AS rec,
           trim(transaction_id) AS id_text,
           trim(user_id) AS user_text,
           trim(product_id) AS product_text,
           trim("timestamp") AS ts_text,
           trim(transaction_amount) AS amount_text,
           [*COLUMNS(*)] AS all_fields
    FROM raw
),
typed AS (
    SELECT *,
           TRY_CAST(id_text AS UUID) AS transaction_id,
           CASE WHEN regexp_full_match(user_text, '[0-9]{1,10}')
                THEN TRY_CAST(user_text AS BIGINT) END AS user_id,
           CASE WHEN regexp_full_match(product_text, '[0-9]{1,10}')
                THEN TRY_CAST(product_text AS BIGINT) END AS product_id,
           CASE WHEN regexp_full_match(
                    ts_text,
                    '\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?\s*(Z|z|[+-]\d{2}(:?\d{2})?)?')
                THEN TRY_CAST(ts_text AS TIMESTAMPTZ) END AS "timestamp",
           CASE WHEN regexp_full_match(amount_text, '\+?([0-9]{1,12}(\.[0-9]{0,2})?|\.[0-9]{1,2})')
                THEN TRY_CAST(amount_text AS DECIMAL(18, 2)) END AS transaction_amount
    FROM fields
),
judged AS (
    SELECT *,
           CASE
               WHEN id_text IS NULL OR id_text = '' THEN 'missing transaction_id'
               WHEN transaction_id IS NULL THEN 'transaction_id is not a UUID'
               WHEN user_text IS NULL OR user_text = '' THEN 'missing user_id'
               WHEN user_id IS NULL OR user_id NOT BETWEEN 1 AND 2147483647
                   THEN 'user_id is not a positive integer'
               WHEN product_text IS NULL OR product_text = '' THEN 'missing product_id'
               WHEN product_id IS NULL OR product_id NOT BETWEEN 1 AND 2147483647
                   THEN 'product_id is not a positive integer'
               WHEN ts_text IS NULL OR ts_text = '' THEN 'missing timestamp'
               WHEN "timestamp" IS NULL THEN 'timestamp is not an ISO 8601 date-time'
               WHEN amount_text IS NULL OR amount_text = '' THEN 'missing transaction_amount'
               WHEN transaction_amount IS NULL
                   THEN 'transaction_amount is not a decimal with at most 2 places'
               WHEN transaction_amount >= 100000000
                   THEN 'transaction_amount is not below 100,000,000'
           END AS reason
    FROM typed
)
SELECT rec, transaction_id, user_id, product_id, "timestamp", transaction_amount, reason,
       CASE WHEN reason IS NOT NULL THEN left(array_to_string(
           list_transform(all_fields, lambda field: coalesce(field, '')), ','), 1000)
       END AS raw_line
FROM judged;
