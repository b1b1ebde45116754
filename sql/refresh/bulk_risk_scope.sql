-- risk_scope.sql for the bulk path's last step (finish_risk.sql): every user of the new risk
-- profile.
CREATE TEMP TABLE risk_scope ON COMMIT DROP AS
SELECT user_id FROM user_risk_profile;

ANALYZE risk_scope;
