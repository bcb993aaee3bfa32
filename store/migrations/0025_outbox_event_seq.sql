-- hazgate store, schema version 25: the events kept after delivery, found
-- by their seq for a platform's replay (cmd/replay, docs/uplink.md).

CREATE INDEX outbox_event_seq ON outbox (event_seq) WHERE event_seq IS NOT NULL;
