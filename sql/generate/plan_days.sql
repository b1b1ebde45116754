-- DuckDB. The days of a generated range and how many transactions each one gets: rows_per_day
-- scaled by the weekday's percentage ($weekday_percent, Monday first), rounded half up, at least
-- one. txn_core.generator.rows_for_day computes the same number in Python.
-- A day's key and id prefix depend only on the stream and the day, so a day generated alone and
-- the same day inside a longer range give identical rows.
CREATE TABLE day_plan AS
SELECT day,
       CAST(greatest(1, ($rows_per_day * $weekday_percent[isodow(day)] + 50) // 100) AS BIGINT)
           AS rows,
       hash($stream, day) AS day_key,
       $stream || ':' || strftime(day, '%Y-%m-%d') || ':' AS id_prefix
FROM (
    SELECT CAST(d AS DATE) AS day
    FROM generate_series(CAST($first_day AS TIMESTAMP), CAST($last_day AS TIMESTAMP),
                         INTERVAL 1 DAY) AS t(d)
);
