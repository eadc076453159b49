-- Each reconciliation with Stripe (`obole reconcile`, or the daily job): what it read and
-- repaired, shown to staff in the back-office. `changes` lists the objects repaired, each as
-- « id : before → after » (statuses and amounts, never a name or an address).
CREATE TABLE reconcile_runs (
    id          INTEGER PRIMARY KEY,
    started_by  TEXT    NOT NULL CHECK (started_by IN ('command', 'schedule')),
    since       INTEGER NOT NULL,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER,
    checked     INTEGER NOT NULL DEFAULT 0,
    repaired    INTEGER NOT NULL DEFAULT 0,
    waiting     INTEGER NOT NULL DEFAULT 0,
    changes     TEXT    NOT NULL DEFAULT '',
    error       TEXT
);
CREATE INDEX reconcile_runs_recent ON reconcile_runs (started_at);
