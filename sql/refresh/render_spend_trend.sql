-- The trend as the API sends it, a month per row (user_spend_trend_months): the months of the
-- users in trend_scope from the one their change starts in are rendered again from their rows;
-- appending a day rewrites one month per user. `earliest` as in rewrite_spend_trend.sql. Months
-- are cut from timestamps without a time zone: the same months, without a zone lookup per row.
DELETE FROM user_spend_trend_months AS m
USING trend_scope AS s
WHERE m.user_id = s.user_id
  AND m.month >= date_trunc('month', s.changed_from)
  AND m.month >= date_trunc('month', %(earliest)s::date);

INSERT INTO user_spend_trend_months (user_id, month, body)
SELECT t.user_id, date_trunc('month', t.spend_date::timestamp)::date,
       string_agg(
           trend_day_json(t.spend_date, t.daily_total, t.rolling_7d_avg), ',' ORDER BY t.spend_date
       )
FROM trend_scope AS s
JOIN user_spend_trend AS t
  ON t.user_id = s.user_id
 AND t.spend_date >= date_trunc('month', s.changed_from::timestamp)
 AND t.spend_date >= date_trunc('month', %(earliest)s::timestamp)
GROUP BY 1, 2;
