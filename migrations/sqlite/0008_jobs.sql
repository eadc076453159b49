-- Background jobs, and with them the outbox: every email Obole owes someone is a job written in
-- the same transaction as its cause (a webhook applied, a sign-in asked), then run by a worker
-- (src/jobs/). A job is pending (done_at and dead_at NULL), done, or dead (attempts exhausted or
-- a permanent failure; kept with its error for the team to see).
CREATE TABLE jobs (
    id                    INTEGER PRIMARY KEY,
    kind                  TEXT    NOT NULL,
    -- JSON: what the job needs to find its data (ids, never a rendered message).
    payload               TEXT    NOT NULL,
    -- Set when a cause may be applied twice (a webhook redelivered): the job exists once.
    dedupe_key            TEXT    UNIQUE,
    run_at                INTEGER NOT NULL,
    attempts              INTEGER NOT NULL DEFAULT 0,
    max_attempts          INTEGER NOT NULL,
    last_error            TEXT,
    -- The worker that claimed the job and until when: a worker that dies loses its claim then.
    locked_by             TEXT,
    locked_until          INTEGER,
    done_at               INTEGER,
    dead_at               INTEGER,
    created_at            INTEGER NOT NULL
);
-- What a worker looks for: pending jobs by due time (done and dead ones are left out).
CREATE INDEX jobs_pending ON jobs (run_at, id) WHERE done_at IS NULL AND dead_at IS NULL;
-- Dead jobs, for `obole jobs` and the back-office.
CREATE INDEX jobs_dead ON jobs (dead_at) WHERE dead_at IS NOT NULL;
