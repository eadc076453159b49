//! What the planner does with a statement as Obole runs it: SQLite's `EXPLAIN QUERY PLAN`,
//! PostgreSQL's generic plan (shared by the benches through `#[path]`).

use std::collections::HashMap;

use obole::db::Backend;
use sqlx::{Connection, Row};

/// The plan's lines, indented by depth; parameters unbound (SQLite's planner does not look
/// at their values without `sqlite_stat4`; PostgreSQL's generic plan is the one its
/// prepared statements settle on).
pub async fn plan(database_url: &str, sql: &str) -> sqlx::Result<Vec<String>> {
    match Backend::from_url(database_url) {
        Some(Backend::Sqlite) => sqlite_plan(database_url, sql).await,
        _ => postgres_generic_plan(database_url, sql).await,
    }
}

async fn sqlite_plan(database_url: &str, sql: &str) -> sqlx::Result<Vec<String>> {
    let mut conn = sqlx::sqlite::SqliteConnection::connect(database_url).await?;
    let rows: Vec<(i64, i64, i64, String)> = sqlx::query_as(&format!("EXPLAIN QUERY PLAN {sql}"))
        .fetch_all(&mut conn)
        .await?;
    let mut depth: HashMap<i64, usize> = HashMap::from([(0, 0)]);
    Ok(rows
        .into_iter()
        .map(|(id, parent, _, detail)| {
            let level = depth.get(&parent).copied().unwrap_or(0) + 1;
            depth.insert(id, level);
            format!("{}{detail}", "  ".repeat(level - 1))
        })
        .collect())
}

async fn postgres_generic_plan(database_url: &str, sql: &str) -> sqlx::Result<Vec<String>> {
    let mut conn = sqlx::postgres::PgConnection::connect(database_url).await?;
    let parameters = (1..=32)
        .take_while(|n| sql.contains(&format!("${n}")))
        .count();
    sqlx::raw_sql("SET plan_cache_mode = force_generic_plan")
        .execute(&mut conn)
        .await?;
    sqlx::raw_sql(&format!("PREPARE bench_plan AS {sql}"))
        .execute(&mut conn)
        .await?;
    let arguments = vec!["NULL"; parameters].join(", ");
    let execute = if parameters == 0 {
        "EXPLAIN EXECUTE bench_plan".to_owned()
    } else {
        format!("EXPLAIN EXECUTE bench_plan({arguments})")
    };
    let rows = sqlx::raw_sql(&execute).fetch_all(&mut conn).await?;
    rows.iter().map(|row| row.try_get::<String, _>(0)).collect()
}
