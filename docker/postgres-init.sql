-- Runs once, when the compose `postgres` service initialises an empty data volume.
-- The warehouse database (POSTGRES_DB, `txn`) is created by the image itself; Dagster
-- keeps its runs, events and schedules in a database of its own on the same server.
CREATE DATABASE dagster;
