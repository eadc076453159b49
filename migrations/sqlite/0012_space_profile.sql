-- « Mon espace »: the profile, the data a supporter can take away or erase, and a gift
-- restarted after it was cancelled.

-- A link that confirms a new email address: sent to that address, it makes it the
-- supporter's once opened. Sign-in links have none.
ALTER TABLE sign_in_tokens ADD COLUMN new_email TEXT;

-- When the supporter erased their account: their identity is gone from this row and from
-- their pledges; their donations stay (the accounting the law requires), attached to this
-- row, so totals and donor counts do not move. Nothing is sent to an erased supporter.
ALTER TABLE supporters ADD COLUMN erased_at INTEGER;

-- The cancelled gift a new one takes up again (« Reprendre ce don »): the new gift comes from
-- this pledge, and each shows the other in its history.
ALTER TABLE pledges ADD COLUMN restarts_gift_id INTEGER REFERENCES recurring_gifts (id);

-- The emails sent to a supporter (what, when), recorded with the job that sent them: the
-- supporter's data export lists them. The job's id, not a reference: old jobs are pruned,
-- this record stays.
CREATE TABLE emails_sent (
    id                    INTEGER PRIMARY KEY,
    supporter_id          INTEGER NOT NULL REFERENCES supporters (id),
    job_id                INTEGER NOT NULL UNIQUE,
    subject               TEXT    NOT NULL,
    sent_at               INTEGER NOT NULL
);
CREATE INDEX emails_sent_supporter ON emails_sent (supporter_id, sent_at);
-- A gift's page names the gift that took it up again.
CREATE INDEX pledges_restarts_gift ON pledges (restarts_gift_id) WHERE restarts_gift_id IS NOT NULL;
