"""Ingestion: the upload ledger, transactions and rejected rows.

Revision ID: 0001
Revises:
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE uploads (
            upload_id       text PRIMARY KEY,
            source          text NOT NULL,
            file_name       text NOT NULL,
            landing_key     text NOT NULL,
            size_bytes      bigint,
            status          text NOT NULL DEFAULT 'queued'
                            CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
            rows_read       bigint NOT NULL DEFAULT 0,
            rows_loaded     bigint NOT NULL DEFAULT 0,
            rows_duplicate  bigint NOT NULL DEFAULT 0,
            rows_rejected   bigint NOT NULL DEFAULT 0,
            error           text,
            first_timestamp timestamptz,
            last_timestamp  timestamptz,
            days_touched    date[] NOT NULL DEFAULT '{}',
            run_id          text,
            created_at      timestamptz NOT NULL DEFAULT now(),
            started_at      timestamptz,
            finished_at     timestamptz,
            CONSTRAINT uploads_rows_add_up
                CHECK (rows_read = rows_loaded + rows_duplicate + rows_rejected)
        );

        CREATE INDEX uploads_landing_key_idx ON uploads (landing_key);

        -- No foreign key to uploads: it would fire a trigger per row on the bulk-load path;
        -- the loader writes upload_id and the ledger row in the same transaction.
        CREATE TABLE transactions (
            transaction_id     uuid PRIMARY KEY,
            user_id            integer NOT NULL,
            product_id         integer NOT NULL,
            "timestamp"        timestamptz NOT NULL,
            transaction_amount numeric(10, 2) NOT NULL,
            transaction_date   date NOT NULL,
            upload_id          text NOT NULL,
            loaded_at          timestamptz NOT NULL DEFAULT now()
        );
        -- Refreshes read whole days; the read API never scans this table. BRIN costs almost
        -- nothing to maintain on the bulk-load path, where a b-tree on a date would cost as
        -- much as the primary key itself.
        CREATE INDEX transactions_date_brin ON transactions USING brin (transaction_date);

        CREATE TABLE rejected_rows (
            upload_id   text NOT NULL REFERENCES uploads (upload_id) ON DELETE CASCADE,
            line_number bigint NOT NULL,
            reason      text NOT NULL,
            raw_line    text,
            PRIMARY KEY (upload_id, line_number)
        );
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE rejected_rows; DROP TABLE transactions; DROP TABLE uploads;")
