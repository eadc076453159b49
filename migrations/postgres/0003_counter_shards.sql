-- Counters split into shards: every paid donation updated the same two rows, so on
-- PostgreSQL concurrent webhooks queued behind one row lock until each commit. A donation now
-- adds to one of eight shards (by its id); totals are the sum of a handful of rows.

CREATE TABLE campaign_counter_shards (
    campaign_id           BIGINT  NOT NULL REFERENCES campaigns (id),
    shard                 BIGINT  NOT NULL,
    raised_cents          BIGINT  NOT NULL DEFAULT 0,
    donors                BIGINT  NOT NULL DEFAULT 0,
    donations             BIGINT  NOT NULL DEFAULT 0,
    updated_at            BIGINT  NOT NULL,
    PRIMARY KEY (campaign_id, shard)
);
INSERT INTO campaign_counter_shards (campaign_id, shard, raised_cents, donors, donations, updated_at)
SELECT campaign_id, 0, raised_cents, donors, donations, updated_at FROM campaign_counters;
DROP TABLE campaign_counters;
ALTER TABLE campaign_counter_shards RENAME TO campaign_counters;

CREATE TABLE organisation_counter_shards (
    shard                 BIGINT  PRIMARY KEY,
    raised_cents          BIGINT  NOT NULL DEFAULT 0,
    donors                BIGINT  NOT NULL DEFAULT 0,
    donations             BIGINT  NOT NULL DEFAULT 0,
    updated_at            BIGINT  NOT NULL
);
INSERT INTO organisation_counter_shards (shard, raised_cents, donors, donations, updated_at)
SELECT 0, raised_cents, donors, donations, updated_at FROM organisation_counters;
DROP TABLE organisation_counters;
ALTER TABLE organisation_counter_shards RENAME TO organisation_counters;
