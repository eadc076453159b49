//! Reconciliation with Stripe: what webhooks missed or dropped, repaired from Stripe's own
//! objects (`obole reconcile`, and a daily job).
//!
//! Stripe's lists of Checkout Sessions, invoices, subscriptions, refunds and disputes are
//! read page by page. Each object is read as the event that would have told its current
//! state (a paid invoice as `invoice.paid`, a canceled subscription as
//! `customer.subscription.deleted`, …), by the same tolerant reader as webhooks, and goes
//! through the same rules, in the same transaction as the counters. Those rules only move
//! states forward, so an object the ledger already agrees with changes nothing. The event is
//! not recorded among Stripe's events: it has no id of Stripe's, and the next run must see
//! the object afresh.
//!
//! What the ledger says of the object ([`standing`]) is read before and after: the
//! transaction is kept only when it moved, and each change is reported with both.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Value, json};
use stripe_client_core::{RequestBuilder, StripeMethod};

use super::applier::ApplyError;
use super::events::{self, Fact, StripeEvent};
use super::{PaymentError, Payments, refunds, rules};
use crate::db::Db;
use crate::domain::dates::{self, DAY};
use crate::store::reconcile_runs::{self, StartedBy};
use crate::store::standing::{self, StripeObject};

/// Stripe keeps events for 30 days; a run looks a little further back by default.
pub const DEFAULT_LOOKBACK_DAYS: i64 = 35;
/// A SEPA debit settles up to 14 days after its checkout: sessions are read from further back.
const SESSION_MARGIN: i64 = 14 * DAY;
/// A dispute is decided up to months after it opens.
const DISPUTE_MARGIN: i64 = 120 * DAY;
/// Stripe's largest page.
const PAGE: u8 = 100;

/// One object whose ledger line moved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Stripe's id of the object (`cs_…`, `in_…`, `sub_…`, `ch_…`, `dp_…`).
    pub object_id: String,
    /// The event it was read as.
    pub read_as: String,
    pub before: String,
    pub after: String,
}

/// What a run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    /// Objects read from Stripe and compared with the ledger.
    pub checked: usize,
    pub changes: Vec<Change>,
    /// Objects the rules could not apply yet (a refund of a payment the ledger does not
    /// know), with why: the next run tries them again.
    pub waiting: Vec<(String, String)>,
}

#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error(transparent)]
    Stripe(#[from] PaymentError),
    #[error("réponse de Stripe illisible ({0})")]
    Unreadable(&'static str),
    #[error("base de données : {0}")]
    Database(#[from] sqlx::Error),
}

/// Reads what Stripe holds since `since` (unix seconds) and repairs the ledger.
#[tracing::instrument(skip_all, fields(since = since))]
pub async fn run(
    payments: &Payments,
    db: &Db,
    since: i64,
    now: i64,
) -> Result<Report, ReconcileError> {
    let mut run = Run {
        payments,
        db,
        now,
        observed_at: observed_at(payments, now).await?,
        report: Report::default(),
    };
    // Payments first, so that the refunds and disputes of this run find them.
    run.checkout_sessions(since - SESSION_MARGIN).await?;
    run.invoices(since).await?;
    run.subscriptions().await?;
    run.refunds(since).await?;
    run.disputes(since - DISPUTE_MARGIN).await?;
    tracing::info!(
        checked = run.report.checked,
        changes = run.report.changes.len(),
        waiting = run.report.waiting.len(),
        "reconciliation done"
    );
    Ok(run.report)
}

/// [`run`], recorded for the back-office: its start, then what it did or why it stopped.
pub async fn run_recorded(
    payments: &Payments,
    db: &Db,
    started_by: StartedBy,
    since: i64,
) -> Result<Report, ReconcileError> {
    let id = reconcile_runs::start(db, started_by, since, dates::now()).await?;
    match run(payments, db, since, dates::now()).await {
        Ok(report) => {
            let outcome = reconcile_runs::Outcome {
                checked: count(report.checked),
                repaired: count(report.changes.len()),
                waiting: count(report.waiting.len()),
                changes: &report
                    .changes
                    .iter()
                    .map(Change::to_string)
                    .collect::<Vec<_>>()
                    .join("\n"),
            };
            reconcile_runs::finish(db, id, &outcome, dates::now()).await?;
            Ok(report)
        }
        Err(error) => {
            if let Err(not_recorded) =
                reconcile_runs::fail(db, id, &error.to_string(), dates::now()).await
            {
                tracing::warn!(%not_recorded, "reconciliation failure not recorded");
            }
            Err(error)
        }
    }
}

fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} (lu comme {}) : {} → {}",
            self.object_id, self.read_as, self.before, self.after
        )
    }
}

