-- Obole 1M-donation seed for SQLite (after migrations/sqlite/*.sql on an empty file): the
-- same rows as seed_pg.sql (same hashes, same ids), with recursive CTEs instead of
-- generate_series and CASE instead of arrays. ~1 min with the CLI.
PRAGMA journal_mode = OFF;
PRAGMA synchronous = OFF;
CREATE TEMP TABLE params AS SELECT CAST(strftime('%s', 'now') AS INTEGER) AS now, 157680000 AS span;

CREATE TEMP TABLE first_names (k INTEGER PRIMARY KEY, name TEXT);
INSERT INTO first_names VALUES (0,'Aïcha'),(1,'Camille'),(2,'Lucas'),(3,'Inès'),(4,'Hugo'),
 (5,'Léa'),(6,'Mamadou'),(7,'Chloé'),(8,'Nathan'),(9,'Sarah'),(10,'Yanis'),(11,'Manon'),
 (12,'Thomas'),(13,'Fatou'),(14,'Julien'),(15,'Emma'),(16,'Karim'),(17,'Zoé'),(18,'Paul'),(19,'Nour');
CREATE TEMP TABLE last_names (k INTEGER PRIMARY KEY, name TEXT);
INSERT INTO last_names VALUES (0,'Martin'),(1,'Bernard'),(2,'Mensah'),(3,'Dubois'),(4,'Thomas'),
 (5,'Robert'),(6,'Richard'),(7,'Petit'),(8,'Durand'),(9,'Leroy'),(10,'Moreau'),(11,'Simon'),
 (12,'Laurent'),(13,'Lefebvre'),(14,'Michel'),(15,'Garcia'),(16,'David'),(17,'Bertrand'),(18,'Roux'),(19,'Diallo');
CREATE TEMP TABLE seq (n INTEGER PRIMARY KEY);
WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 1000000)
INSERT INTO seq SELECT n FROM s;

BEGIN;
INSERT INTO projects (id, slug, name, full_name, tagline, description, location, cover_image,
    impact_unit_cents, impact_unit_label, created_at, updated_at)
SELECT n, CASE n WHEN 1 THEN 'peps' WHEN 2 THEN 'arpej' WHEN 3 THEN 'renforcement-des-communautes'
              ELSE 'appui-aux-familles' END,
       'Projet ' || n, 'Projet numéro ' || n, 'Une accroche',
       replace(printf('%.30c', '*'), '*', 'Une description. '), 'France',
       '/static/img/p' || n || '.svg', 30000, 'enfants accompagnés pendant un an',
       now - span, now - span
FROM seq, params WHERE n <= 4;

INSERT INTO campaigns (id, project_id, slug, title, summary, story, cover_image, goal_cents,
    currency, starts_at, ends_at, status, created_at, updated_at)
SELECT n, CASE WHEN n = 5 THEN 1 ELSE n END,
       CASE n WHEN 1 THEN 'le-sport-pour-grandir' WHEN 2 THEN 'parlement-des-femmes-kara'
              WHEN 3 THEN 'des-communautes-qui-protegent' WHEN 4 THEN 'garder-les-familles-unies'
              ELSE 'le-sport-2022' END,
       'Campagne ' || n, 'Un résumé de la campagne.',
       replace(printf('%.80c', '*'), '*', 'Une histoire. '), '/static/img/c' || n || '.svg',
       2400000 * n, 'EUR', now - span,
       CASE WHEN n = 5 THEN now - span / 5 ELSE now + 45 * 86400 END,
       CASE WHEN n = 5 THEN 'closed' ELSE 'published' END, now - span, now - span
FROM seq, params WHERE n <= 5;

INSERT INTO impact_tiers (project_id, campaign_id, amount_cents, label, position, created_at)
SELECT p.n, NULL, a.v, 'Ce que ' || a.v / 100 || ' € permettent', 0, now - span
FROM seq p, (SELECT 1000 AS v UNION ALL SELECT 2500 UNION ALL SELECT 6000 UNION ALL
             SELECT 15000 UNION ALL SELECT 30000) a, params
WHERE p.n <= 4;
INSERT INTO suggested_amounts (campaign_id, frequency, amount_cents, label, position, created_at)
SELECT c.n, s.f, s.a, NULL, s.k, now - span
FROM seq c, (SELECT 0 AS k, 'once' AS f, 2500 AS a UNION ALL SELECT 1, 'once', 6000
             UNION ALL SELECT 2, 'once', 15000 UNION ALL SELECT 3, 'monthly', 1000
             UNION ALL SELECT 4, 'monthly', 2500 UNION ALL SELECT 5, 'yearly', 30000) s, params
WHERE c.n <= 5;
INSERT INTO news_posts (project_id, campaign_id, slug, title, body, published_at, created_at)
SELECT CASE WHEN c.n = 5 THEN 1 ELSE c.n END, c.n, 'nouvelle-' || c.n || '-' || k.n,
       'Nouvelle ' || k.n, replace(printf('%.10c', '*'), '*', 'Des nouvelles du terrain. '),
       now - k.n * 20 * 86400, now - k.n * 20 * 86400
FROM seq c, seq k, params WHERE c.n <= 5 AND k.n <= 3;
INSERT INTO news_posts (project_id, campaign_id, slug, title, body, published_at, created_at)
SELECT n, NULL, 'generale-' || n, 'Générale', 'Corps', now - 5 * 86400, now - 5 * 86400
FROM seq, params WHERE n <= 4
UNION ALL SELECT 1, 1, 'programmee', 'Programmée', 'Corps', now + 86400, now FROM params;

INSERT INTO supporters (id, email, first_name, last_name, address_line1, address_line2,
    postal_code, city, country, news_consent, stripe_customer_id, created_at, updated_at, identity_at)
SELECT s.n, 'supporter' || s.n || '@example.org', f.name, l.name,
       (1 + s.n % 120) || ' rue de la République', '', substr('00000' || (1000 + s.n % 95000), -5),
       'Ville ' || s.n % 500, 'FR', s.n % 3 = 0, 'cus_' || s.n,
       now - span + s.n * 1500, now - span + s.n * 1500, now - span + s.n * 1500
FROM seq s JOIN first_names f ON f.k = s.n % 20 JOIN last_names l ON l.k = (s.n / 20) % 20, params
WHERE s.n <= 100000;

INSERT INTO pledges (id, campaign_id, supporter_id, amount_cents, currency, frequency, email,
    first_name, last_name, address_line1, address_line2, postal_code, city, country,
    show_publicly, news_consent, stripe_checkout_session_id, status, created_at, updated_at)
SELECT g.n, 1 + (g.n * 2654435761 % 4294967296) % 4, sp.id,
       CASE g.n % 4 WHEN 0 THEN 1000 WHEN 1 THEN 1500 WHEN 2 THEN 2500 ELSE 5000 END,
       'EUR', 'monthly', sp.email, sp.first_name, sp.last_name, sp.address_line1, '',
       sp.postal_code, sp.city, 'FR', 0, sp.news_consent, 'cs_test_rg_' || g.n, 'completed',
       now - span + g.n * 3000, now - span + g.n * 3000
FROM seq g JOIN supporters sp ON sp.id = (g.n * 37) % 100000 + 1, params
WHERE g.n <= 20000;
INSERT INTO recurring_gifts (id, supporter_id, campaign_id, pledge_id, amount_cents, currency,
    frequency, status, stripe_subscription_id, cancel_at_period_end, current_period_end,
    canceled_at, created_at, updated_at, stripe_event_at, stripe_customer_id)
SELECT id, supporter_id, campaign_id, id, amount_cents, 'EUR', 'monthly',
       CASE WHEN id % 5 = 0 THEN 'canceled' ELSE 'active' END, 'sub_' || id, 0,
       now + 20 * 86400, CASE WHEN id % 5 = 0 THEN now - 86400 END, created_at, created_at,
       created_at, 'cus_' || supporter_id
FROM pledges, params;

CREATE TEMP TABLE seed_donations AS
SELECT n AS i,
       n % 10 < 6 AS monthly,
       ((n / 10) * 6 + n % 10) % 20000 + 1 AS rg,
       now - span + n * (span / 1000000) AS at,
       (n * 2654435761 % 4294967296) % 100 AS hc,
       (n * 40503 % 1000) AS hs,
       ((n * 48271 + 12345) % 65536) < 66 AS public,
       (n * 7919) % 100000 + 1 AS one_off_supporter
FROM seq, params;

INSERT INTO pledges (id, campaign_id, supporter_id, amount_cents, currency, frequency, email,
    first_name, last_name, address_line1, address_line2, postal_code, city, country,
    dedication_kind, dedication_name, show_publicly, news_consent, stripe_checkout_session_id,
    checkout_url, status, created_at, updated_at)
SELECT 20000 + d.i,
       CASE WHEN d.hc < 40 THEN 1 WHEN d.hc < 60 THEN 2 WHEN d.hc < 75 THEN 3
            WHEN d.hc < 90 THEN 4 WHEN d.i <= 800000 THEN 5 ELSE 1 END,
       sp.id,
       CASE d.i % 10 WHEN 0 THEN 2000 WHEN 1 THEN 3000 WHEN 2 THEN 5000 WHEN 3 THEN 6000
            WHEN 4 THEN 10000 WHEN 5 THEN 15000 WHEN 6 THEN 2500 WHEN 7 THEN 4000
            WHEN 8 THEN 30000 ELSE 5000 END,
       'EUR', 'once', sp.email, sp.first_name, sp.last_name, sp.address_line1, '', sp.postal_code,
       sp.city, 'FR', NULL, NULL, d.public, sp.news_consent, 'cs_test_' || d.i,
       'http://127.0.0.1/sandbox/checkout/cs_test_' || d.i,
       CASE WHEN d.hs >= 995 THEN 'failed' ELSE 'completed' END, d.at - 120, d.at
FROM seed_donations d JOIN supporters sp ON sp.id = d.one_off_supporter
WHERE NOT d.monthly;
INSERT INTO pledges (id, campaign_id, supporter_id, amount_cents, currency, frequency, email,
    first_name, last_name, address_line1, address_line2, postal_code, city, country,
    show_publicly, news_consent, stripe_checkout_session_id, status, created_at, updated_at)
SELECT 2000000 + n, 1 + n % 4, NULL, 5000, 'EUR', 'once', 'abandon' || n || '@example.org',
       'Anne', 'Onyme', '1 rue X', '', '75001', 'Paris', 'FR', 0, 0, 'cs_test_open_' || n,
       CASE WHEN n % 10 = 0 THEN 'open' ELSE 'expired' END,
       now - span + n * 5000, now - span + n * 5000
FROM seq, params WHERE n <= 30000;

INSERT INTO donations (id, campaign_id, supporter_id, pledge_id, recurring_gift_id, amount_cents,
    refunded_cents, currency, frequency, payment_method, status, show_publicly, public_name,
    dedication_kind, dedication_name, stripe_checkout_session_id, stripe_payment_intent_id,
    stripe_invoice_id, stripe_charge_id, donated_at, created_at, updated_at)
SELECT d.i, x.campaign_id, x.supporter_id, x.pledge_id, x.rg_id, x.amount,
       CASE WHEN d.hs >= 970 AND d.hs < 990 THEN x.amount ELSE 0 END,
       'EUR', CASE WHEN d.monthly THEN 'monthly' ELSE 'once' END,
       CASE WHEN d.i % 5 = 0 THEN 'sepa_debit' ELSE 'card' END,
       CASE WHEN d.hs < 970 THEN 'paid' WHEN d.hs < 990 THEN 'refunded'
            WHEN d.hs < 995 THEN 'failed' ELSE 'pending' END,
       x.public,
       CASE WHEN x.public THEN sp.first_name || ' ' || substr(sp.last_name, 1, 1) || '.' END,
       CASE WHEN x.public AND d.i % 50 = 0 THEN 'memory' END,
       CASE WHEN x.public AND d.i % 50 = 0 THEN 'Mamie Suzanne' END,
       CASE WHEN NOT d.monthly THEN 'cs_test_' || d.i END, 'pi_' || d.i,
       CASE WHEN d.monthly THEN 'in_' || d.i END, 'ch_' || d.i, d.at, d.at, d.at
FROM seed_donations d
JOIN (SELECT d2.i AS i, p.campaign_id, p.supporter_id, p.id AS pledge_id,
             CASE WHEN d2.monthly THEN d2.rg END AS rg_id, p.amount_cents AS amount,
             d2.public AND p.campaign_id <> 5 AS public
      FROM seed_donations d2
      JOIN pledges p ON p.id = CASE WHEN d2.monthly THEN d2.rg ELSE 20000 + d2.i END) x ON x.i = d.i
JOIN supporters sp ON sp.id = x.supporter_id
ORDER BY d.i;

INSERT INTO campaign_counters (campaign_id, shard, raised_cents, donors, donations, updated_at)
SELECT c.id, s.n - 1, COALESCE(t.raised, 0), CASE WHEN s.n = 1 THEN COALESCE(u.donors, 0) ELSE 0 END,
       COALESCE(t.n, 0), (SELECT now FROM params)
FROM campaigns c CROSS JOIN seq s
LEFT JOIN (SELECT campaign_id, id % 8 AS shard, SUM(amount_cents - refunded_cents) AS raised,
                  COUNT(*) AS n
           FROM donations WHERE status = 'paid' GROUP BY 1, 2) t
       ON t.campaign_id = c.id AND t.shard = s.n - 1
LEFT JOIN (SELECT campaign_id, COUNT(DISTINCT supporter_id) AS donors FROM donations
           WHERE status = 'paid' GROUP BY 1) u ON u.campaign_id = c.id
WHERE s.n <= 8;
DELETE FROM organisation_counters;
INSERT INTO organisation_counters (shard, raised_cents, donors, donations, updated_at)
SELECT s.n - 1, COALESCE(t.raised, 0),
       CASE WHEN s.n = 1 THEN (SELECT COUNT(DISTINCT supporter_id) FROM donations WHERE status = 'paid') ELSE 0 END,
       COALESCE(t.n, 0), (SELECT now FROM params)
FROM seq s
LEFT JOIN (SELECT id % 8 AS shard, SUM(amount_cents - refunded_cents) AS raised, COUNT(*) AS n
           FROM donations WHERE status = 'paid' GROUP BY 1) t ON t.shard = s.n - 1
WHERE s.n <= 8;

-- The back-office's summaries, as migration 0025 and `obole recount` write them.
INSERT INTO donation_days (day, recurring, shard, kept_cents, gifts)
SELECT donated_at / 86400, CASE WHEN frequency = 'once' THEN 0 ELSE 1 END, 0,
       SUM(amount_cents - refunded_cents - disputed_cents), COUNT(*)
FROM donations WHERE status = 'paid'
GROUP BY donated_at / 86400, CASE WHEN frequency = 'once' THEN 0 ELSE 1 END;
INSERT INTO supporter_years (supporter_id, year, kept_cents, gifts)
SELECT supporter_id, CAST(strftime('%Y', donated_at, 'unixepoch') AS INTEGER),
       SUM(amount_cents - refunded_cents - disputed_cents), COUNT(*)
FROM donations WHERE status = 'paid'
GROUP BY supporter_id, CAST(strftime('%Y', donated_at, 'unixepoch') AS INTEGER);

-- tower-sessions' SQLite store: 50,000 sessions, half expired.
CREATE TABLE IF NOT EXISTS tower_sessions (id text primary key not null, data blob not null,
    expiry_date integer not null);
INSERT INTO tower_sessions
SELECT printf('%032x', n * 2654435761), zeroblob(80),
       strftime('%Y-%m-%dT%H:%M:%SZ', now + (n - 25000) * 3, 'unixepoch')
FROM seq, params WHERE n <= 50000;
COMMIT;
DROP TABLE seed_donations;
DROP TABLE seq;
PRAGMA journal_mode = WAL;
