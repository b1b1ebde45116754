-- DuckDB. The days of a bulk file and how many of its $num_rows transactions each one gets: in
-- proportion to the weekday's percentage ($weekday_percent, Monday first), so bulk files show
-- the weekly rhythm too. Each day gets the difference of two floors of the running share, so
-- the days add up to exactly $num_rows.
CREATE TABLE day_plan AS
WITH days AS (
    SELECT CAST(d AS DATE) AS day
    FROM generate_series(CAST($first_day AS TIMESTAMP), CAST($last_day AS TIMESTAMP),
                         INTERVAL 1 DAY) AS t(d)
),
weighted AS (
    SELECT day,
           $weekday_percent[isodow(day)] AS weight,
           sum($weekday_percent[isodow(day)]) OVER (ORDER BY day) AS weight_through,
           sum($weekday_percent[isodow(day)]) OVER () AS weight_total
    FROM days
)
SELECT day,
       CAST(($num_rows * weight_through) // weight_total
            - ($num_rows * (weight_through - weight)) // weight_total AS BIGINT) AS rows,
       hash($stream, day) AS day_key,
       $stream || ':' || strftime(day, '%Y-%m-%d') || ':' AS id_prefix
FROM weighted;
