-- The days each upload's claimed entries added rows to, with the upload's source: a refresh
-- reports which uploads it made readable, and on which days.
SELECT c.upload_id, u.source, array_agg(DISTINCT c.spend_date ORDER BY c.spend_date)
FROM claimed_days AS c
LEFT JOIN uploads AS u ON u.upload_id = c.upload_id
GROUP BY c.upload_id, u.source
ORDER BY c.upload_id;
