-- Every transaction of a bulk refresh's workers (building its slice, indexing, finishing):
-- the SQL writes and reads the new tables, the rest stays in public. A worker building its
-- slice sees only its own rows of the new tables: the others' commit after its snapshot.
SET LOCAL search_path TO analytics_next, public;
-- The workers are the refresh's parallelism: each has a core already.
SET LOCAL max_parallel_workers_per_gather = 0;
SET LOCAL max_parallel_maintenance_workers = 0;
-- The new tables' indexes are built side by side, each on a connection of its own: each sorts
-- within 256 MB, so that no backend passes 1 GiB with the shared buffers it touched.
SET LOCAL maintenance_work_mem = '256MB';
