-- Obole 1M-donation seed for PostgreSQL (after migrations/postgres/*.sql on an empty database).
-- 4 projects, 5 campaigns (4 published, 1 closed a year ago), 100,000 supporters,
-- 20,000 monthly recurring gifts, 1,000,000 donations over 5 years (60 % monthly instalments,
-- 40 % one-off, each one-off with its own pledge), ~0.1 % shown publicly (none on the closed
-- campaign), 97 % paid / 2 % refunded / 0.5 % failed / 0.5 % pending, counters as recount
-- would write them (raised and donations split over the 8 shards, donors in shard 0).
-- Deterministic (multiplicative hashes of the row number), ~3 min on 2 busy cores.
\set ON_ERROR_STOP on
SELECT extract(epoch FROM now())::bigint AS now \gset
\set span 157680000

CREATE TEMP TABLE first_names (k int PRIMARY KEY, name text);
INSERT INTO first_names VALUES (0,'Aïcha'),(1,'Camille'),(2,'Lucas'),(3,'Inès'),(4,'Hugo'),
 (5,'Léa'),(6,'Mamadou'),(7,'Chloé'),(8,'Nathan'),(9,'Sarah'),(10,'Yanis'),(11,'Manon'),
 (12,'Thomas'),(13,'Fatou'),(14,'Julien'),(15,'Emma'),(16,'Karim'),(17,'Zoé'),(18,'Paul'),(19,'Nour');
CREATE TEMP TABLE last_names (k int PRIMARY KEY, name text);
INSERT INTO last_names VALUES (0,'Martin'),(1,'Bernard'),(2,'Mensah'),(3,'Dubois'),(4,'Thomas'),
 (5,'Robert'),(6,'Richard'),(7,'Petit'),(8,'Durand'),(9,'Leroy'),(10,'Moreau'),(11,'Simon'),
 (12,'Laurent'),(13,'Lefebvre'),(14,'Michel'),(15,'Garcia'),(16,'David'),(17,'Bertrand'),(18,'Roux'),(19,'Diallo');

INSERT INTO projects (id, slug, name, full_name, tagline, description, location, cover_image,
    impact_unit_cents, impact_unit_label, created_at, updated_at)
SELECT p, (ARRAY['peps','arpej','renforcement-des-communautes','appui-aux-familles'])[p],
       'Projet ' || p, 'Projet numéro ' || p, 'Une accroche', repeat('Une description. ', 30),
       'France', '/static/img/p' || p || '.svg', 30000, 'enfants accompagnés pendant un an',
       :now - :span, :now - :span
FROM generate_series(1, 4) p;

INSERT INTO campaigns (id, project_id, slug, title, summary, story, cover_image, goal_cents,
    currency, starts_at, ends_at, status, created_at, updated_at)
SELECT c, CASE WHEN c = 5 THEN 1 ELSE c END,
       (ARRAY['le-sport-pour-grandir','parlement-des-femmes-kara','des-communautes-qui-protegent',
              'garder-les-familles-unies','le-sport-2022'])[c],
       'Campagne ' || c, 'Un résumé de la campagne.', repeat('Une histoire. ', 80),
       '/static/img/c' || c || '.svg', 2400000 * c, 'EUR', :now - :span,
       CASE WHEN c = 5 THEN :now - :span / 5 ELSE :now + 45 * 86400 END,
       CASE WHEN c = 5 THEN 'closed' ELSE 'published' END, :now - :span, :now - :span
FROM generate_series(1, 5) c;

-- Five tiers per project (campaigns show their project's), six amounts per campaign.
INSERT INTO impact_tiers (project_id, campaign_id, amount_cents, label, position, created_at)
SELECT p, NULL, a, 'Ce que ' || a / 100 || ' € permettent', 0, :now - :span
FROM generate_series(1, 4) p, unnest(ARRAY[1000, 2500, 6000, 15000, 30000]) a;
INSERT INTO suggested_amounts (campaign_id, frequency, amount_cents, label, position, created_at)
SELECT c, f, a, NULL, n, :now - :span
FROM generate_series(1, 5) c,
     (VALUES (0,'once',2500),(1,'once',6000),(2,'once',15000),(3,'monthly',1000),
             (4,'monthly',2500),(5,'yearly',30000)) s(n, f, a);
-- News: three per campaign, one general per project, one scheduled in the future.
INSERT INTO news_posts (project_id, campaign_id, slug, title, body, published_at, created_at)
SELECT CASE WHEN c = 5 THEN 1 ELSE c END, c, 'nouvelle-' || c || '-' || n, 'Nouvelle ' || n,
       repeat('Des nouvelles du terrain. ', 10), :now - n * 20 * 86400, :now - n * 20 * 86400
FROM generate_series(1, 5) c, generate_series(1, 3) n;
INSERT INTO news_posts (project_id, campaign_id, slug, title, body, published_at, created_at)
SELECT p, NULL, 'generale-' || p, 'Générale', 'Corps', :now - 5 * 86400, :now - 5 * 86400
FROM generate_series(1, 4) p
UNION ALL SELECT 1, 1, 'programmee', 'Programmée', 'Corps', :now + 86400, :now;

INSERT INTO supporters (id, email, first_name, last_name, address_line1, address_line2,
    postal_code, city, country, news_consent, stripe_customer_id, created_at, updated_at, identity_at)
SELECT s, 'supporter' || s || '@example.org', f.name, l.name, (1 + s % 120) || ' rue de la République',
       '', lpad((1000 + s % 95000)::text, 5, '0'), 'Ville ' || s % 500, 'FR', (s % 3 = 0)::int,
       'cus_' || s, :now - :span + s * 1500, :now - :span + s * 1500, :now - :span + s * 1500
FROM generate_series(1, 100000) s
JOIN first_names f ON f.k = s % 20
JOIN last_names l ON l.k = (s / 20) % 20;

-- Recurring gifts 1..20000, each with pledge id = its id; campaign by hash (c5 gets none).
INSERT INTO pledges (id, campaign_id, supporter_id, amount_cents, currency, frequency, email,
    first_name, last_name, address_line1, address_line2, postal_code, city, country,
    show_publicly, news_consent, stripe_checkout_session_id, status, created_at, updated_at)
SELECT g, 1 + (g * 2654435761 % 4294967296) % 4, sp.id, (ARRAY[1000, 1500, 2500, 5000])[1 + g % 4],
       'EUR', 'monthly', sp.email, sp.first_name, sp.last_name, sp.address_line1, '',
       sp.postal_code, sp.city, 'FR', 0, sp.news_consent, 'cs_test_rg_' || g, 'completed',
       :now - :span + g * 3000, :now - :span + g * 3000
FROM generate_series(1, 20000) g
JOIN supporters sp ON sp.id = (g * 37) % 100000 + 1;
INSERT INTO recurring_gifts (id, supporter_id, campaign_id, pledge_id, amount_cents, currency,
    frequency, status, stripe_subscription_id, cancel_at_period_end, current_period_end,
    canceled_at, created_at, updated_at, stripe_event_at, stripe_customer_id)
SELECT id, supporter_id, campaign_id, id, amount_cents, 'EUR', 'monthly',
       CASE WHEN id % 5 = 0 THEN 'canceled' ELSE 'active' END, 'sub_' || id, 0,
       :now + 20 * 86400, CASE WHEN id % 5 = 0 THEN :now - 86400 END, created_at, created_at,
       created_at, 'cus_' || supporter_id
FROM pledges;

-- The ledger: donation i at now - span + i * span / 1M (ids in date order). i % 10 < 6: an
-- instalment of recurring gift (k % 20000) + 1 (k = its rank among instalments); otherwise a
-- one-off with its own pledge (id 20000 + i).
CREATE TEMP TABLE seed_donations AS
SELECT i,
       i % 10 < 6 AS monthly,
       ((i / 10) * 6 + i % 10) % 20000 + 1 AS rg,
       :now - :span + i * (:span / 1000000) AS at,
       (i * 2654435761 % 4294967296) % 100 AS hc,
       (i * 40503 % 1000) AS hs,
       ((i * 48271 + 12345) % 65536) < 66 AS public,
       (i * 7919) % 100000 + 1 AS one_off_supporter
FROM generate_series(1::bigint, 1000000) i;

INSERT INTO pledges (id, campaign_id, supporter_id, amount_cents, currency, frequency, email,
    first_name, last_name, address_line1, address_line2, postal_code, city, country,
    dedication_kind, dedication_name, show_publicly, news_consent, stripe_checkout_session_id,
    checkout_url, status, created_at, updated_at)
SELECT 20000 + d.i,
       CASE WHEN d.hc < 40 THEN 1 WHEN d.hc < 60 THEN 2 WHEN d.hc < 75 THEN 3
            WHEN d.hc < 90 THEN 4 WHEN d.i <= 800000 THEN 5 ELSE 1 END,
       sp.id, (ARRAY[2000, 3000, 5000, 6000, 10000, 15000, 2500, 4000, 30000, 5000])[1 + (d.i % 10)::int],
       'EUR', 'once', sp.email, sp.first_name, sp.last_name, sp.address_line1, '', sp.postal_code,
       sp.city, 'FR', NULL, NULL, d.public::int, sp.news_consent, 'cs_test_' || d.i,
       'http://127.0.0.1/sandbox/checkout/cs_test_' || d.i,
       CASE WHEN d.hs >= 995 THEN 'failed' ELSE 'completed' END, d.at - 120, d.at
FROM seed_donations d JOIN supporters sp ON sp.id = d.one_off_supporter
WHERE NOT d.monthly;
-- Checkouts started and never paid (abandoned, expired): 30,000 more pledges.
INSERT INTO pledges (id, campaign_id, supporter_id, amount_cents, currency, frequency, email,
    first_name, last_name, address_line1, address_line2, postal_code, city, country,
    show_publicly, news_consent, stripe_checkout_session_id, status, created_at, updated_at)
SELECT 2000000 + n, 1 + n % 4, NULL, 5000, 'EUR', 'once', 'abandon' || n || '@example.org',
       'Anne', 'Onyme', '1 rue X', '', '75001', 'Paris', 'FR', 0, 0, 'cs_test_open_' || n,
       CASE WHEN n % 10 = 0 THEN 'open' ELSE 'expired' END,
       :now - :span + n * 5000, :now - :span + n * 5000
FROM generate_series(1, 30000) n;

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
       x.public::int,
       CASE WHEN x.public THEN sp.first_name || ' ' || left(sp.last_name, 1) || '.' END,
       CASE WHEN x.public AND d.i % 50 = 0 THEN 'memory' END,
       CASE WHEN x.public AND d.i % 50 = 0 THEN 'Mamie Suzanne' END,
       CASE WHEN NOT d.monthly THEN 'cs_test_' || d.i END, 'pi_' || d.i,
       CASE WHEN d.monthly THEN 'in_' || d.i END, 'ch_' || d.i, d.at, d.at, d.at
FROM seed_donations d
LEFT JOIN pledges p ON d.monthly AND p.id = d.rg
LEFT JOIN pledges o ON NOT d.monthly AND o.id = 20000 + d.i
CROSS JOIN LATERAL (
    SELECT COALESCE(p.campaign_id, o.campaign_id) AS campaign_id,
           COALESCE(p.supporter_id, o.supporter_id) AS supporter_id,
           COALESCE(p.id, o.id) AS pledge_id,
           CASE WHEN d.monthly THEN d.rg END AS rg_id,
           COALESCE(p.amount_cents, o.amount_cents) AS amount,
           d.public AND COALESCE(p.campaign_id, o.campaign_id) <> 5 AS public
) x
JOIN supporters sp ON sp.id = x.supporter_id;

-- Counters as recount would leave them: raised and donations by shard (id % 8), donors in 0.
INSERT INTO campaign_counters (campaign_id, shard, raised_cents, donors, donations, updated_at)
SELECT c.id, s, COALESCE(t.raised, 0), CASE WHEN s = 0 THEN COALESCE(u.donors, 0) ELSE 0 END,
       COALESCE(t.n, 0), :now
FROM campaigns c CROSS JOIN generate_series(0, 7) s
LEFT JOIN (SELECT campaign_id, id % 8 AS shard, SUM(amount_cents - refunded_cents) AS raised,
                  COUNT(*) AS n
           FROM donations WHERE status = 'paid' GROUP BY 1, 2) t
       ON t.campaign_id = c.id AND t.shard = s
LEFT JOIN (SELECT campaign_id, COUNT(DISTINCT supporter_id) AS donors FROM donations
           WHERE status = 'paid' GROUP BY 1) u ON u.campaign_id = c.id;
DELETE FROM organisation_counters;
INSERT INTO organisation_counters (shard, raised_cents, donors, donations, updated_at)
SELECT s, COALESCE(t.raised, 0),
       CASE WHEN s = 0 THEN (SELECT COUNT(DISTINCT supporter_id) FROM donations WHERE status = 'paid') ELSE 0 END,
       COALESCE(t.n, 0), :now
FROM generate_series(0, 7) s
LEFT JOIN (SELECT id % 8 AS shard, SUM(amount_cents - refunded_cents) AS raised, COUNT(*) AS n
           FROM donations WHERE status = 'paid' GROUP BY 1) t ON t.shard = s;

-- The back-office's summaries, as migration 0025 and `obole recount` write them.
INSERT INTO donation_days (day, recurring, shard, kept_cents, gifts)
SELECT donated_at / 86400, CASE WHEN frequency = 'once' THEN 0 ELSE 1 END, 0,
       CAST(SUM(amount_cents - refunded_cents - disputed_cents) AS BIGINT), COUNT(*)
FROM donations WHERE status = 'paid'
GROUP BY donated_at / 86400, CASE WHEN frequency = 'once' THEN 0 ELSE 1 END;
INSERT INTO supporter_years (supporter_id, year, kept_cents, gifts)
SELECT supporter_id, CAST(EXTRACT(YEAR FROM to_timestamp(donated_at) AT TIME ZONE 'UTC') AS BIGINT),
       CAST(SUM(amount_cents - refunded_cents - disputed_cents) AS BIGINT), COUNT(*)
FROM donations WHERE status = 'paid'
GROUP BY supporter_id, CAST(EXTRACT(YEAR FROM to_timestamp(donated_at) AT TIME ZONE 'UTC') AS BIGINT);

-- Identities continue after the seeded ids.
SELECT setval(pg_get_serial_sequence('projects', 'id'), (SELECT max(id) FROM projects));
SELECT setval(pg_get_serial_sequence('campaigns', 'id'), (SELECT max(id) FROM campaigns));
SELECT setval(pg_get_serial_sequence('supporters', 'id'), (SELECT max(id) FROM supporters));
SELECT setval(pg_get_serial_sequence('pledges', 'id'), (SELECT max(id) FROM pledges));
SELECT setval(pg_get_serial_sequence('recurring_gifts', 'id'), (SELECT max(id) FROM recurring_gifts));
SELECT setval(pg_get_serial_sequence('donations', 'id'), (SELECT max(id) FROM donations));

-- Sessions (tower-sessions' PostgreSQL store): 50,000 rows, half expired, as form views leave.
CREATE SCHEMA IF NOT EXISTS tower_sessions;
CREATE TABLE IF NOT EXISTS tower_sessions.session (
    id text PRIMARY KEY NOT NULL, data bytea NOT NULL, expiry_date timestamptz NOT NULL);
INSERT INTO tower_sessions.session
SELECT md5(n::text), decode(repeat('ab', 80), 'hex'), now() + (n - 25000) * interval '3 seconds'
FROM generate_series(1, 50000) n;

DROP TABLE seed_donations;
VACUUM ANALYZE;
