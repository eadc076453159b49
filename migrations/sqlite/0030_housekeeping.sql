-- Housekeeping (src/jobs/housekeeping.rs) finds what it sweeps without reading the rest of
-- each table: pledges still open, jobs done, links by expiry.
CREATE INDEX pledges_open ON pledges (created_at) WHERE status = 'open';
CREATE INDEX jobs_done ON jobs (done_at) WHERE done_at IS NOT NULL;
CREATE INDEX sign_in_tokens_expiry ON sign_in_tokens (expires_at);
