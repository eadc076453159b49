//! The 1,000,000-donation ledger of `benches/seed-1m-*.sql`, built in-process: the schema
//! migrated as Obole does it, then the seed applied (shared by the benches through
//! `#[path]`).

use std::collections::HashMap;
use std::str::FromStr;
use std::time::{Duration, Instant};

use obole::db::{Backend, Db};
use sqlx::Connection;
use sqlx::postgres::PgConnection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};

const SQLITE_SEED: &str = include_str!("../seed-1m-sqlite.sql");
const POSTGRES_SEED: &str = include_str!("../seed-1m-postgres.sql");

/// Migrates the empty database at `database_url` and fills it with the 1M ledger (half a
/// minute on SQLite, a minute on PostgreSQL, on two cores).
pub async fn seed(database_url: &str) {
    let started = Instant::now();
    let db = Db::connect(database_url).await.expect("database");
    db.migrate().await.expect("migrations");
    let backend = db.backend();
    db.close().await;
    match backend {
        Backend::Sqlite => {
            // Waits for the migrating pool's connections to be gone: the seed's first
            // statement leaves WAL mode, which no other connection may hold.
            let options = SqliteConnectOptions::from_str(database_url)
                .expect("SQLite URL")
                .busy_timeout(Duration::from_secs(60));
            let mut conn = SqliteConnection::connect_with(&options)
                .await
                .expect("SQLite");
            sqlx::raw_sql(SQLITE_SEED)
                .execute(&mut conn)
                .await
                .expect("the SQLite seed");
            conn.close().await.expect("close");
        }
        Backend::Postgres => {
            let mut conn = PgConnection::connect(database_url)
                .await
                .expect("PostgreSQL");
            let now: i64 = sqlx::query_scalar("SELECT extract(epoch FROM now())::bigint")
                .fetch_one(&mut conn)
                .await
                .expect("now");
            sqlx::raw_sql(&plain_sql(POSTGRES_SEED, now))
                .execute(&mut conn)
                .await
                .expect("the PostgreSQL seed");
            sqlx::raw_sql("VACUUM ANALYZE")
                .execute(&mut conn)
                .await
                .expect("vacuum");
            conn.close().await.expect("close");
        }
    }
    println!(
        "1M ledger seeded in {:.0} s",
        started.elapsed().as_secs_f64()
    );
}

/// The psql script as SQL that one multi-statement string can run: its `\set` variables and
/// the `\gset` of the current time replaced by their values, and its final `VACUUM` left out
/// (a multi-statement string is one transaction, where `VACUUM` cannot run).
fn plain_sql(script: &str, now: i64) -> String {
    let mut variables = HashMap::from([("now".to_owned(), now.to_string())]);
    let mut sql = String::with_capacity(script.len());
    for line in script.lines() {
        let trimmed = line.trim();
        if let Some(set) = trimmed.strip_prefix("\\set ") {
            if let Some((name, value)) = set.split_once(' ') {
                variables.insert(name.to_owned(), value.trim().to_owned());
            }
            continue;
        }
        if trimmed.ends_with("\\gset") || trimmed.eq_ignore_ascii_case("VACUUM ANALYZE;") {
            continue;
        }
        sql.push_str(&substitute(line, &variables));
        sql.push('\n');
    }
    sql
}

/// `:name` replaced by its value where `name` is a variable (`::type` casts are left alone).
fn substitute(line: &str, variables: &HashMap<String, String>) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(at) = rest.find(':') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let name_len = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        let cast = out.ends_with(':') || after.starts_with(':');
        match variables.get(&after[..name_len]) {
            Some(value) if !cast && name_len > 0 => {
                out.push_str(value);
                rest = &after[name_len..];
            }
            _ => {
                out.push(':');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}
