-- hazgate store, schema version 21: the waybill service's answers, and the
-- registry's appointments (issue 13, parts 1 and 2).
--
-- waybill_cache holds the last answer of the waybill service for each
-- waybill number it was asked about (doc: the waybill as JSON, the
-- registry's schema), with when it was fetched. It is not the registry: a
-- registry import or delta leaves it alone.
CREATE TABLE waybill_cache (
    number     TEXT PRIMARY KEY,
    doc        TEXT NOT NULL,
    fetched_at TEXT NOT NULL
) WITHOUT ROWID;

-- appointments are registry records like the waybills: by id, found by
-- the normalised plate.
CREATE TABLE appointments (
    id    TEXT PRIMARY KEY,
    plate TEXT NOT NULL,                 -- normalised
    doc   TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX appointments_plate ON appointments (plate);
