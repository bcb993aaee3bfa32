-- Kiosk accounts: gate operators and supervisors. Passwords are kept only as
-- bcrypt hashes; there is no default account (`hazgate operator add`).
-- Sessions and login attempts live in the kiosk's memory, not here: a
-- restart signs everyone out and forgets the rate limits' counts.

CREATE TABLE operators (
    name          TEXT PRIMARY KEY CHECK (name <> ''),
    role          TEXT NOT NULL CHECK (role IN ('operator', 'supervisor')),
    password_hash TEXT NOT NULL CHECK (password_hash LIKE '$2%'),
    disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
) WITHOUT ROWID;
