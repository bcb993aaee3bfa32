-- An account's unlocks go up by one each time a supervisor (at the kiosk)
-- or `hazgate operator unlock` clears its sign-in lockouts. The kiosk keeps
-- the failed sign-ins in memory, each with the unlocks it was counted
-- under, and forgets those counted before the latest unlock: the CLI can
-- clear a lockout while the kiosk runs. Unlocks do not change the
-- account's generation, so they end no session.
ALTER TABLE operators ADD COLUMN unlocks INTEGER NOT NULL DEFAULT 0;
