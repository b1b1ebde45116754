-- Whether the user has a trend at all: tells an unknown user from an empty date range. Its
-- rows, or days to compute them from while a bulk refresh builds them (user_spend_trend_of).
SELECT EXISTS (SELECT 1 FROM user_spend_trend WHERE user_id = %(user_id)s)
    OR EXISTS (SELECT 1 FROM user_daily_spend WHERE user_id = %(user_id)s);
