-- Refreshes take turns (begin_refresh.sql): what changes the analytics outside a refresh's
-- transaction takes the same lock, and readers are not blocked.
LOCK TABLE user_daily_spend IN EXCLUSIVE MODE;
