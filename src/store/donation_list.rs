//! The back-office's list of donations: filtered, newest first, a page at a time by keyset
//! (the page after a given (date, id)), so that a page costs the same at the millionth row as
//! at the first; and the same rows streamed for the CSV export.

use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};
use sqlx::AnyPool;

use super::search::{self, Prefix};
use sqlx::any::AnyArguments;
use sqlx::query::QueryAs;

/// What the list is narrowed to; `None`: no condition.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    pub campaign_id: Option<i64>,
    /// From this time on (inclusive)…
    pub from: Option<i64>,
    /// …until before this one.
    pub until: Option<i64>,
    pub frequency: Option<String>,
    pub status: Option<String>,
    pub payment_method: Option<String>,
    pub min_cents: Option<i64>,
    pub max_cents: Option<i64>,
    /// The start of the donor's email or last name, any case.
    pub search: Option<String>,
    pub supporter_id: Option<i64>,
}

/// A value bound to the query.
#[derive(Debug, Clone)]
enum Value {
    Int(i64),
    Text(String),
}

/// One donation, with its donor and campaign.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Row {
    pub id: i64,
    pub donated_at: i64,
    pub amount_cents: i64,
    pub refunded_cents: i64,
    pub currency: String,
    pub frequency: String,
    pub payment_method: String,
    pub status: String,
    pub supporter_id: i64,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub campaign_title: String,
}

const COLUMNS: &str = "d.id, d.donated_at, d.amount_cents, d.refunded_cents, d.currency, \
     d.frequency, d.payment_method, d.status, d.supporter_id, s.email, s.first_name, \
     s.last_name, c.title AS campaign_title";
const TABLES: &str = "FROM donations d JOIN supporters s ON s.id = d.supporter_id \
     JOIN campaigns c ON c.id = d.campaign_id";

impl Filters {
    /// The `WHERE` conditions and their values, numbered from `$1`; `donors`: the
    /// supporters the search names, when [`searched`] found few.
    fn conditions(&self, donors: Option<&[i64]>) -> (Vec<String>, Vec<Value>) {
        let mut conditions = Vec::new();
        let mut values = Vec::new();
        let mut add = |condition: &str, value: Value| {
            values.push(value);
            conditions.push(condition.replace('?', &format!("${}", values.len())));
        };
        if let Some(id) = self.campaign_id {
            add("d.campaign_id = ?", Value::Int(id));
        }
        if let Some(id) = self.supporter_id {
            add("d.supporter_id = ?", Value::Int(id));
        }
        if let Some(from) = self.from {
            add("d.donated_at >= ?", Value::Int(from));
        }
        if let Some(until) = self.until {
            add("d.donated_at < ?", Value::Int(until));
        }
        if let Some(frequency) = &self.frequency {
            add("d.frequency = ?", Value::Text(frequency.clone()));
        }
        if let Some(status) = &self.status {
            add("d.status = ?", Value::Text(status.clone()));
        }
        if let Some(method) = &self.payment_method {
            add("d.payment_method = ?", Value::Text(method.clone()));
        }
        if let Some(min) = self.min_cents {
            add("d.amount_cents >= ?", Value::Int(min));
        }
        if let Some(max) = self.max_cents {
            add("d.amount_cents <= ?", Value::Int(max));
        }
        match (donors, &self.search) {
            (Some(donors), _) => {
                let placeholders: Vec<String> = donors
                    .iter()
                    .map(|&id| {
                        values.push(Value::Int(id));
                        format!("${}", values.len())
                    })
                    .collect();
                conditions.push(format!("d.supporter_id IN ({})", placeholders.join(", ")));
            }
            (None, Some(search)) => match Prefix::of(search) {
                Some(prefix) => {
                    values.push(Value::Text(prefix.from));
                    values.push(Value::Text(prefix.until));
                    conditions.push(search::matches_unindexed(values.len() - 1));
                }
                None => conditions.push("1 = 0".to_owned()),
            },
            (None, None) => {}
        }
        (conditions, values)
    }
}

/// Supporters a search names, at most this many, for the list to be read through their own
/// donations.
const FEW_DONORS: usize = 100;

/// The supporters the search names when they are few (`None`: no search, or many).
///
/// Newest first, the list walks the donations by date and keeps those of matching donors:
/// quick when they are many (a common name), but for one donor's email it read the whole
/// ledger before knowing there was no more (1.6 s on PostgreSQL and more on SQLite at 1M
/// donations, BENCHMARKS.md). A few donors' gifts are read through their own index and
/// sorted instead. The same rows either way: `d.supporter_id IN (…)` of the supporters
/// whose email or name matches is what the join's condition said.
async fn searched(pool: &AnyPool, filters: &Filters) -> sqlx::Result<Option<Vec<i64>>> {
    let Some(search) = &filters.search else {
        return Ok(None);
    };
    let Some(prefix) = Prefix::of(search) else {
        return Ok(Some(Vec::new()));
    };
    let donors: Vec<i64> = sqlx::query_scalar(&format!(
        "SELECT id FROM supporters s WHERE {} LIMIT $3",
        search::matches(1)
    ))
    .bind(prefix.from)
    .bind(prefix.until)
    .bind(FEW_DONORS as i64 + 1)
    .fetch_all(pool)
    .await?;
    Ok((donors.len() <= FEW_DONORS).then_some(donors))
}

