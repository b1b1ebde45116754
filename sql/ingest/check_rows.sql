-- DuckDB. Parses one CSV file and applies the data contract to every record, in one pass.
-- Out: `checked`, one row per parsed record: its position among parsed records (`rec`), typed
-- values and, when the record breaks a rule, the first rule it breaks.
-- Records the CSV reader itself rejects (column count, quoting, invalid UTF-8) land in
-- reject_errors. The reader passes NUL and other control characters through as data, so those
-- are judged here.
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
           -- RFC 3339 date-time, the offset optional (then UTC) and a space allowed for the T.
           -- The pattern does the refusing: DuckDB's cast alone takes a missing second, hour
           -- 24 and any offset (+99 as 99 hours, +0100, +01). The cast checks the date. More
           -- fraction digits than microseconds are truncated, as DuckDB and Python do.
           CASE WHEN regexp_full_match(
                    ts_text,
                    '[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ]([01][0-9]|2[0-3]):[0-5][0-9]:'
                    || '([0-5][0-9](\.[0-9]+)?|60(\.0+)?)([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])?')
                THEN coalesce(
                    TRY_CAST(ts_text AS TIMESTAMPTZ),
                    -- Only what the cast refused: DuckDB wants an upper-case T and Z, and
                    -- refuses a leap second, which PostgreSQL reads as the next minute's :00.
                    CASE WHEN substr(ts_text, 18, 2) = '60'
                         THEN TRY_CAST(upper(substr(ts_text, 1, 17) || '59' || substr(ts_text, 20))
                                       AS TIMESTAMPTZ) + INTERVAL 1 SECOND
                         ELSE TRY_CAST(upper(ts_text) AS TIMESTAMPTZ)
                    END)
           END AS valid_ts,
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
               WHEN valid_ts IS NULL THEN 'timestamp is not an RFC 3339 date-time'
               WHEN amount_text IS NULL OR amount_text = '' THEN 'missing transaction_amount'
               WHEN valid_amount IS NULL
                   THEN 'transaction_amount is not a decimal with at most 2 places'
               WHEN valid_amount >= 100000000
                   THEN 'transaction_amount is not below 100,000,000'
           END AS field_reason
    FROM typed
),
screened AS (
    -- NUL or another control character anywhere in the row rejects it (tab, and CR or LF
    -- inside quotes, are CSV text). A value that passes its rule holds none, so only a row
    -- that breaks a rule is searched whole, and a good one only in its extra columns if the
    -- file has any: CASE builds the text for those rows alone, so the common case (no extra
    -- column, no bad row) costs nothing.
    -- (`<> ''` rather than IS NOT NULL: DuckDB's binder refuses IS NULL beside *COLUMNS.)
    SELECT *,
           CASE WHEN field_reason <> ''
                THEN concat_ws(',', *COLUMNS('^(transaction_id|user_id|product_id|timestamp|transaction_amount|extra_[0-9]+)$'))
           END AS row_text,
           CASE WHEN len(struct_keys($columns)) > 5
                THEN concat_ws(',', *COLUMNS('^extra_([0-9]+)?$'))
           END AS extras_text
    FROM (SELECT *, '' AS extra_ FROM judged)  -- extra_: a match when there is no extra column
)
SELECT rec,
       valid_id AS transaction_id,
       CAST(valid_user AS INTEGER) AS user_id,
       CAST(valid_product AS INTEGER) AS product_id,
       valid_ts AS "timestamp",
       valid_amount AS transaction_amount,
       CASE
           WHEN row_text IS NULL AND extras_text IS NULL THEN field_reason
           WHEN regexp_matches(coalesce(row_text, extras_text), '[\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]')
               THEN CASE WHEN contains(coalesce(row_text, extras_text), chr(0))
                         THEN 'row contains a NUL byte'
                         ELSE 'row contains a control character'
                    END
           ELSE field_reason
       END AS reason
FROM screened;
