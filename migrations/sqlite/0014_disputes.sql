-- Disputes: a donor's bank questioning a payment (a chargeback, or an inquiry before one).

-- What disputes hold of a donation's money while open, and once lost: the sum of their
-- amounts, never more than what was not refunded (refunded_cents + disputed_cents never
-- exceeds amount_cents), so a donation counts for amount_cents - refunded_cents -
-- disputed_cents and never below zero. Kept by the dispute rule, in the same transaction as
-- the counters.
ALTER TABLE donations ADD COLUMN disputed_cents INTEGER NOT NULL DEFAULT 0 CHECK (disputed_cents >= 0);

-- One row per Stripe dispute, as its latest event said it, for the team to follow up.
CREATE TABLE disputes (
    id                    INTEGER PRIMARY KEY,
    stripe_dispute_id     TEXT    NOT NULL UNIQUE,
    donation_id           INTEGER NOT NULL REFERENCES donations (id),
    amount_cents          INTEGER NOT NULL CHECK (amount_cents >= 0),
    currency              TEXT    NOT NULL,
    -- Stripe's words: `fraudulent`, `general`, `subscription_canceled`, …
    reason                TEXT    NOT NULL,
    -- As Stripe says: `needs_response`, `under_review`, `won`, `lost`, `warning_…`, …
    status                TEXT    NOT NULL,
    outcome               TEXT    NOT NULL CHECK (outcome IN ('open', 'won', 'lost')),
    -- When Stripe opened it (the dispute's `created`).
    opened_at             INTEGER NOT NULL,
    -- When evidence is due (`evidence_details.due_by`), if the bank allows a response.
    due_by                INTEGER,
    -- The creation time of the last event applied, so an older one never undoes a newer.
    stripe_event_at       INTEGER NOT NULL,
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL
);
CREATE INDEX disputes_donation ON disputes (donation_id);
CREATE INDEX disputes_follow_up ON disputes (outcome, due_by);