fn bound<'q>(
    mut query: QueryAs<'q, sqlx::Any, Row, AnyArguments<'q>>,
    values: Vec<Value>,
) -> QueryAs<'q, sqlx::Any, Row, AnyArguments<'q>> {
    for value in values {
        query = match value {
            Value::Int(v) => query.bind(v),
            Value::Text(v) => query.bind(v),
        };
    }
    query
}

/// Where a page starts: after the donation at (`donated_at`, `id`), going back in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct After {
    pub donated_at: i64,
    pub id: i64,
}

/// Up to `limit` donations matching `filters`, newest first, after `after`.
pub async fn page(
    pool: &AnyPool,
    filters: &Filters,
    after: Option<After>,
    limit: i64,
) -> sqlx::Result<Vec<Row>> {
    let donors = searched(pool, filters).await?;
    if donors.as_ref().is_some_and(Vec::is_empty) {
        return Ok(Vec::new());
    }
    let (mut conditions, mut values) = filters.conditions(donors.as_deref());
    if let Some(after) = after {
        let n = values.len();
        // The first condition says nothing the second does not, but PostgreSQL only starts
        // its index scan at the page with it: without it, it read the index from the newest
        // donation and filtered out every row before the page (a cost that grew with the
        // page's depth, BENCHMARKS.md). SQLite finds it by itself.
        conditions.push(format!(
            "d.donated_at <= ${} AND (d.donated_at < ${} OR (d.donated_at = ${} AND d.id < ${}))",
            n + 1,
            n + 1,
            n + 1,
            n + 2
        ));
        values.push(Value::Int(after.donated_at));
        values.push(Value::Int(after.id));
    }
    values.push(Value::Int(limit));
    let sql = format!(
        "SELECT {COLUMNS} {TABLES}{} ORDER BY d.donated_at DESC, d.id DESC LIMIT ${}",
        where_clause(&conditions),
        values.len()
    );
    bound(sqlx::query_as(&sql), values).fetch_all(pool).await
}

fn where_clause(conditions: &[String]) -> String {
    if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    }
}

/// Every donation matching `filters`, newest first, as the database yields them, through a
/// small channel: the memory used does not grow with the number of rows, and a reader that
/// goes away stops the query.
pub fn stream(pool: AnyPool, filters: Filters) -> BoxStream<'static, sqlx::Result<Row>> {
    let (sender, receiver) = tokio::sync::mpsc::channel::<sqlx::Result<Row>>(STREAM_BUFFER);
    tokio::spawn(async move {
        let donors = match searched(&pool, &filters).await {
            Ok(Some(donors)) if donors.is_empty() => return,
            Ok(donors) => donors,
            Err(error) => {
                let _ = sender.send(Err(error)).await;
                return;
            }
        };
        let (conditions, values) = filters.conditions(donors.as_deref());
        let sql = format!(
            "SELECT {COLUMNS} {TABLES}{} ORDER BY d.donated_at DESC, d.id DESC",
            where_clause(&conditions)
        );
        let mut rows = bound(sqlx::query_as(&sql), values).fetch(&pool);
        loop {
            let next = rows.try_next().await;
            let end = !matches!(next, Ok(Some(_)));
            let item = match next {
                Ok(Some(row)) => Ok(row),
                Ok(None) => break,
                Err(error) => Err(error),
            };
            if sender.send(item).await.is_err() || end {
                break;
            }
        }
    });
    // Fused: the compression layer polls a body once more after its end, and an unfused
    // `unfold` then panics, cutting the file short for every browser (seen with
    // `Accept-Encoding: gzip, br` by the back-office bench).
    Box::pin(
        futures_util::stream::unfold(receiver, |mut receiver| async move {
            receiver.recv().await.map(|item| (item, receiver))
        })
        .fuse(),
    )
}

/// Rows read ahead of the writer.
const STREAM_BUFFER: usize = 256;

/// One donation as its back-office page shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Detail {
    #[sqlx(flatten)]
    pub row: Row,
    pub stripe_payment_intent_id: Option<String>,
    pub stripe_invoice_id: Option<String>,
    pub reference: Option<String>,
    /// What a bank dispute holds of it.
    pub disputed_cents: i64,
}

pub async fn detail(pool: &AnyPool, id: i64) -> sqlx::Result<Option<Detail>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS}, d.stripe_payment_intent_id, d.stripe_invoice_id, d.reference, \
             d.disputed_cents \
         {TABLES} WHERE d.id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await
}
