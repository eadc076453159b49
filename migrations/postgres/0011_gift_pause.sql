-- Until when a recurring gift's pause lasts, when it ends by itself (Stripe's
-- pause_collection.resumes_at): « Mon espace » shows it.
ALTER TABLE recurring_gifts ADD COLUMN paused_until BIGINT;
