-- The organisation's logo, shown in every page's header: a picture an admin uploads (its
-- address under /medias/), empty for the default mark.
ALTER TABLE organisation_settings ADD COLUMN logo_image TEXT NOT NULL DEFAULT '';
