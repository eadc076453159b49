-- The organisation as an admin describes it in the back-office (/admin/organisation): what
-- tax receipts must state (CERFA n° 11580: identity, object, category, the CGI articles it
-- certifies under, the signatory) and what the legal pages need. One row; empty fields are
-- not filled in yet, and the back-office names them.
CREATE TABLE organisation_settings (
    singleton             INTEGER PRIMARY KEY CHECK (singleton = 1),
    name                  TEXT    NOT NULL DEFAULT '',
    address_line1         TEXT    NOT NULL DEFAULT '',
    postal_code           TEXT    NOT NULL DEFAULT '',
    city                  TEXT    NOT NULL DEFAULT '',
    object                TEXT    NOT NULL DEFAULT '',
    -- Which box of the receipt applies (domain/organisation.rs lists them).
    category              TEXT    NOT NULL DEFAULT '',
    siren                 TEXT    NOT NULL DEFAULT '',
    rna                   TEXT    NOT NULL DEFAULT '',
    -- Articles of the CGI the gifts qualify under: '200', '238 bis', '978', comma-separated.
    cgi_articles          TEXT    NOT NULL DEFAULT '',
    signatory_name        TEXT    NOT NULL DEFAULT '',
    signatory_role        TEXT    NOT NULL DEFAULT '',
    publication_director  TEXT    NOT NULL DEFAULT '',
    contact_email         TEXT    NOT NULL DEFAULT '',
    host                  TEXT    NOT NULL DEFAULT '',
    public_utility        INTEGER NOT NULL DEFAULT 0 CHECK (public_utility IN (0, 1)),
    updated_at            INTEGER NOT NULL DEFAULT 0
);
INSERT INTO organisation_settings (singleton) VALUES (1);
