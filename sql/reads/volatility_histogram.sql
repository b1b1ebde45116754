-- How users spread over the spending volatility index, binned in the database so the page
-- carries a few bins rather than one value per user. The range from the lowest to the highest
-- index is cut into equal bins (at least 0.01 wide); empty bins are left out.
WITH bounds AS (
    SELECT min(volatility_index) AS low,
           greatest((max(volatility_index) - min(volatility_index)) / %(bins)s::integer, 0.01)
               AS width
    FROM user_risk_profile
),
binned AS (
    SELECT least(floor((p.volatility_index - b.low) / b.width), %(bins)s::integer - 1) AS bin,
           b.low, b.width
    FROM user_risk_profile AS p
    CROSS JOIN bounds AS b
)
SELECT low + bin * width AS bin_start,
       low + (bin + 1) * width AS bin_end,
       count(*) AS users
FROM binned
GROUP BY bin, low, width
ORDER BY bin;
