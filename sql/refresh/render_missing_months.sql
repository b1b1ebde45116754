-- The rendered months (user_spend_trend_months) of every user who has a trend but none of its
-- months, within a slice of the users, low <= user_id < high (NULL: no bound): right after
-- their trend rows (render_missing_trends), whether a bulk refresh's workers build them or a
-- later refresh catches up with a build that died. All of a user's months come in one
-- statement: a user has every month or none.
INSERT INTO user_spend_trend_months (user_id, month, body)
SELECT t.user_id, date_trunc('month', t.spend_date::timestamp)::date,
       string_agg(
           trend_day_json(t.spend_date, t.daily_total, t.rolling_7d_avg), ',' ORDER BY t.spend_date
       )
FROM user_spend_trend AS t
WHERE t.user_id IN (
    SELECT r.user_id
    FROM user_risk_profile AS r
    WHERE (%(low)s::integer IS NULL OR r.user_id >= %(low)s)
      AND (%(high)s::integer IS NULL OR r.user_id < %(high)s)
      AND NOT EXISTS (SELECT FROM user_spend_trend_months AS m WHERE m.user_id = r.user_id)
)
GROUP BY 1, 2;
