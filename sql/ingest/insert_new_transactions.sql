-- The slow path of a load whose rows overlap earlier uploads: moves the staged rows whose
-- transaction_id was never loaded into `transactions`; the rest are duplicates. Staged rows are
-- sorted by id, so the primary-key index is filled in order. The caller holds the ingestion
-- lock, so no other load races this check.
INSERT INTO transactions
    (transaction_id, user_id, product_id, "timestamp", transaction_amount, transaction_date,
     upload_id)
SELECT s.transaction_id, s.user_id, s.product_id, s."timestamp", s.transaction_amount,
       s.transaction_date, s.upload_id
FROM staging_transactions AS s
WHERE NOT EXISTS (
    SELECT FROM transactions AS t WHERE t.transaction_id = s.transaction_id
);