/// When Stripe's state was read, for the rules that order a gift's updates by time: Stripe's
/// newest event, or our clock when later (a sandbox's test clock may run ahead of it).
async fn observed_at(payments: &Payments, now: i64) -> Result<i64, ReconcileError> {
    let newest = list_page(payments, "/events", &ListQuery::first(1)).await?;
    let newest = newest["data"][0]["created"].as_i64().unwrap_or(0);
    Ok(now.max(newest))
}

struct Run<'a> {
    payments: &'a Payments,
    db: &'a Db,
    now: i64,
    observed_at: i64,
    report: Report,
}

impl Run<'_> {
    /// A completed session as `checkout.session.completed` (or its asynchronous outcome, by
    /// its PaymentIntent), an expired one as `checkout.session.expired`; open ones wait.
    async fn checkout_sessions(&mut self, since: i64) -> Result<(), ReconcileError> {
        let query = ListQuery::since(since).expand(&["data.payment_intent"]);
        for session in list_all(self.payments, "/checkout/sessions", query).await? {
            let intent = &session["payment_intent"];
            let read_as = match session["status"].as_str() {
                Some("expired") => "checkout.session.expired",
                Some("complete") => match intent["status"].as_str() {
                    Some("succeeded") if is_async(intent) => {
                        "checkout.session.async_payment_succeeded"
                    }
                    Some("requires_payment_method" | "canceled") if is_async(intent) => {
                        "checkout.session.async_payment_failed"
                    }
                    _ => "checkout.session.completed",
                },
                _ => continue,
            };
            let created = intent["created"]
                .as_i64()
                .or(session["created"].as_i64())
                .unwrap_or(self.now);
            self.reconcile(&session, read_as, created).await?;
        }
        Ok(())
    }

    /// Paid invoices as `invoice.paid`. A failed one needs no repair of its own: its
    /// subscription's status (past due, canceled) is read below.
    async fn invoices(&mut self, since: i64) -> Result<(), ReconcileError> {
        let query = ListQuery::since(since).expand(&["data.payments"]);
        for invoice in list_all(self.payments, "/invoices", query).await? {
            if invoice["status"] != "paid" {
                continue;
            }
            let created = invoice["status_transitions"]["paid_at"]
                .as_i64()
                .or(invoice["created"].as_i64())
                .unwrap_or(self.now);
            self.reconcile(&invoice, "invoice.paid", created).await?;
        }
        Ok(())
    }

    /// Every subscription, however old: one made years ago may have ended yesterday.
    async fn subscriptions(&mut self) -> Result<(), ReconcileError> {
        let query = ListQuery {
            status: Some("all"),
            ..ListQuery::first(PAGE)
        };
        for subscription in list_all(self.payments, "/subscriptions", query).await? {
            let read_as = if subscription["status"] == "canceled" {
                "customer.subscription.deleted"
            } else {
                "customer.subscription.updated"
            };
            self.reconcile(&subscription, read_as, self.observed_at)
                .await?;
        }
        Ok(())
    }

    /// Each refunded charge once, as `charge.refunded` with its running total.
    async fn refunds(&mut self, since: i64) -> Result<(), ReconcileError> {
        let query = ListQuery::since(since).expand(&["data.charge"]);
        let mut charges: BTreeMap<String, (Value, i64)> = BTreeMap::new();
        for refund in list_all(self.payments, "/refunds", query).await? {
            let charge = &refund["charge"];
            let Some(id) = charge["id"].as_str() else {
                return Err(ReconcileError::Unreadable(
                    "remboursement sans son paiement",
                ));
            };
            let created = refund["created"].as_i64().unwrap_or(self.now);
            let latest = charges
                .entry(id.to_owned())
                .or_insert_with(|| (charge.clone(), created));
            latest.1 = latest.1.max(created);
        }
        for (charge, created) in charges.into_values() {
            self.reconcile(&charge, "charge.refunded", created).await?;
        }
        Ok(())
    }

    /// Each dispute as it stands, as `charge.dispute.updated` (`closed` once decided).
    async fn disputes(&mut self, since: i64) -> Result<(), ReconcileError> {
        for dispute in list_all(self.payments, "/disputes", ListQuery::since(since)).await? {
            let read_as = match dispute["status"].as_str() {
                Some("won" | "lost") => "charge.dispute.closed",
                _ => "charge.dispute.updated",
            };
            self.reconcile(&dispute, read_as, self.observed_at).await?;
        }
        Ok(())
    }

    /// Reads `object` as the event `read_as` made at `created`, and applies it.
    async fn reconcile(
        &mut self,
        object: &Value,
        read_as: &str,
        created: i64,
    ) -> Result<(), ReconcileError> {
        let object_id = object["id"].as_str().unwrap_or_default().to_owned();
        let as_event = json!({
            "id": format!("reconcile_{object_id}"),
            "type": read_as,
            "created": created,
            "data": { "object": object },
        });
        let Some(mut event) = events::from_json(&as_event) else {
            return Err(ReconcileError::Unreadable(
                "un objet sans les champs qu’un événement porte",
            ));
        };
        self.report.checked += 1;
        refunds::find_invoice(self.payments, self.db, &mut event).await;
        match apply_observed(self.db, &event, self.now).await {
            Ok(Some((before, after))) => {
                tracing::info!(object_id, read_as, "reconciliation repaired an object");
                self.report.changes.push(Change {
                    object_id,
                    read_as: read_as.to_owned(),
                    before,
                    after,
                });
            }
            Ok(None) => {}
            Err(ApplyError::Database(error)) => return Err(error.into()),
            Err(ApplyError::NotYet(why) | ApplyError::Stale(why)) => {
                self.report.waiting.push((object_id, why.to_owned()));
            }
        }
        Ok(())
    }
}

