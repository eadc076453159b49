-- Projects are written, published and closed from the back-office, as campaigns are. Those
-- that exist were public already.
ALTER TABLE projects ADD COLUMN status TEXT NOT NULL DEFAULT 'published'
    CHECK (status IN ('draft', 'published', 'closed'));
