-- The signature printed on tax receipts: a picture an admin uploads (its address under
-- /medias/), empty until then.
ALTER TABLE organisation_settings ADD COLUMN signature_image TEXT NOT NULL DEFAULT '';
