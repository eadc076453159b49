-- Form posts that acted, by their one-use key (a hash of the form's token, which is new at
-- each rendering of a page, and of what it was sent to): the same post sent again (a double
-- click, a reload that sends it again, the back button) finds what the first one led to
-- instead of acting twice. `outcome` is that (a path, a Checkout Session id), NULL while the
-- first one is still at work. Useless once the token has expired (a day): deleted then.
CREATE TABLE form_submissions (
    key                   TEXT    PRIMARY KEY,
    outcome               TEXT,
    created_at            INTEGER NOT NULL
);
CREATE INDEX form_submissions_created ON form_submissions (created_at);
