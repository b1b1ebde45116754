-- The statements that give the new tables in analytics_next the keys and indexes of their
-- namesakes in public, under the same names (they move to public with the tables): each index
-- built by CREATE INDEX, and a key then made the table's constraint over its index (attach).
-- ALTER TABLE ... ADD PRIMARY KEY would build it under a lock that keeps the table's other
-- index builds waiting; CREATE INDEX lets them run side by side.
SELECT t.name AS table_name,
       'CREATE ' || CASE WHEN i.indisunique THEN 'UNIQUE ' ELSE '' END || 'INDEX '
       || quote_ident(index_class.relname) || ' ON analytics_next.' || quote_ident(t.name)
       || substring(pg_get_indexdef(i.indexrelid) FROM ' USING .*$') AS build,
       -- NULL for an index that is no key.
       'ALTER TABLE analytics_next.' || quote_ident(t.name) || ' ADD CONSTRAINT '
       || quote_ident(con.conname)
       || CASE con.contype WHEN 'p' THEN ' PRIMARY KEY' ELSE ' UNIQUE' END
       || ' USING INDEX ' || quote_ident(index_class.relname) AS attach
FROM unnest(%(tables)s::text[]) AS t(name)
JOIN pg_index AS i ON i.indrelid = to_regclass('public.' || quote_ident(t.name))
JOIN pg_class AS index_class ON index_class.oid = i.indexrelid
LEFT JOIN pg_constraint AS con
       ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid AND con.contype IN ('p', 'u')
ORDER BY t.name, index_class.relname;
