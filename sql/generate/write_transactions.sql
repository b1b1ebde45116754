-- DuckDB. Writes the simulated transactions of every day in `day_plan` to $path in the data
-- contract's format, sorted by time. Every quantity of row i of a day is a unit_draw of (the
-- day's key, a purpose, i or i's burst block), so a day's rows never depend on the other days
-- generated with it.
-- - Users: ordinary rows pick an activity rank through a power law (u ^ $activity_skew), so a
--   few users are far more active than most; products likewise, less skewed.
-- - Amounts: log-normal around the user's own mean with the user's own sigma (the mean is kept:
--   exp(sigma * z - sigma^2 / 2) averages 1), clipped to the contract's range.
-- - Time of day: hour h holds $hour_weights[h + 1] of the day's tickets (an integer each), a
--   row draws one ticket, so the hours get exactly those shares; the second within the hour is
--   uniform. (An equality join on the ticket: an ASOF join on cumulative shares sorts every
--   row and took most of the time.)
-- - Bursts: the first row slots of a day form blocks of 8, about one block per $rows_per_burst
--   rows. A block is one burst of a bursty user, 3 to 8 transactions within $burst_seconds of
--   each other; the block's remaining slots are ordinary rows, so the day's total never changes.
-- - Ids: the md5 digest of '<stream>:<day>:<i>' read as a little-endian 128-bit number
--   (md5_number) with the UUID version-4 and variant bits set; in Python,
--   uuid.UUID(int=int.from_bytes(md5(key).digest(), "little"), version=4). md5, unlike hash(),
--   is the same in every DuckDB version, so a day's ids never change.

-- One row per transaction to make, stored first: DuckDB runs range() in a single thread but
-- scans a stored table's row groups in parallel, so everything after this uses every core.
CREATE TEMP TABLE row_slots AS
SELECT day_plan.day, CAST(slot.i AS INTEGER) AS i
FROM day_plan, range(day_plan.rows) AS slot(i);

COPY (
    WITH hour_tickets AS (
        SELECT CAST(row_number() OVER (ORDER BY hour) - 1 AS BIGINT) AS ticket, hour
        FROM (SELECT hour, unnest(range($hour_weights[hour + 1])) FROM range(24) AS t(hour))
    ),
    days AS (
        SELECT day, rows, day_key, id_prefix,
               -- Rounded up or down at random so that small days still see their bursts on
               -- average; never more blocks than the day has rows for.
               8 * CAST(least(rows // 8, floor(rows / $rows_per_burst
                                               + unit_draw(day_key, 'bursts', 0))) AS BIGINT)
                   AS burst_slots
        FROM day_plan
    ),
    slots AS (
        SELECT days.day, days.day_key, days.id_prefix, row_slots.i,
               row_slots.i // 8 AS block,
               row_slots.i < days.burst_slots
                   AND row_slots.i % 8 < 3 + floor(6 * unit_draw(days.day_key, 'burst size',
                                                                 row_slots.i // 8)) AS in_burst
        FROM row_slots JOIN days USING (day)
    ),
    drawn AS (
        SELECT day, id_prefix, i, in_burst,
               CAST(CASE WHEN in_burst
                         THEN $users + 1 + floor($bursty_users
                                                 * unit_draw(day_key, 'burst owner', block))
                         ELSE 1 + floor($users * pow(unit_draw(day_key, 'user', i),
                                                     $activity_skew))
                    END AS BIGINT) AS pick,
               CAST(1 + floor($products * pow(unit_draw(day_key, 'product', i), $product_skew))
                    AS BIGINT) AS product_id,
               -- A burst's rows share one starting time and spread after it.
               CAST(floor(list_sum($hour_weights)
                          * CASE WHEN in_burst THEN unit_draw(day_key, 'burst hour', block)
                                 ELSE unit_draw(day_key, 'hour', i) END) AS BIGINT)
                   AS hour_ticket,
               CASE WHEN in_burst THEN unit_draw(day_key, 'burst second', block)
                    ELSE unit_draw(day_key, 'second', i) END AS u_second,
               CASE WHEN in_burst THEN floor($burst_seconds * unit_draw(day_key, 'burst gap', i))
               END AS burst_offset,
               -- A standard normal (Box-Muller); 1 - u is in (0, 1], so ln() is defined.
               sqrt(-2 * ln(1 - unit_draw(day_key, 'amount radius', i)))
                   * cos(2 * pi() * unit_draw(day_key, 'amount angle', i)) AS z_amount
        FROM slots
    ),
    timed AS (
        SELECT drawn.*,
               hour_tickets.hour * 3600 + floor(3600 * drawn.u_second) AS start_second
        FROM drawn JOIN hour_tickets ON drawn.hour_ticket = hour_tickets.ticket
    ),
    simulated AS (
        SELECT CAST((md5_number(timed.id_prefix || timed.i)
                     & ~((CAST(15 AS UHUGEINT) << 76) | (CAST(3 AS UHUGEINT) << 62)))
                    | (CAST(4 AS UHUGEINT) << 76) | (CAST(2 AS UHUGEINT) << 62) AS UUID)
                   AS transaction_id,
               picks.user_id,
               timed.product_id,
               timed.day + to_seconds(CAST(
                   CASE WHEN timed.in_burst
                        -- Started early enough that the whole burst stays within the day.
                        THEN least(timed.start_second, 86400 - $burst_seconds)
                             + timed.burst_offset
                        ELSE timed.start_second END AS BIGINT)) AS ts,
               CAST(least(greatest(
                   picks.mean_amount * exp(picks.amount_sigma * timed.z_amount
                                           - picks.amount_sigma * picks.amount_sigma / 2),
                   $min_amount), $max_amount) AS DECIMAL(10, 2)) AS transaction_amount
        FROM timed JOIN user_picks AS picks USING (pick)
    )
    -- Native UUID, TIMESTAMP and DECIMAL(10, 2) values print as the contract wants them:
    -- 8-4-4-4-12 hex, 'YYYY-MM-DD HH:MM:SS' (whole seconds) and exactly two decimals.
    SELECT transaction_id, user_id, product_id, ts AS "timestamp", transaction_amount
    FROM simulated
    ORDER BY "timestamp", transaction_id
) TO $path (FORMAT csv, HEADER, COMPRESSION $compression);
