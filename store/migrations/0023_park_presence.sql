-- hazgate store, schema version 23: who is inside the park.
--
-- Every gate of a park hears its sibling gates' passages (their
-- events/passage, and their retained presence view after a restart) and
-- keeps them in park_passages; its own stay in passages. park_latest holds,
-- for every plate, the latest passage of the park that the gate knows of,
-- whichever gate it was at (the later "at" wins, then the larger id): the
-- vehicles inside are its rows whose direction is 'in'. It is updated in
-- the transaction that records each passage, own or heard.

CREATE TABLE park_passages (
    id            TEXT PRIMARY KEY,
    gate          TEXT NOT NULL CHECK (gate <> ''),
    lane          TEXT NOT NULL,
    direction     TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    plate         TEXT NOT NULL,
    plate_norm    TEXT NOT NULL,
    at            TEXT NOT NULL,
    inspection_id TEXT,            -- the sibling's inspection: not in this store
    received_at   TEXT NOT NULL
);
CREATE INDEX park_passages_at ON park_passages (at);

CREATE TABLE park_latest (
    plate_norm    TEXT PRIMARY KEY,
    plate         TEXT NOT NULL,
    passage_id    TEXT NOT NULL,
    gate          TEXT NOT NULL,
    lane          TEXT NOT NULL,
    direction     TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    at            TEXT NOT NULL,
    inspection_id TEXT
) WITHOUT ROWID;
CREATE INDEX park_latest_direction ON park_latest (direction, at);

-- The gate's own passages so far, the latest of each plate.
INSERT INTO park_latest (plate_norm, plate, passage_id, gate, lane, direction, at, inspection_id)
SELECT plate_norm, plate, id, gate, lane, direction, at, inspection_id FROM (
    SELECT p.*, row_number() OVER (PARTITION BY plate_norm ORDER BY at DESC, id DESC) AS n
      FROM passages p WHERE plate_norm <> '')
 WHERE n = 1;
