-- One risk row per user with spend: (users with spend, risk rows, users without a risk row).
SELECT (SELECT count(DISTINCT user_id) FROM user_daily_spend),
       (SELECT count(*) FROM user_risk_profile),
       (SELECT count(*) FROM (
            SELECT DISTINCT user_id FROM user_daily_spend
            EXCEPT SELECT user_id FROM user_risk_profile
        ) AS missing);
