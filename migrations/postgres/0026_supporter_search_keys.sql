-- A search for a donor by the start of their email or last name read every supporter
-- (`LOWER(email) LIKE 'x%'`, which no index serves alike on both backends: 96–174 ms at
-- 100,000 supporters, BENCHMARKS.md). These keys, lowercased by the database itself, are
-- matched as a range (`key >= 'martin' AND key < 'martio'`, src/store/search.rs), which an
-- ordinary index serves. PostgreSQL compares them by code point (COLLATE "C"), as SQLite
-- does, so that the range holds exactly the keys that start with what was typed.
ALTER TABLE supporters ADD COLUMN email_key TEXT COLLATE "C" GENERATED ALWAYS AS (lower(email)) STORED;
ALTER TABLE supporters ADD COLUMN name_key TEXT COLLATE "C" GENERATED ALWAYS AS (lower(last_name)) STORED;
CREATE INDEX supporters_email_search ON supporters (email_key);
CREATE INDEX supporters_name_search ON supporters (name_key);
