-- DuckDB. Every simulated user's spending habits, keyed by how transactions pick them.
-- A user's habits come from draws on their id alone (never the day or the seed), so user 42 is
-- the same customer in every generated file. Each user appears under `pick` = their activity
-- rank (1 = most active), which ordinary transactions choose through a power law; the bursty
-- users appear a second time under `pick` = $users + their burst rank, which bursts choose
-- uniformly. Exactly $whales users are whales and $bursty_users are bursty (at least one each).
CREATE TABLE user_picks AS
WITH drawn AS (
    SELECT user_id,
           unit_draw('user', 'activity', user_id) AS u_activity,
           unit_draw('user', 'whale', user_id) AS u_whale,
           unit_draw('user', 'bursty', user_id) AS u_bursty,
           unit_draw('user', 'whale factor', user_id) AS u_whale_factor,
           unit_draw('user', 'volatility', user_id) AS u_volatility,
           -- A standard normal (Box-Muller), kept within 3 deviations: no absurd outliers.
           least(3, greatest(-3,
               sqrt(-2 * ln(1 - unit_draw('user', 'level radius', user_id)))
               * cos(2 * pi() * unit_draw('user', 'level angle', user_id)))) AS z_level
    FROM range(1, $users + 1) AS t(user_id)
),
habits AS (
    SELECT user_id,
           row_number() OVER (ORDER BY u_activity, user_id) AS activity_rank,
           row_number() OVER (ORDER BY u_bursty, user_id) AS burst_rank,
           -- Log-normal between users: about 95% of them average between ~20 and ~300.
           exp(ln($typical_mean) + $level_spread * z_level)
               * CASE WHEN row_number() OVER (ORDER BY u_whale, user_id) <= $whales
                      THEN $whale_factor_min
                           + ($whale_factor_max - $whale_factor_min) * u_whale_factor
                      ELSE 1 END AS mean_amount,
           -- Some users spend steadily, others erratically (the volatility analytics see it).
           $sigma_min + ($sigma_max - $sigma_min) * u_volatility AS amount_sigma
    FROM drawn
)
SELECT activity_rank AS pick, user_id, mean_amount, amount_sigma
FROM habits
UNION ALL
SELECT $users + burst_rank AS pick, user_id, mean_amount, amount_sigma
FROM habits
WHERE burst_rank <= $bursty_users;
