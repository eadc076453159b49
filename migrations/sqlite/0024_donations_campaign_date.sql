-- The back-office's list of donations filtered by campaign, newest first, a page at a time
-- after a (date, id): without this index the planners read every donation of the campaign
-- and sorted them (0.4 s for a campaign of 80,000 gifts at 1M donations, BENCHMARKS.md), or
-- walked the whole ledger by date to find a closed campaign's last gifts.
CREATE INDEX donations_campaign_date ON donations (campaign_id, donated_at, id);
-- The campaign page's public supporters could now be read through it too, and SQLite, which
-- has no statistics to tell the two apart, takes the newest of two indexes it finds equally
-- good: it then walked the campaign's every gift to find its few public ones (30 ms instead
-- of 1 at 1M). The partial index of 0005, created again as it was, is the newest again
-- (tests/api/public_supporters.rs checks both planners' choice).
DROP INDEX donations_public_recent;
CREATE INDEX donations_public_recent ON donations (campaign_id, donated_at, id)
    WHERE status = 'paid' AND show_publicly = 1 AND public_name IS NOT NULL;
