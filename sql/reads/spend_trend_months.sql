-- A user's whole spend trend: its pre-rendered months (user_spend_trend_months) in order, as
-- UTF-8 bytes. The API joins them into the JSON array it sends: PostgreSQL neither aggregates
-- half a megabyte per answer nor decodes it for us.
SELECT convert_to(body, 'UTF8')
FROM user_spend_trend_months
WHERE user_id = %(user_id)s
ORDER BY month;
