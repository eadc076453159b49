-- Secrets the server signs with, shared by every instance on this database: created once, at
-- the first start-up (e.g. 'form': the key of the donation form's CSRF tokens, which need no
-- session row).
CREATE TABLE server_keys (
    name                  TEXT    PRIMARY KEY,
    secret                TEXT    NOT NULL,
    created_at            BIGINT  NOT NULL
);
