-- A user's whole spend trend as the JSON array the API returns, joined from its pre-rendered
-- months (user_spend_trend_months); '[]' for a user without one.
SELECT '[' || coalesce(string_agg(body, ',' ORDER BY month), '') || ']'
FROM user_spend_trend_months
WHERE user_id = %(user_id)s;
