-- Whether the user has a trend at all: tells an unknown user from an empty date range.
SELECT EXISTS (SELECT 1 FROM user_spend_trend WHERE user_id = %(user_id)s);
