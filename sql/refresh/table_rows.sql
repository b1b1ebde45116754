-- How many rows each analytics table holds, for the catalog (after every refresh).
SELECT (SELECT count(*) FROM user_daily_spend),
       (SELECT count(*) FROM user_spend_trend),
       (SELECT count(*) FROM user_risk_profile);
