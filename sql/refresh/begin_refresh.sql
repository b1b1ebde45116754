-- Refreshes take turns: the lock comes before the snapshot, so each one sees everything the
-- previous one committed. Readers are not blocked (this mode conflicts only with writers).
-- One snapshot for the whole refresh: the queue it reads, the transactions it aggregates and
-- the reconciliation it checks all agree, whatever loads commit meanwhile.
SET TRANSACTION ISOLATION LEVEL REPEATABLE READ;
-- The refresh's own statements touch few rows (a bulk refresh's workers do the heavy ones):
-- compiling them to machine code would cost more than it saves, up to a few hundred ms a
-- statement when the planner's estimate of a per-user bound runs high.
SET LOCAL jit = off;
LOCK TABLE user_daily_spend IN EXCLUSIVE MODE;

-- The queue entries this refresh folds in; entries committed after its snapshot stay queued.
CREATE TEMP TABLE claimed_days ON COMMIT DROP AS
SELECT entry_id, spend_date, upload_id FROM analytics_pending_days;
