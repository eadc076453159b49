-- When the identity a supporter row holds was given (the creation time of the pledge it came
-- from), so that an older gift's events, delivered late, never overwrite a newer identity.
ALTER TABLE supporters ADD COLUMN identity_at BIGINT NOT NULL DEFAULT 0;
UPDATE supporters SET identity_at = updated_at;
