//! The Stripe API under `/stripe/v1`: bearer-key check, idempotency keys, and thin handlers
//! that parse the form, call the domain functions under the lock and answer JSON.

use axum::Router;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use serde_json::Value;

use super::disputes::{self, DisputeOutcome};
use super::error::{ApiError, json_response};
use super::form::Form;
use super::payments::RefundRequest;
use super::state::{self, IdempotentResponse, find};
use super::subscription_changes::{self, CancellationDetailsChange};
use super::{Sandbox, billing, checkout, lists, objects, payments};

pub fn router() -> Router<Sandbox> {
    Router::new()
        .route(
            "/checkout/sessions",
            post(create_checkout_session).get(list_with(lists::checkout_sessions)),
        )
        .route("/checkout/sessions/{id}", get(retrieve_checkout_session))
        .route(
            "/checkout/sessions/{id}/expire",
            post(expire_checkout_session),
        )
        .route("/customers/{id}", get(retrieve_customer))
        .route(
            "/subscriptions/{id}",
            get(retrieve_subscription)
                .post(update_subscription)
                .delete(cancel_subscription),
        )
        .route("/invoices", get(list_with(lists::invoices)))
        .route("/invoices/{id}", get(retrieve_invoice))
        .route("/subscriptions", get(list_with(lists::subscriptions)))
        .route("/disputes", get(list_with(lists::disputes)))
        .route("/events", get(list_with(lists::events)))
        .route("/invoice_payments", get(list_invoice_payments))
        .route(
            "/refunds",
            post(create_refund).get(list_with(lists::refunds)),
        )
        .route("/disputes/{id}", get(retrieve_dispute))
        .route("/disputes/{id}/close", post(close_dispute))
        .route("/billing_portal/sessions", post(create_portal_session))
        // A catch-all route rather than only a fallback: a nested router's fallback is not
        // reached once the sandbox is itself nested in Obole's router.
        .route("/{*path}", any(unknown_url))
        .fallback(unknown_url)
        .layer(middleware::from_fn(require_secret_key))
}

/// The one secret key the API accepts ([`super::SandboxConfig::secret_key`]), put in each
/// request by [`Sandbox::router`].
#[derive(Clone)]
pub(crate) struct SecretKey(pub(crate) std::sync::Arc<str>);

/// Stripe answers 401 before anything else when the secret key is missing or is not the
/// account's: the API hands out donors' emails and addresses, and refunds.
async fn require_secret_key(
    axum::Extension(SecretKey(expected)): axum::Extension<SecretKey>,
    request: Request,
    next: Next,
) -> Response {
    let key = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let message = match key {
        Some(key) if same_key(key, &expected) => return next.run(request).await,
        Some(_) => "Invalid API Key provided.".to_owned(),
        None => "You did not provide an API key. You need to provide your API key in the \
                 Authorization header, using Bearer auth (e.g. 'Authorization: Bearer \
                 YOUR_SECRET_KEY')."
            .to_owned(),
    };
    ApiError {
        status: StatusCode::UNAUTHORIZED,
        kind: "invalid_request_error",
        message,
        param: None,
        code: None,
    }
    .into_response()
}

/// Compared in constant time: how long a refusal takes says nothing of the key.
fn same_key(given: &str, expected: &str) -> bool {
    !expected.is_empty()
        && given.len() == expected.len()
        && given
            .bytes()
            .zip(expected.bytes())
            .fold(0, |differ, (a, b)| differ | (a ^ b))
            == 0
}

async fn unknown_url(method: Method, uri: axum::http::Uri) -> Response {
    ApiError {
        status: StatusCode::NOT_FOUND,
        kind: "invalid_request_error",
        message: format!("Unrecognized request URL ({method}: {}).", uri.path()),
        param: None,
        code: None,
    }
    .into_response()
}

impl Sandbox {
    /// Runs a read under the lock.
    fn read(&self, op: impl FnOnce(&state::State) -> Result<Value, ApiError>) -> Response {
        match op(&self.lock()) {
            Ok(json) => json_response(StatusCode::OK, json.to_string()),
            Err(error) => error.into_response(),
        }
    }

    /// Runs a write under the lock, honouring `Idempotency-Key`: the same key with the same
    /// request replays the stored answer; with another request it is refused.
    fn write(
        &self,
        headers: &HeaderMap,
        request: String,
        body: &str,
        op: impl FnOnce(&mut state::State, &Form) -> Result<Value, ApiError>,
    ) -> Response {
        let key = headers
            .get("idempotency-key")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let fingerprint = format!("{request}\n{body}");
        let mut state = self.lock();
        if let Some(key) = &key
            && let Some(stored) = state.idempotency.get(key)
        {
            if stored.request != fingerprint {
                return ApiError {
                    status: StatusCode::BAD_REQUEST,
                    kind: "idempotency_error",
                    message: format!(
                        "Keys for idempotent requests can only be used with the same \
                         parameters they were first used with. Try using a key other than \
                         '{key}' if you meant to execute a different request."
                    ),
                    param: None,
                    code: None,
                }
                .into_response();
            }
            let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
            let mut response = json_response(status, stored.body.clone());
            response.headers_mut().insert(
                "idempotent-replayed",
                header::HeaderValue::from_static("true"),
            );
            return response;
        }
        let (status, body_out) = match op(&mut state, &Form::parse(body)) {
            Ok(json) => (StatusCode::OK, json.to_string()),
            Err(error) => (error.status, error.body()),
        };
        if let Some(key) = key {
            state.idempotency.insert(
                key,
                IdempotentResponse {
                    request: fingerprint,
                    status: status.as_u16(),
                    body: body_out.clone(),
                },
            );
        }
        json_response(status, body_out)
    }
}

