-- One message of %(bytes)s bytes, read once as the API opens a read connection: libpq's receive
-- buffer grows to fit the largest message it has read and keeps that size (see txn_api.db).
SELECT repeat(' ', %(bytes)s);