/// Applies `event` through the rules, in one write transaction kept only when the ledger's
/// line for its object moved: `(before, after)` then.
async fn apply_observed(
    db: &Db,
    event: &StripeEvent,
    now: i64,
) -> Result<Option<(String, String)>, ApplyError> {
    let Some(object) = object_of(&event.fact) else {
        return Ok(None);
    };
    let mut tx = db.begin_write().await?;
    let before = standing::of(&mut tx, object).await?;
    rules::apply(&mut tx, db.backend(), now, event).await?;
    let after = standing::of(&mut tx, object).await?;
    if before == after {
        tx.rollback().await?;
        return Ok(None);
    }
    tx.commit().await?;
    Ok(Some((before, after)))
}

/// The Stripe object an event's facts are about, as the ledger names it.
fn object_of(fact: &Fact) -> Option<StripeObject<'_>> {
    Some(match fact {
        Fact::Checkout(facts) => StripeObject::CheckoutSession(&facts.session_id),
        Fact::Invoice(facts) => StripeObject::Invoice(&facts.invoice_id),
        Fact::Subscription(facts) => StripeObject::Subscription(&facts.subscription_id),
        Fact::Refund(facts) => StripeObject::Payment {
            payment_intent: facts.payment_intent_id.as_deref()?,
            invoice: facts.invoice_id.as_deref(),
        },
        Fact::Dispute(facts) => StripeObject::Dispute(&facts.dispute_id),
        Fact::Ignored => return None,
    })
}

/// Whether a PaymentIntent was paid by a method that settles later (a SEPA debit).
fn is_async(intent: &Value) -> bool {
    intent["payment_method_types"]
        .as_array()
        .is_some_and(|types| types.iter().any(|t| t == "sepa_debit"))
}

/// The query of a Stripe list: `limit`, `starting_after`, `created[gte]`, `status`,
/// `expand[]`.
#[derive(Serialize, Clone)]
struct ListQuery<'a> {
    limit: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    starting_after: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    created: Option<Created>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<&'a str>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    expand: &'a [&'a str],
}

#[derive(Serialize, Clone, Copy)]
struct Created {
    gte: i64,
}

impl<'a> ListQuery<'a> {
    fn first(limit: u8) -> ListQuery<'a> {
        ListQuery {
            limit,
            starting_after: None,
            created: None,
            status: None,
            expand: &[],
        }
    }

    fn since(since: i64) -> ListQuery<'a> {
        ListQuery {
            created: Some(Created { gte: since }),
            ..ListQuery::first(PAGE)
        }
    }

    fn expand(self, expand: &'a [&'a str]) -> ListQuery<'a> {
        ListQuery { expand, ..self }
    }
}

/// Every object of a list, following its pages.
async fn list_all(
    payments: &Payments,
    path: &str,
    mut query: ListQuery<'_>,
) -> Result<Vec<Value>, ReconcileError> {
    let mut all = Vec::new();
    loop {
        let page = list_page(payments, path, &query).await?;
        let Some(Value::Array(data)) = page.get("data").cloned() else {
            return Err(ReconcileError::Unreadable("une liste sans « data »"));
        };
        let last = data
            .last()
            .and_then(|object| object["id"].as_str())
            .map(str::to_owned);
        all.extend(data);
        match last {
            Some(last) if page["has_more"] == true => query.starting_after = Some(last),
            _ => return Ok(all),
        }
    }
}

/// One page, as JSON: read by the tolerant reader rather than async-stripe's types, so an
/// object of another API version is read like a webhook of it.
async fn list_page(
    payments: &Payments,
    path: &str,
    query: &ListQuery<'_>,
) -> Result<Value, ReconcileError> {
    let page: miniserde::json::Value = RequestBuilder::new(StripeMethod::Get, path)
        .query(query)
        .customize()
        .send(payments.client())
        .await
        .map_err(PaymentError::from)?;
    serde_json::from_str(&miniserde::json::to_string(&page))
        .map_err(|_| ReconcileError::Unreadable("JSON"))
}
