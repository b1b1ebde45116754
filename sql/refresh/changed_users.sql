-- Every user whose daily spend this refresh rewrites, from their earliest rewritten day: the
-- trend and the risk profile rework exactly these. A row per user and statement, not per
-- (user, day): a first load rewrites millions of those.
CREATE TEMP TABLE changed_users (user_id integer, changed_from date) ON COMMIT DROP;
