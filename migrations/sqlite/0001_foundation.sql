-- Obole's data model. Money is integer cents beside a currency code; timestamps are unix
-- seconds; flags are 0/1 integers (the same on PostgreSQL, so one query text serves both).

CREATE TABLE projects (
    id                    INTEGER PRIMARY KEY,
    slug                  TEXT    NOT NULL UNIQUE,
    name                  TEXT    NOT NULL,
    full_name             TEXT    NOT NULL,
    tagline               TEXT    NOT NULL,
    description           TEXT    NOT NULL,
    location              TEXT    NOT NULL,
    cover_image           TEXT    NOT NULL,
    -- What one beneficiary costs, to show "children/families reached" from money raised.
    impact_unit_cents     INTEGER CHECK (impact_unit_cents IS NULL OR impact_unit_cents > 0),
    impact_unit_label     TEXT,
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL
);

CREATE TABLE campaigns (
    id                    INTEGER PRIMARY KEY,
    project_id            INTEGER NOT NULL REFERENCES projects (id),
    slug                  TEXT    NOT NULL UNIQUE,
    title                 TEXT    NOT NULL,
    summary               TEXT    NOT NULL,
    story                 TEXT    NOT NULL,
    cover_image           TEXT    NOT NULL,
    goal_cents            INTEGER NOT NULL CHECK (goal_cents > 0),
    currency              TEXT    NOT NULL DEFAULT 'EUR',
    starts_at             INTEGER NOT NULL,
    ends_at               INTEGER,
    status                TEXT    NOT NULL DEFAULT 'draft'
                                  CHECK (status IN ('draft', 'published', 'closed')),
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL
);
CREATE INDEX campaigns_project ON campaigns (project_id);
CREATE INDEX campaigns_status ON campaigns (status);

-- Totals shown on pages, kept in the same transaction as the donations they count.
CREATE TABLE campaign_counters (
    campaign_id           INTEGER PRIMARY KEY REFERENCES campaigns (id),
    raised_cents          INTEGER NOT NULL DEFAULT 0,
    donors                INTEGER NOT NULL DEFAULT 0,
    donations             INTEGER NOT NULL DEFAULT 0,
    updated_at            INTEGER NOT NULL
);

-- One row (id = 1): organisation-wide totals, since a donor may give to several campaigns.
CREATE TABLE organisation_counters (
    id                    INTEGER PRIMARY KEY CHECK (id = 1),
    raised_cents          INTEGER NOT NULL DEFAULT 0,
    donors                INTEGER NOT NULL DEFAULT 0,
    donations             INTEGER NOT NULL DEFAULT 0,
    updated_at            INTEGER NOT NULL
);
INSERT INTO organisation_counters (id, raised_cents, donors, donations, updated_at)
VALUES (1, 0, 0, 0, 0);

CREATE TABLE impact_tiers (
    id                    INTEGER PRIMARY KEY,
    project_id            INTEGER REFERENCES projects (id),
    campaign_id           INTEGER REFERENCES campaigns (id),
    amount_cents          INTEGER NOT NULL CHECK (amount_cents > 0),
    label                 TEXT    NOT NULL,
    position              INTEGER NOT NULL DEFAULT 0,
    created_at            INTEGER NOT NULL,
    CHECK (project_id IS NOT NULL OR campaign_id IS NOT NULL)
);
CREATE INDEX impact_tiers_campaign ON impact_tiers (campaign_id);
CREATE INDEX impact_tiers_project ON impact_tiers (project_id);

CREATE TABLE suggested_amounts (
    id                    INTEGER PRIMARY KEY,
    campaign_id           INTEGER NOT NULL REFERENCES campaigns (id),
    frequency             TEXT    NOT NULL CHECK (frequency IN ('once', 'monthly', 'yearly')),
    amount_cents          INTEGER NOT NULL CHECK (amount_cents > 0),
    label                 TEXT,
    position              INTEGER NOT NULL DEFAULT 0,
    created_at            INTEGER NOT NULL,
    UNIQUE (campaign_id, frequency, amount_cents)
);

CREATE TABLE supporters (
    id                    INTEGER PRIMARY KEY,
    email                 TEXT    NOT NULL UNIQUE,
    first_name            TEXT    NOT NULL,
    last_name             TEXT    NOT NULL,
    address_line1         TEXT    NOT NULL DEFAULT '',
    address_line2         TEXT    NOT NULL DEFAULT '',
    postal_code           TEXT    NOT NULL DEFAULT '',
    city                  TEXT    NOT NULL DEFAULT '',
    country               TEXT    NOT NULL DEFAULT 'FR',
    news_consent          INTEGER NOT NULL DEFAULT 0 CHECK (news_consent IN (0, 1)),
    stripe_customer_id    TEXT UNIQUE,
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL
);

