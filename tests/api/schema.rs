//! The SQLite and PostgreSQL migrations define the same schema: tables, columns (type once
//! normalised, nullability), primary keys, unique constraints and indexes. Queries are one
//! text for both backends, so a column or index on one side only is a bug waiting for the
//! other backend.

use std::collections::BTreeSet;

use obole::db::Db;

use crate::helpers::{Backend, TestDatabase, postgres_url};

/// Tables that differ by design, left out: sqlx's own migration ledger, and tower-sessions'
/// table, created by its store (not by our migrations) in its own shape per backend (on
/// PostgreSQL in a schema of its own, which the query below does not read anyway).
const NOT_OURS: [&str; 2] = ["_sqlx_migrations", "tower_sessions"];

#[tokio::test]
async fn sqlite_and_postgres_migrations_define_the_same_schema() {
    let Some(_) = postgres_url() else {
        return; // Said once on stderr by `postgres_url`.
    };
    let (_sqlite_database, sqlite) = migrated(Backend::Sqlite).await;
    let (_postgres_database, postgres) = migrated(Backend::Postgres).await;
    let sqlite = sqlite_schema(&sqlite).await;
    let postgres = postgres_schema(&postgres).await;
    assert!(
        sqlite
            .iter()
            .any(|fact| fact.starts_with("donations.amount_cents ")),
        "the catalog was read: {sqlite:#?}"
    );
    let only_sqlite: Vec<_> = sqlite.difference(&postgres).collect();
    let only_postgres: Vec<_> = postgres.difference(&sqlite).collect();
    assert!(
        only_sqlite.is_empty() && only_postgres.is_empty(),
        "the migrations differ\nonly in migrations/sqlite: {only_sqlite:#?}\nonly in migrations/postgres: {only_postgres:#?}"
    );
}

async fn migrated(backend: Backend) -> (TestDatabase, Db) {
    let database = TestDatabase::create(backend).await;
    let db = Db::connect(database.url()).await.expect("connect");
    db.migrate().await.expect("migrate");
    (database, db)
}

/// The declared type as one word for both backends: SQLite's declared names and PostgreSQL's
/// catalog names differ (`INTEGER`/`bigint`, `TEXT`/`character varying`) where the data is
/// the same to Obole.
fn normalised(declared: &str) -> &'static str {
    let declared = declared.to_ascii_lowercase();
    if declared.contains("int") {
        "integer"
    } else if declared.contains("char") || declared.contains("text") || declared.contains("clob") {
        "text"
    } else if declared.contains("bool") {
        "boolean"
    } else if ["real", "floa", "doub", "numeric", "decimal"]
        .iter()
        .any(|t| declared.contains(t))
    {
        "number"
    } else if declared.contains("blob") || declared.contains("bytea") {
        "bytes"
    } else {
        "unknown"
    }
}

/// One line per fact, e.g. `donations.amount_cents integer not null`,
/// `donations: index donations_supporter (supporter_id, status)`.
type Schema = BTreeSet<String>;

fn column(table: &str, name: &str, declared: &str, not_null: bool) -> String {
    let null = if not_null { "not null" } else { "null" };
    format!("{table}.{name} {} {null}", normalised(declared))
}

/// Whether an index is unique, and whether it is partial.
type Flags = (bool, bool);

/// Index names are compared only for the indexes the migrations name; those behind a primary
/// key or a `UNIQUE` constraint get generated names that differ between the backends. A
/// partial index is marked as such; its predicate is not compared, as each backend rewrites it
/// in its own words (the migrations give both the same text).
fn index(
    table: &str,
    kind: &str,
    name: &str,
    (unique, partial): Flags,
    columns: &[String],
) -> String {
    let columns = columns.join(", ");
    let partial = if partial { "partial " } else { "" };
    match kind {
        "primary" => format!("{table}: primary key ({columns})"),
        "unique constraint" => format!("{table}: unique ({columns})"),
        _ if unique => format!("{table}: unique {partial}index {name} ({columns})"),
        _ => format!("{table}: {partial}index {name} ({columns})"),
    }
}

