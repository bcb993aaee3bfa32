-- An account's generation goes up with every change to it (a new password
-- or role, disabled, enabled): the kiosk ends the sessions signed in under
-- an older generation, even when the change was undone since.
ALTER TABLE operators ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;
