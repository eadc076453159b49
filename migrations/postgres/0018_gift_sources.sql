-- Where gifts come from, and the way to them, for the back-office (no cookies, no personal
-- data): the utm tags of the link that brought the donor, or the site they came from...
ALTER TABLE pledges ADD COLUMN utm_source TEXT;
ALTER TABLE pledges ADD COLUMN utm_campaign TEXT;
ALTER TABLE pledges ADD COLUMN referrer TEXT;
CREATE INDEX pledges_created ON pledges (created_at);

-- ...and, per campaign and day (UTC, in days since the epoch), views of its page and of its
-- donation form, counted in memory and added here every few seconds (web/funnel.rs).
CREATE TABLE campaign_funnel (
    campaign_id           BIGINT NOT NULL REFERENCES campaigns (id),
    day                   BIGINT NOT NULL,
    page_views            BIGINT NOT NULL DEFAULT 0,
    form_views            BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (campaign_id, day)
);
