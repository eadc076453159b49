//! Stripe's list endpoints (`GET /v1/checkout/sessions`, `/invoices`, `/subscriptions`,
//! `/refunds`, `/disputes`, `/events`), as a reconciliation reads them: newest first, pages
//! of `limit` (10 by default, at most 100) continued with `starting_after`, filtered by
//! `created[gte]` / `created[lte]`, and the few `expand[]` Obole asks for.

use serde_json::{Value, json};

use super::error::ApiError;
use super::form::Form;
use super::objects;
use super::state::{self, Record, State};

/// What every list reads from its query string.
struct Page {
    limit: usize,
    starting_after: Option<String>,
    created_gte: Option<i64>,
    created_lte: Option<i64>,
    expand: Vec<String>,
}

impl Page {
    fn parse(query: &Form) -> Result<Page, ApiError> {
        let limit = match query.get(&["limit"]) {
            None => 10,
            Some(text) => match text.parse::<usize>() {
                Ok(limit @ 1..=100) => limit,
                _ => {
                    return Err(ApiError::invalid(
                        "limit",
                        "Invalid integer: must be between 1 and 100.",
                    ));
                }
            },
        };
        let bound = |key: &'static str| -> Result<Option<i64>, ApiError> {
            match query.get(&["created", key]) {
                None => Ok(None),
                Some(text) => text
                    .parse()
                    .map(Some)
                    .map_err(|_| ApiError::invalid("created", "Invalid timestamp.")),
            }
        };
        Ok(Page {
            limit,
            starting_after: query.get(&["starting_after"]).map(str::to_owned),
            created_gte: bound("gte")?,
            created_lte: bound("lte")?,
            expand: query.list(&["expand"]),
        })
    }

    fn expands(&self, field: &str) -> bool {
        self.expand.iter().any(|e| e == field)
    }

    /// The page of `records` (oldest first in the state) that this query asks for, newest
    /// first, rendered by `render`.
    fn of<T: Record>(
        &self,
        records: &[T],
        created: impl Fn(&T) -> i64,
        render: impl Fn(&T) -> Value,
        url: &str,
    ) -> Result<Value, ApiError> {
        let newest_first = records.iter().rev().filter(|r| {
            self.created_gte.is_none_or(|gte| created(r) >= gte)
                && self.created_lte.is_none_or(|lte| created(r) <= lte)
        });
        let mut after_cursor: Vec<&T> = match &self.starting_after {
            None => newest_first.collect(),
            Some(cursor) => {
                if state::find(records, cursor).is_none() {
                    return Err(ApiError {
                        param: Some("starting_after".to_owned()),
                        ..ApiError::no_such("object", cursor)
                    });
                }
                newest_first
                    .skip_while(|r| r.id() != cursor)
                    .skip(1)
                    .collect()
            }
        };
        let has_more = after_cursor.len() > self.limit;
        after_cursor.truncate(self.limit);
        let data: Vec<Value> = after_cursor.into_iter().map(render).collect();
        Ok(json!({ "object": "list", "data": data, "has_more": has_more, "url": url }))
    }
}

pub fn checkout_sessions(state: &State, query: &Form) -> Result<Value, ApiError> {
    let page = Page::parse(query)?;
    let expand_payment_intent = page.expands("data.payment_intent");
    page.of(
        &state.sessions,
        |s| s.created,
        |s| {
            let mut json = objects::checkout_session(s);
            if expand_payment_intent
                && let Some(pi) = s.payment_intent.as_deref()
                && let Some(intent) = state::find(&state.payment_intents, pi)
            {
                json["payment_intent"] = objects::payment_intent(intent, state, s.created);
            }
            json
        },
        "/v1/checkout/sessions",
    )
}

pub fn invoices(state: &State, query: &Form) -> Result<Value, ApiError> {
    let page = Page::parse(query)?;
    let expand_payments = page.expands("data.payments");
    page.of(
        &state.invoices,
        |i| i.created,
        |i| {
            let mut json = objects::invoice(i);
            if expand_payments {
                json["payments"] = objects::list(
                    vec![objects::invoice_payment(i)],
                    &format!("/v1/invoices/{}/payments", i.id),
                );
            }
            json
        },
        "/v1/invoices",
    )
}

/// Like Stripe, canceled subscriptions only with `status=all` (or `status=canceled`).
pub fn subscriptions(state: &State, query: &Form) -> Result<Value, ApiError> {
    let page = Page::parse(query)?;
    let status = query.get(&["status"]).unwrap_or("");
    let matching: Vec<state::Subscription> = state
        .subscriptions
        .iter()
        .filter(|s| match status {
            "all" => true,
            "" => s.status != "canceled",
            wanted => s.status == wanted,
        })
        .cloned()
        .collect();
    page.of(
        &matching,
        |s| s.created,
        objects::subscription,
        "/v1/subscriptions",
    )
}

pub fn refunds(state: &State, query: &Form) -> Result<Value, ApiError> {
    let page = Page::parse(query)?;
    let expand_charge = page.expands("data.charge");
    page.of(
        &state.refunds,
        |r| r.created,
        |r| {
            let mut json = objects::refund(r);
            if expand_charge && let Some(charge) = state::find(&state.charges, &r.charge) {
                json["charge"] = objects::charge(charge, &state.refunds);
            }
            json
        },
        "/v1/refunds",
    )
}

pub fn disputes(state: &State, query: &Form) -> Result<Value, ApiError> {
    let page = Page::parse(query)?;
    page.of(
        &state.disputes,
        |d| d.created,
        objects::dispute,
        "/v1/disputes",
    )
}

/// The events generated so far, as Stripe keeps them (whether delivered or not).
pub fn events(state: &State, query: &Form) -> Result<Value, ApiError> {
    let page = Page::parse(query)?;
    page.of(
        &state.events,
        |e| e.created,
        |e| serde_json::from_str(&e.payload).unwrap_or(Value::Null),
        "/v1/events",
    )
}
