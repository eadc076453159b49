-- « Mon espace »: sign-in links, and what the space reads.

-- A sign-in link asked for: its token is random (256 bits) and only its SHA-256 is kept, so
-- that a copy of the database opens nobody's space. It works once, until expires_at.
CREATE TABLE sign_in_tokens (
    id                    INTEGER PRIMARY KEY,
    supporter_id          INTEGER NOT NULL REFERENCES supporters (id),
    token_hash            TEXT    NOT NULL UNIQUE,
    created_at            INTEGER NOT NULL,
    expires_at            INTEGER NOT NULL,
    used_at               INTEGER
);
CREATE INDEX sign_in_tokens_supporter ON sign_in_tokens (supporter_id, created_at);

-- A supporter's donations, newest first, a page at a time: without it the space would sort
-- all of them (10 years of a monthly gift) for each page.
CREATE INDEX donations_supporter_date ON donations (supporter_id, donated_at, id);
