-- Summaries of the ledger that the back-office reads instead of every donation, kept in the
-- same transactions as the counters (src/store/summaries.rs) and rebuilt by `obole recount`.
-- At 1M donations the dashboard's « Depuis le 1er janvier » read this year's every gift and
-- the donors' page grouped the whole ledger by supporter (8.7 s, BENCHMARKS.md).

-- Money kept per day (UTC, days since the epoch) and kind of gift (0 one-off, 1 recurring),
-- spread over the counters' shards so that concurrent webhooks of one day rarely wait on
-- one row.
CREATE TABLE donation_days (
    day        INTEGER NOT NULL,
    recurring  INTEGER NOT NULL,
    shard      INTEGER NOT NULL,
    kept_cents INTEGER NOT NULL,
    gifts      INTEGER NOT NULL,
    PRIMARY KEY (day, recurring, shard)
);
INSERT INTO donation_days (day, recurring, shard, kept_cents, gifts)
SELECT donated_at / 86400, CASE WHEN frequency = 'once' THEN 0 ELSE 1 END, 0,
       SUM(amount_cents - refunded_cents - disputed_cents), COUNT(*)
FROM donations WHERE status = 'paid'
GROUP BY donated_at / 86400, CASE WHEN frequency = 'once' THEN 0 ELSE 1 END;

-- Each supporter's money kept and paid gifts per year (UTC).
CREATE TABLE supporter_years (
    supporter_id INTEGER NOT NULL,
    year         INTEGER NOT NULL,
    kept_cents   INTEGER NOT NULL,
    gifts        INTEGER NOT NULL,
    PRIMARY KEY (supporter_id, year)
);
-- A year's donors, those who gave most first (the LYBUNT list, read in this order).
CREATE INDEX supporter_years_year ON supporter_years (year, kept_cents DESC, supporter_id);
INSERT INTO supporter_years (supporter_id, year, kept_cents, gifts)
SELECT supporter_id, CAST(strftime('%Y', donated_at, 'unixepoch') AS INTEGER),
       SUM(amount_cents - refunded_cents - disputed_cents), COUNT(*)
FROM donations WHERE status = 'paid'
GROUP BY supporter_id, CAST(strftime('%Y', donated_at, 'unixepoch') AS INTEGER);
