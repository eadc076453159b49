-- Each run of failed payments of a recurring gift, from the first failure to the payment that
-- ended it (if one did): the back-office counts the gifts recovered after a failure. At most
-- one open run per gift.
CREATE TABLE payment_failures (
    id                    INTEGER PRIMARY KEY,
    recurring_gift_id     INTEGER NOT NULL REFERENCES recurring_gifts (id),
    -- Stripe's time of the first failed payment, and of the payment that recovered it.
    failed_at             INTEGER NOT NULL,
    recovered_at          INTEGER,
    created_at            INTEGER NOT NULL
);
CREATE UNIQUE INDEX payment_failures_open ON payment_failures (recurring_gift_id)
    WHERE recovered_at IS NULL;
-- A run is recovered by one payment: a late or repeated failure finds it and adds nothing.
CREATE UNIQUE INDEX payment_failures_recovery ON payment_failures (recurring_gift_id, recovered_at);
CREATE INDEX payment_failures_recovered ON payment_failures (recovered_at);
CREATE INDEX payment_failures_failed ON payment_failures (failed_at);
