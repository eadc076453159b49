-- Tax receipts (reçus fiscaux). Numbers are given per year from a counter moved in the very
-- transaction that issues the receipt: a number is never skipped (an issue that rolls back
-- gives its number back) nor given twice (the counter's row is locked until commit).
CREATE TABLE receipt_counters (
    year                  INTEGER PRIMARY KEY,
    last_number           INTEGER NOT NULL
);

CREATE TABLE tax_receipts (
    id                    INTEGER PRIMARY KEY,
    number                TEXT    NOT NULL UNIQUE,
    -- The year of issue and the order in it, which make the number.
    year                  INTEGER NOT NULL,
    sequence              INTEGER NOT NULL,
    kind                  TEXT    NOT NULL CHECK (kind IN ('single', 'annual')),
    -- The tax year of the gifts it covers.
    gift_year             INTEGER NOT NULL,
    supporter_id          INTEGER NOT NULL REFERENCES supporters (id),
    amount_cents          INTEGER NOT NULL CHECK (amount_cents > 0),
    currency              TEXT    NOT NULL DEFAULT 'EUR',
    status                TEXT    NOT NULL DEFAULT 'issued'
                                  CHECK (status IN ('issued', 'cancelled')),
    -- Everything it says, as JSON (domain/receipt.rs): its PDF is made from this alone.
    content               TEXT    NOT NULL,
    replaces_id           INTEGER REFERENCES tax_receipts (id),
    -- The PDF's SHA-256, once made (the file: DATA_DIR/receipts/<year>/<number>.pdf).
    pdf_sha256            TEXT,
    issued_at             INTEGER NOT NULL,
    -- The staff member who issued or cancelled it by hand, if one did.
    issued_by             INTEGER REFERENCES staff (id),
    cancelled_at          INTEGER,
    cancelled_by          INTEGER REFERENCES staff (id),
    cancel_reason         TEXT,
    created_at            INTEGER NOT NULL,
    UNIQUE (year, sequence)
);
CREATE INDEX tax_receipts_supporter ON tax_receipts (supporter_id, gift_year);
CREATE INDEX tax_receipts_gift_year ON tax_receipts (gift_year, status);

-- The gifts each receipt covers, and what it counted of each. A gift is covered by one issued
-- receipt at most: `active` is 1 while its receipt stands, NULL once cancelled.
CREATE TABLE receipt_gifts (
    receipt_id            INTEGER NOT NULL REFERENCES tax_receipts (id),
    donation_id           INTEGER NOT NULL REFERENCES donations (id),
    amount_cents          INTEGER NOT NULL CHECK (amount_cents > 0),
    active                INTEGER CHECK (active = 1),
    PRIMARY KEY (receipt_id, donation_id)
);
CREATE UNIQUE INDEX receipt_gifts_active ON receipt_gifts (donation_id) WHERE active = 1;
CREATE INDEX receipt_gifts_donation ON receipt_gifts (donation_id);

-- When a supporter was asked for the postal address their receipt waits for.
ALTER TABLE supporters ADD COLUMN receipt_address_asked_at INTEGER;
