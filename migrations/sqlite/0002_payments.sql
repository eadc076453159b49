-- What the payment flow needs beyond the foundation.

-- The creation time of the last Stripe subscription event applied, so an older event that
-- arrives late never overwrites a newer state.
ALTER TABLE recurring_gifts ADD COLUMN stripe_event_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE recurring_gifts ADD COLUMN stripe_customer_id TEXT;

-- Where the donor was sent to pay, so a second click on "Je donne" reuses the same checkout.
ALTER TABLE pledges ADD COLUMN checkout_url TEXT;