-- A checkout that was started: not money yet.
CREATE TABLE pledges (
    id                    INTEGER PRIMARY KEY,
    campaign_id           INTEGER NOT NULL REFERENCES campaigns (id),
    supporter_id          INTEGER REFERENCES supporters (id),
    amount_cents          INTEGER NOT NULL CHECK (amount_cents > 0),
    currency              TEXT    NOT NULL DEFAULT 'EUR',
    frequency             TEXT    NOT NULL CHECK (frequency IN ('once', 'monthly', 'yearly')),
    email                 TEXT    NOT NULL,
    first_name            TEXT    NOT NULL,
    last_name             TEXT    NOT NULL,
    address_line1         TEXT    NOT NULL,
    address_line2         TEXT    NOT NULL DEFAULT '',
    postal_code           TEXT    NOT NULL,
    city                  TEXT    NOT NULL,
    country               TEXT    NOT NULL,
    dedication_kind       TEXT CHECK (dedication_kind IS NULL OR dedication_kind IN ('memory', 'honour')),
    dedication_name       TEXT,
    show_publicly         INTEGER NOT NULL DEFAULT 0 CHECK (show_publicly IN (0, 1)),
    news_consent          INTEGER NOT NULL DEFAULT 0 CHECK (news_consent IN (0, 1)),
    stripe_checkout_session_id TEXT UNIQUE,
    status                TEXT    NOT NULL DEFAULT 'open'
                                  CHECK (status IN ('open', 'completed', 'expired', 'failed')),
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL
);
CREATE INDEX pledges_campaign ON pledges (campaign_id);

-- A subscription: each paid invoice of it is one donation.
CREATE TABLE recurring_gifts (
    id                    INTEGER PRIMARY KEY,
    supporter_id          INTEGER NOT NULL REFERENCES supporters (id),
    campaign_id           INTEGER NOT NULL REFERENCES campaigns (id),
    pledge_id             INTEGER REFERENCES pledges (id),
    amount_cents          INTEGER NOT NULL CHECK (amount_cents > 0),
    currency              TEXT    NOT NULL DEFAULT 'EUR',
    frequency             TEXT    NOT NULL CHECK (frequency IN ('monthly', 'yearly')),
    status                TEXT    NOT NULL
                                  CHECK (status IN ('incomplete', 'active', 'past_due', 'paused', 'canceled')),
    stripe_subscription_id TEXT UNIQUE,
    cancel_at_period_end  INTEGER NOT NULL DEFAULT 0 CHECK (cancel_at_period_end IN (0, 1)),
    current_period_end    INTEGER,
    canceled_at           INTEGER,
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL
);
CREATE INDEX recurring_gifts_supporter ON recurring_gifts (supporter_id);

-- Confirmed money: a row exists only for what Stripe confirmed or staff entered.
CREATE TABLE donations (
    id                    INTEGER PRIMARY KEY,
    campaign_id           INTEGER NOT NULL REFERENCES campaigns (id),
    supporter_id          INTEGER NOT NULL REFERENCES supporters (id),
    pledge_id             INTEGER REFERENCES pledges (id),
    recurring_gift_id     INTEGER REFERENCES recurring_gifts (id),
    amount_cents          INTEGER NOT NULL CHECK (amount_cents > 0),
    refunded_cents        INTEGER NOT NULL DEFAULT 0 CHECK (refunded_cents >= 0),
    currency              TEXT    NOT NULL DEFAULT 'EUR',
    frequency             TEXT    NOT NULL CHECK (frequency IN ('once', 'monthly', 'yearly')),
    payment_method        TEXT    NOT NULL DEFAULT 'card',
    status                TEXT    NOT NULL
                                  CHECK (status IN ('pending', 'paid', 'failed', 'refunded')),
    show_publicly         INTEGER NOT NULL DEFAULT 0 CHECK (show_publicly IN (0, 1)),
    public_name           TEXT,
    dedication_kind       TEXT CHECK (dedication_kind IS NULL OR dedication_kind IN ('memory', 'honour')),
    dedication_name       TEXT,
    stripe_checkout_session_id TEXT UNIQUE,
    stripe_payment_intent_id   TEXT UNIQUE,
    stripe_invoice_id          TEXT UNIQUE,
    stripe_charge_id           TEXT,
    donated_at            INTEGER NOT NULL,
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL,
    CHECK (refunded_cents <= amount_cents)
);
CREATE INDEX donations_campaign_supporter ON donations (campaign_id, supporter_id, status);
CREATE INDEX donations_supporter ON donations (supporter_id, status);
CREATE INDEX donations_campaign_recent ON donations (campaign_id, donated_at);
CREATE INDEX donations_recurring_gift ON donations (recurring_gift_id);

-- Every Stripe event applied, so that a redelivery changes nothing.
CREATE TABLE stripe_events (
    id                    TEXT    PRIMARY KEY,
    event_type            TEXT    NOT NULL,
    api_version           TEXT,
    created_at            INTEGER NOT NULL,
    received_at           INTEGER NOT NULL
);

CREATE TABLE news_posts (
    id                    INTEGER PRIMARY KEY,
    project_id            INTEGER NOT NULL REFERENCES projects (id),
    campaign_id           INTEGER REFERENCES campaigns (id),
    slug                  TEXT    NOT NULL,
    title                 TEXT    NOT NULL,
    body                  TEXT    NOT NULL,
    published_at          INTEGER NOT NULL,
    created_at            INTEGER NOT NULL,
    UNIQUE (project_id, slug)
);
CREATE INDEX news_posts_project ON news_posts (project_id, published_at);
CREATE INDEX news_posts_campaign ON news_posts (campaign_id, published_at);
