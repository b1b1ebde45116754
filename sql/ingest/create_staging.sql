-- One file's accepted rows, private to the loading session and gone at commit; no WAL.
CREATE TEMP TABLE staging_transactions (
    transaction_id     uuid,
    user_id            integer,
    product_id         integer,
    "timestamp"        timestamptz,
    transaction_amount numeric(10, 2),
    transaction_date   date,
    upload_id          text
) ON COMMIT DROP;
