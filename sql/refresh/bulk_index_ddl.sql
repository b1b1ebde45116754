-- The statements that give a new table in analytics_next the keys and indexes of its namesake
-- in public, under the same names (they move to public with the table).
SELECT 'ALTER TABLE analytics_next.' || quote_ident(%(table)s) || ' ADD CONSTRAINT '
       || quote_ident(con.conname) || ' ' || pg_get_constraintdef(con.oid)
FROM pg_constraint AS con
WHERE con.conrelid = to_regclass('public.' || quote_ident(%(table)s))
  AND con.contype IN ('p', 'u')
UNION ALL
SELECT 'CREATE ' || CASE WHEN i.indisunique THEN 'UNIQUE ' ELSE '' END || 'INDEX '
       || quote_ident(index_class.relname) || ' ON analytics_next.' || quote_ident(%(table)s)
       || substring(pg_get_indexdef(i.indexrelid) FROM ' USING .*$')
FROM pg_index AS i
JOIN pg_class AS index_class ON index_class.oid = i.indexrelid
WHERE i.indrelid = to_regclass('public.' || quote_ident(%(table)s))
  AND NOT EXISTS (SELECT 1 FROM pg_constraint AS con WHERE con.conindid = i.indexrelid);