/// A handler for a list endpoint: its query string read, the list made under the lock.
fn list_with(
    list: fn(&state::State, &Form) -> Result<Value, ApiError>,
) -> impl Fn(State<Sandbox>, RawQuery) -> std::future::Ready<Response> + Clone {
    move |State(sandbox): State<Sandbox>, RawQuery(query): RawQuery| {
        let query = Form::parse(query.as_deref().unwrap_or_default());
        std::future::ready(sandbox.read(|state| list(state, &query)))
    }
}

async fn create_checkout_session(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    body: String,
) -> Response {
    sandbox.write(
        &headers,
        "POST /checkout/sessions".into(),
        &body,
        checkout::create,
    )
}

async fn retrieve_checkout_session(
    State(sandbox): State<Sandbox>,
    Path(id): Path<String>,
) -> Response {
    sandbox.read(|state| {
        find(&state.sessions, &id)
            .map(objects::checkout_session)
            .ok_or_else(|| ApiError::no_such("checkout.session", &id))
    })
}

async fn expire_checkout_session(
    State(sandbox): State<Sandbox>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let request = format!("POST /checkout/sessions/{id}/expire");
    sandbox.write(&headers, request, &body, |state, _| {
        checkout::expire(state, &id)
    })
}

async fn retrieve_customer(State(sandbox): State<Sandbox>, Path(id): Path<String>) -> Response {
    sandbox.read(|state| {
        find(&state.customers, &id)
            .map(objects::customer)
            .ok_or_else(|| ApiError::no_such("customer", &id))
    })
}

async fn retrieve_subscription(State(sandbox): State<Sandbox>, Path(id): Path<String>) -> Response {
    sandbox.read(|state| {
        find(&state.subscriptions, &id)
            .map(objects::subscription)
            .ok_or_else(|| ApiError::no_such("subscription", &id))
    })
}

async fn update_subscription(
    State(sandbox): State<Sandbox>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let request = format!("POST /subscriptions/{id}");
    sandbox.write(&headers, request, &body, |state, form| {
        let change = subscription_changes::parse_change(state, &id, form)?;
        billing::update(state, &id, change)
    })
}

/// Takes `cancellation_details[…]` from the body (as async-stripe sends them) or the query
/// string: Stripe reads a DELETE's parameters from either.
async fn cancel_subscription(
    State(sandbox): State<Sandbox>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: String,
) -> Response {
    let request = format!("DELETE /subscriptions/{id}");
    let params = match query.as_deref() {
        Some(query) if !query.is_empty() && !body.is_empty() => format!("{query}&{body}"),
        Some(query) if !query.is_empty() => query.to_owned(),
        _ => body,
    };
    sandbox.write(&headers, request, &params, |state, form| {
        let details = CancellationDetailsChange::parse(form)?;
        billing::cancel(state, &id, details)
    })
}

/// `GET /v1/invoices/{id}`; its `payments` only with `expand[]=payments`, as at Stripe.
async fn retrieve_invoice(
    State(sandbox): State<Sandbox>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let query = Form::parse(query.as_deref().unwrap_or_default());
    let expand_payments = query.list(&["expand"]).iter().any(|e| e == "payments");
    sandbox.read(|state| {
        let invoice =
            find(&state.invoices, &id).ok_or_else(|| ApiError::no_such("invoice", &id))?;
        let mut json = objects::invoice(invoice);
        if expand_payments {
            json["payments"] = objects::list(
                vec![objects::invoice_payment(invoice)],
                &format!("/v1/invoices/{id}/payments"),
            );
        }
        Ok(json)
    })
}

/// `GET /v1/invoice_payments`, filtered by `invoice` and/or
/// `payment[type]=payment_intent&payment[payment_intent]=pi_…`: which invoice a payment paid.
async fn list_invoice_payments(
    State(sandbox): State<Sandbox>,
    RawQuery(query): RawQuery,
) -> Response {
    let query = Form::parse(query.as_deref().unwrap_or_default());
    let invoice = query.get(&["invoice"]).map(str::to_owned);
    let payment_intent = query.get(&["payment", "payment_intent"]).map(str::to_owned);
    let limit = query
        .get(&["limit"])
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(10)
        .clamp(1, 100);
    sandbox.read(|state| {
        let data: Vec<Value> = state
            .invoices
            .iter()
            .filter(|i| invoice.as_deref().is_none_or(|id| i.id == id))
            .filter(|i| {
                payment_intent
                    .as_deref()
                    .is_none_or(|pi| i.payment_intent == pi)
            })
            .take(limit)
            .map(objects::invoice_payment)
            .collect();
        Ok(objects::list(data, "/v1/invoice_payments"))
    })
}

async fn create_refund(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    body: String,
) -> Response {
    sandbox.write(&headers, "POST /refunds".into(), &body, |state, form| {
        payments::refund(state, RefundRequest::parse(form)?)
    })
}

async fn retrieve_dispute(State(sandbox): State<Sandbox>, Path(id): Path<String>) -> Response {
    sandbox.read(|state| disputes::retrieve(state, &id))
}

/// `POST /v1/disputes/{id}/close`: the merchant accepts the dispute, which is then lost.
async fn close_dispute(
    State(sandbox): State<Sandbox>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let request = format!("POST /disputes/{id}/close");
    sandbox.write(&headers, request, &body, |state, _| {
        disputes::close(state, &id, DisputeOutcome::Lost)
    })
}

async fn create_portal_session(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    body: String,
) -> Response {
    sandbox.write(
        &headers,
        "POST /billing_portal/sessions".into(),
        &body,
        billing::create_portal_session,
    )
}
