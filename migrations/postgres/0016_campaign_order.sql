-- The order of campaigns on the home page, as the team sets it in the back-office (smaller
-- first; then the newest).
ALTER TABLE campaigns ADD COLUMN position BIGINT NOT NULL DEFAULT 0;
