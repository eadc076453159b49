-- What a supporter agreed to receive beyond the emails their gifts call for, and the history
-- of each agreement: given on the form or in « Mon espace », withdrawn there or by the
-- one-click unsubscribe link of an email (RFC 8058). The history is the proof the RGPD asks
-- for; the flags on supporters are what the worker reads.

-- An email at each instalment of a recurring gift (by default none: the annual receipt
-- covers them).
ALTER TABLE supporters ADD COLUMN instalment_emails INTEGER NOT NULL DEFAULT 0
    CHECK (instalment_emails IN (0, 1));

CREATE TABLE consent_changes (
    id                    INTEGER PRIMARY KEY,
    supporter_id          INTEGER NOT NULL REFERENCES supporters (id),
    -- 'news' (news of the projects) or 'instalments' (an email at each instalment).
    topic                 TEXT    NOT NULL CHECK (topic IN ('news', 'instalments')),
    granted               INTEGER NOT NULL CHECK (granted IN (0, 1)),
    -- 'form', 'space' or 'unsubscribe_link'.
    source                TEXT    NOT NULL,
    changed_at            INTEGER NOT NULL
);
CREATE INDEX consent_changes_supporter ON consent_changes (supporter_id, changed_at);
