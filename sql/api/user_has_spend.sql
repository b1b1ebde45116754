-- Whether the user has any spend at all: tells an unknown user from an empty date range.
SELECT EXISTS (SELECT 1 FROM user_daily_spend WHERE user_id = %(user_id)s);