async fn sqlite_schema(db: &Db) -> Schema {
    let pool = db.pool();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )
    .fetch_all(pool)
    .await
    .expect("tables");
    let mut schema = Schema::new();
    for table in tables.iter().filter(|t| !NOT_OURS.contains(&t.as_str())) {
        schema.insert(format!("table {table}"));
        let columns: Vec<(String, String, i64, i64)> = sqlx::query_as(
            // `xinfo`: generated columns too (`table_info` leaves them out).
            "SELECT name, type, \"notnull\", pk FROM pragma_table_xinfo($1) ORDER BY cid",
        )
        .bind(table)
        .fetch_all(pool)
        .await
        .expect("columns");
        let mut primary: Vec<(i64, String)> = Vec::new();
        for (name, declared, not_null, pk) in columns {
            // A primary key is never null on PostgreSQL; SQLite says so only when told.
            schema.insert(column(table, &name, &declared, not_null == 1 || pk > 0));
            if pk > 0 {
                primary.push((pk, name));
            }
        }
        primary.sort();
        let primary: Vec<String> = primary.into_iter().map(|(_, name)| name).collect();
        if !primary.is_empty() {
            schema.insert(index(table, "primary", "", (true, false), &primary));
        }
        let indexes: Vec<(String, i64, String, i64)> =
            sqlx::query_as("SELECT name, \"unique\", origin, partial FROM pragma_index_list($1)")
                .bind(table)
                .fetch_all(pool)
                .await
                .expect("indexes");
        for (name, unique, origin, partial) in indexes {
            let kind = match origin.as_str() {
                "pk" => continue, // Read from the columns above (an INTEGER key has no index).
                "u" => "unique constraint",
                _ => "index",
            };
            let columns: Vec<String> =
                sqlx::query_scalar("SELECT name FROM pragma_index_info($1) ORDER BY seqno")
                    .bind(&name)
                    .fetch_all(pool)
                    .await
                    .expect("index columns");
            schema.insert(index(
                table,
                kind,
                &name,
                (unique == 1, partial == 1),
                &columns,
            ));
        }
    }
    schema
}

async fn postgres_schema(db: &Db) -> Schema {
    let pool = db.pool();
    let mut schema = Schema::new();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT CAST(table_name AS TEXT) FROM information_schema.tables \
         WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
    )
    .fetch_all(pool)
    .await
    .expect("tables");
    let ours = |table: &String| !NOT_OURS.contains(&table.as_str());
    for table in tables.iter().filter(|t| ours(t)) {
        schema.insert(format!("table {table}"));
    }
    let columns: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT CAST(table_name AS TEXT), CAST(column_name AS TEXT), CAST(data_type AS TEXT), \
                CAST(is_nullable AS TEXT) \
         FROM information_schema.columns WHERE table_schema = 'public'",
    )
    .fetch_all(pool)
    .await
    .expect("columns");
    for (table, name, declared, nullable) in columns.into_iter().filter(|c| ours(&c.0)) {
        schema.insert(column(&table, &name, &declared, nullable == "NO"));
    }
    // One row per indexed column, in the index's order.
    let rows: Vec<(String, String, String, i64, i64, String)> = sqlx::query_as(
        "SELECT CAST(t.relname AS TEXT), CAST(i.relname AS TEXT), \
           CAST(CASE WHEN x.indisprimary THEN 'primary' \
                WHEN EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid \
                             AND c.conrelid = x.indrelid AND c.contype = 'u') THEN 'unique constraint' \
                ELSE 'index' END AS TEXT), \
           CAST(CASE WHEN x.indisunique THEN 1 ELSE 0 END AS BIGINT), \
           CAST(CASE WHEN x.indpred IS NULL THEN 0 ELSE 1 END AS BIGINT), CAST(a.attname AS TEXT) \
         FROM pg_index x \
         JOIN pg_class i ON i.oid = x.indexrelid \
         JOIN pg_class t ON t.oid = x.indrelid \
         JOIN pg_namespace n ON n.oid = t.relnamespace \
         CROSS JOIN LATERAL unnest(CAST(x.indkey AS SMALLINT[])) WITH ORDINALITY AS k(attnum, position) \
         JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum \
         WHERE n.nspname = 'public' ORDER BY i.relname, k.position",
    )
    .fetch_all(pool)
    .await
    .expect("indexes");
    let mut current: Option<(String, String, String, Flags, Vec<String>)> = None;
    for (table, name, kind, unique, partial, column) in rows.into_iter().filter(|r| ours(&r.0)) {
        match &mut current {
            Some((_, index_name, _, _, columns)) if *index_name == name => columns.push(column),
            _ => {
                if let Some((table, name, kind, unique, columns)) = current.take() {
                    schema.insert(index(&table, &kind, &name, unique, &columns));
                }
                current = Some((table, name, kind, (unique == 1, partial == 1), vec![column]));
            }
        }
    }
    if let Some((table, name, kind, unique, columns)) = current {
        schema.insert(index(&table, &kind, &name, unique, &columns));
    }
    schema
}
