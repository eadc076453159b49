-- The fundraising team's accounts (/admin), and the journal of what they do.

-- A staff member. Created with `obole create-staff` (the first admin) or by an admin; never
-- deleted (the journal names them), disabled instead. Passwords: argon2id (PHC string).
CREATE TABLE staff (
    id                    INTEGER PRIMARY KEY,
    email                 TEXT    NOT NULL UNIQUE,
    role                  TEXT    NOT NULL CHECK (role IN ('admin', 'editor', 'viewer')),
    password_hash         TEXT    NOT NULL,
    -- Failed sign-ins in a row; at 5 the account waits until locked_until.
    failed_attempts       INTEGER NOT NULL DEFAULT 0,
    locked_until          INTEGER,
    -- Raised by « Me déconnecter partout » (and when access changes): a session holds the
    -- generation it was opened in, and is worth nothing once it differs.
    session_generation    INTEGER NOT NULL DEFAULT 0,
    disabled_at           INTEGER,
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL
);

-- Every staff action that changes something: who, what, when, and for what touches money or
-- access, the state before and after (JSON). Append-only: the triggers below refuse any
-- change or deletion, whoever asks.
CREATE TABLE audit_log (
    id                    INTEGER PRIMARY KEY,
    staff_id              INTEGER REFERENCES staff (id),
    action                TEXT    NOT NULL,
    subject               TEXT    NOT NULL DEFAULT '',
    before_state          TEXT,
    after_state           TEXT,
    at                    INTEGER NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at, id);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

-- The dashboard's money over recent periods reads donations by date, and the back-office's
-- list pages through them newest first (by date, then id); recurring gifts by status.
CREATE INDEX donations_date ON donations (donated_at, id);
CREATE INDEX recurring_gifts_status ON recurring_gifts (status);
