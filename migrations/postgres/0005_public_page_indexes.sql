-- The campaign page's latest public supporters: only the gifts shown publicly (about 1 in
-- 1,000), in the page's order, so that a page view reads its 12 entries whatever the size of
-- the ledger. campaigns::recent_public_supporters must keep these three conditions as
-- literals in its WHERE, or neither planner can use the index.
CREATE INDEX donations_public_recent ON donations (campaign_id, donated_at, id)
    WHERE status = 'paid' AND show_publicly = 1 AND public_name IS NOT NULL;
-- A pledge's instalments: the thank-you page of a monthly gift, and the webhook's "first money
-- of this pledge?" (news consent). Without it both read every donation.
CREATE INDEX donations_pledge ON donations (pledge_id, status);
-- Only the public supporters query used it; the partial index above replaces it.
DROP INDEX donations_campaign_recent;
