-- This database's identity: one row holding a random id, written at the first start-up
-- (src/store/ledger.rs). What lives outside the database and acts on it, the demo Stripe
-- sandbox's state file above all, is bound to this id, so it never acts on another ledger
-- (a deleted SQLite file, a changed DATABASE_URL).
CREATE TABLE ledger_identity (
    singleton             BIGINT  PRIMARY KEY CHECK (singleton = 1),
    ledger_id             TEXT    NOT NULL,
    created_at            BIGINT  NOT NULL
);
