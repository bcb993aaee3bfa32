-- hazgate store, schema version 8: a message marked sent has its sent_at.
--
-- Until now a mark could move counters.outbox_low past sent rows without
-- writing their sent_at, which was written later, when the uplink was idle
-- (counters.outbox_stamped said how far that had got). Marks now write
-- sent_at on the rows themselves, so sent_at IS NULL means unsent, below the
-- low-water mark as above it. The rows a mark left without it are stamped
-- here, with the time of the upgrade (as the idle stamping would have done),
-- and the pending count is counted again: the trigger outbox_pending_sent
-- takes each stamped row off it, which the mark had done already.

UPDATE outbox SET sent_at = strftime('%Y-%m-%dT%H:%M:%S.000000000Z', 'now')
    WHERE sent_at IS NULL AND seq < (SELECT value FROM counters WHERE name = 'outbox_low');

UPDATE counters SET value = (SELECT count(*) FROM outbox WHERE sent_at IS NULL)
    WHERE name = 'outbox_pending';

DELETE FROM counters WHERE name = 'outbox_stamped';
