-- hazgate store, schema version 9: alarms held back by a rate limit are
-- counted here, so that a restart does not lose the count.
--
-- The uplink lets a few alarms of each kind through per minute (a flood of
-- garbage commands must not flood the feed) and counts the rest; the next
-- alarm of that kind that goes through says how many were held back, and
-- only then is its count taken off here. kind is the limiter's key (e.g.
-- "command_refused/unsigned"), count the alarms held back and not yet
-- reported, since when the first of them was.

CREATE TABLE alarm_suppressed (
    kind  TEXT PRIMARY KEY CHECK (kind <> ''),
    count INTEGER NOT NULL CHECK (count > 0),
    since TEXT NOT NULL
) WITHOUT ROWID;
