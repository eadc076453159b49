//! The Stripe sandbox: a small, faithful stand-in for the part of Stripe that Obole uses, so
//! the whole donor journey runs offline (demo mode) and in tests.
//!
//! It speaks Stripe's wire format under `/stripe/v1/…` (form-encoded bracketed keys in, JSON
//! objects shaped like Stripe's out, Stripe's error JSON, `Idempotency-Key`), so Obole talks
//! to it through the real async-stripe client. It serves a hosted checkout page, a billing
//! portal and a small dashboard of its own, and delivers webhook events signed exactly like
//! Stripe's. A test clock (`advance_clock`) renews subscriptions and settles SEPA debits;
//! `open_dispute` and `close_dispute` play a payer's bank questioning a payment.
//!
//! State lives in memory behind one mutex (never held across `.await`) and, when a state
//! file is configured, is saved to it after every change and read back at start-up, so a
//! monthly gift made yesterday still renews, changes and refunds after a restart; events not
//! yet delivered are delivered then. The file is bound to its owner (the caller's ledger), so
//! a new ledger starts with a new sandbox. Nothing here is ever the ledger (the caller's
//! database is).
//!
//! The crate depends on nothing of Obole's: it serves its own pages, stylesheet and API under
//! whatever path `Sandbox::router()` is nested at.

mod api;
mod billing;
mod checkout;
mod clock;
mod delivery;
mod disputes;
mod error;
mod form;
mod french;
mod lists;
mod objects;
mod pages;
mod payments;
mod persist;
mod state;
mod subscription_changes;

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use tokio::sync::watch;

pub use self::disputes::{DisputeOutcome, DisputeRefused};
pub use self::persist::StateFileError;
use self::persist::{Guard, Shared};
use self::state::State;

/// The sandbox; cheap to clone (an `Arc` inside).
#[derive(Clone)]
pub struct Sandbox {
    inner: Arc<Inner>,
}

struct Inner {
    config: SandboxConfig,
    state: Arc<Shared>,
    pending: Arc<watch::Sender<usize>>,
}

#[derive(Clone, Debug)]
pub struct SandboxConfig {
    /// Absolute URL under which Obole mounts `Sandbox::router()`, no trailing slash,
    /// e.g. "http://localhost:3000/sandbox". Hosted pages' URLs are built from it.
    pub public_url: String,
    /// Where to POST webhook events, e.g. "http://127.0.0.1:3000/webhooks/stripe".
    pub webhook_url: String,
    /// `whsec_…` secret used to sign deliveries.
    pub webhook_secret: String,
    /// The secret key (`sk_…`) the API accepts, and no other: the caller's own, which it
    /// should make unguessable. The API hands out donors' emails and addresses, and refunds.
    pub secret_key: String,
    /// Where the state is kept across restarts (JSON, rewritten after every change);
    /// `None` keeps it in memory only. One file serves one sandbox at a time.
    pub state_file: Option<PathBuf>,
    /// Whom the state belongs to, an opaque string saved in the state file, e.g. the id of
    /// the caller's database. A file saved for another owner is set aside and the sandbox
    /// starts afresh, so its subscriptions never renew into a ledger that did not make them.
    pub owner: Option<String>,
}

impl Sandbox {
    /// Needs a tokio runtime: spawns the webhook delivery task. Starts from the state file
    /// when there is one of the same owner (queuing again the events it had not delivered),
    /// else afresh with auto-delivery on. Fails only when the state file exists but cannot
    /// be read (see `persist::load` for why that is not starting afresh).
    pub fn new(mut config: SandboxConfig) -> Result<Sandbox, StateFileError> {
        config.public_url = config.public_url.trim_end_matches('/').to_owned();
        let (queue, receiver, pending) = delivery::channel();
        let saved = match config.state_file.as_deref() {
            Some(file) => persist::load(file, config.owner.as_deref())?,
            None => None,
        };
        let state = match saved {
            Some(mut state) => {
                state.public_url = config.public_url.clone();
                state.queue = queue;
                state.queue_undelivered();
                state
            }
            None => State::new(config.public_url.clone(), queue, config.owner.clone()),
        };
        let state = Arc::new(Shared::new(state, config.state_file.clone()));
        delivery::start(
            delivery::Target {
                url: config.webhook_url.clone(),
                secret: config.webhook_secret.clone(),
            },
            receiver,
            Arc::downgrade(&state),
            pending.clone(),
        );
        Ok(Sandbox {
            inner: Arc::new(Inner {
                config,
                state,
                pending,
            }),
        })
    }

    /// Router<()> that Obole nests at "/sandbox": the Stripe API under "/stripe/v1/…",
    /// hosted pages, the dashboard, the control endpoints.
    pub fn router(&self) -> Router {
        let key = api::SecretKey(self.inner.config.secret_key.clone().into());
        Router::new()
            .nest("/stripe/v1", api::router().layer(axum::Extension(key)))
            .merge(pages::router())
            .with_state(self.clone())
    }

    /// The only secret key the API accepts ([`SandboxConfig::secret_key`]).
    pub fn secret_key(&self) -> &str {
        &self.inner.config.secret_key
    }

    /// Base URL for async-stripe: `{public_url}/stripe/` (trailing slash matters).
    pub fn api_base(&self) -> String {
        format!("{}/stripe/", self.inner.config.public_url)
    }

    /// The sandbox clock (unix seconds): real time plus the advances made so far.
    pub fn now(&self) -> i64 {
        self.lock().now()
    }

    /// Advances the test clock: settles pending SEPA payments (succeeded or failed), retries
    /// failed renewals that are due (canceling the subscription after the last retry), resumes
    /// collection at each pause's `resumes_at` and renews due subscriptions (invoice paid,
    /// failed, or none while paused), each subscription's steps in time order, and ends
    /// subscriptions set to cancel at period end. Returns once the resulting events are queued.
    pub async fn advance_clock(&self, seconds: i64) {
        let mut state = self.lock();
        state.clock_offset += seconds.max(0);
        checkout::settle_pending(&mut state);
        checkout::expire_overdue(&mut state);
        billing::retry_due(&mut state);
        billing::renew_due(&mut state);
    }

    /// Opens a dispute on a payment's successful charge (`payment` is its PaymentIntent or
    /// Charge id), as the payer's bank would: for `amount` cents (`None`: the whole charge)
    /// and one of Stripe's reasons (`None`: `fraudulent`). Emits `charge.dispute.created` and
    /// `charge.dispute.funds_withdrawn`; the charge cannot be refunded any more. Returns the
    /// dispute's id (`dp_…`).
    pub fn open_dispute(
        &self,
        payment: &str,
        amount: Option<i64>,
        reason: Option<&str>,
    ) -> Result<String, DisputeRefused> {
        let target = if payment.starts_with("ch_") {
            payments::RefundTarget::Charge(payment.to_owned())
        } else {
            payments::RefundTarget::PaymentIntent(payment.to_owned())
        };
        let request = disputes::DisputeRequest {
            target,
            amount,
            reason: reason.map(str::to_owned),
        };
        let dispute = disputes::open(&mut self.lock(), request)?;
        Ok(dispute["id"].as_str().unwrap_or_default().to_owned())
    }

    /// Decides an open dispute: won (`charge.dispute.updated` under review, `…closed`,
    /// `…funds_reinstated`) or lost (`charge.dispute.closed`).
    pub fn close_dispute(
        &self,
        dispute: &str,
        outcome: DisputeOutcome,
    ) -> Result<(), DisputeRefused> {
        disputes::close(&mut self.lock(), dispute, outcome)?;
        Ok(())
    }

    /// Every event generated so far, oldest first (the exact JSON payload delivered).
    pub fn events(&self) -> Vec<serde_json::Value> {
        self.lock()
            .events
            .iter()
            .filter_map(|e| serde_json::from_str(&e.payload).ok())
            .collect()
    }

    /// Turn automatic delivery on/off; events generated while off are kept (in `events()`)
    /// but not delivered, so tests can deliver them by hand in any order.
    pub fn set_auto_deliver(&self, on: bool) {
        self.lock().auto_deliver = on;
    }

    /// Waits until every queued delivery has been acknowledged (2xx) or given up.
    pub async fn wait_for_deliveries(&self) {
        delivery::idle(&self.inner.pending).await;
    }

    /// Stripe-Signature header value for `payload` at `timestamp` (`t=…,v1=…`).
    pub fn sign(&self, payload: &str, timestamp: i64) -> String {
        stripe_webhook::Webhook::generate_test_header(
            payload,
            &self.inner.config.webhook_secret,
            Some(timestamp),
        )
    }

    /// The state; saved on release if it was changed.
    fn lock(&self) -> Guard<'_> {
        self.inner.state.lock()
    }

    /// The path part of `public_url` (e.g. `/sandbox`), for links in hosted pages.
    fn mount_path(&self) -> String {
        let url = &self.inner.config.public_url;
        let after_scheme = url.split_once("://").map_or(url.as_str(), |(_, rest)| rest);
        after_scheme
            .find('/')
            .map_or(String::new(), |i| after_scheme[i..].to_owned())
    }
}

/// A sandbox that went through every scenario, for the unit tests of its objects and events.
#[cfg(test)]
pub(crate) mod testing {
    use super::checkout::{self, Choice};
    use super::form::Form;
    use super::{DisputeOutcome, Sandbox, SandboxConfig, billing, payments, subscription_changes};

    pub const SECRET: &str = "whsec_test_secret";

    pub fn session_form(mode: &str, extra: &str) -> Form {
        let recurring = if mode == "subscription" {
            "&line_items[0][price_data][recurring][interval]=month&subscription_data[metadata][donation_id]=7"
        } else {
            "&payment_intent_data[metadata][donation_id]=7&submit_type=donate"
        };
        Form::parse(&format!(
            "mode={mode}&line_items[0][price_data][currency]=eur\
             &line_items[0][price_data][product_data][name]=Don&line_items[0][price_data][unit_amount]=1250\
             &line_items[0][quantity]=1&customer_email=a@b.fr&metadata[donation_id]=7\
             &allowed_payment_method_types[0]=card&allowed_payment_method_types[1]=sepa_debit\
             &success_url=http://127.0.0.1:9/merci?s={{CHECKOUT_SESSION_ID}}&cancel_url=http://127.0.0.1:9/don{recurring}{extra}"
        ))
    }

    #[tokio::test]
    async fn checkouts_and_portals_lead_back_only_to_the_site_the_sandbox_serves() {
        let sandbox = scenario_sandbox();
        let mut state = sandbox.lock();
        let base = "mode=payment&line_items[0][price_data][currency]=eur\
             &line_items[0][price_data][product_data][name]=Don&line_items[0][price_data][unit_amount]=1250\
             &line_items[0][quantity]=1&payment_intent_data[metadata][donation_id]=7";
        for (param, urls) in [
            ("success_url", "&success_url=https://ailleurs.example/merci"),
            (
                "cancel_url",
                "&success_url=http://127.0.0.1:9/merci&cancel_url=http://127.0.0.1:8/don",
            ),
        ] {
            let refused = checkout::create(&mut state, &Form::parse(&format!("{base}{urls}")));
            assert_eq!(refused.err().and_then(|e| e.param).as_deref(), Some(param));
        }
        let own = format!(
            "{base}&success_url=http://127.0.0.1:9/merci&cancel_url=http://127.0.0.1:9/don"
        );
        assert!(checkout::create(&mut state, &Form::parse(&own)).is_ok());
    }

    /// Creates a session in `mode` and pays it with `choice`; returns the session id.
    pub fn paid_session(sandbox: &Sandbox, mode: &str, choice: Choice) -> String {
        let mut state = sandbox.lock();
        let json = checkout::create(&mut state, &session_form(mode, "")).expect("valid session");
        let id = json["id"].as_str().expect("id").to_owned();
        checkout::pay(&mut state, &id, choice).expect("paid");
        id
    }

    /// A sandbox in memory whose events are kept, not delivered.
    pub fn scenario_sandbox() -> Sandbox {
        let sandbox = Sandbox::new(SandboxConfig {
            public_url: "http://127.0.0.1:9/sandbox".into(),
            webhook_url: "http://127.0.0.1:9/webhooks/stripe".into(),
            webhook_secret: SECRET.into(),
            secret_key: "sk_test_scenario".into(),
            state_file: None,
            owner: None,
        })
        .expect("no state file to read");
        sandbox.set_auto_deliver(false);
        sandbox
    }

    /// The PaymentIntent of a paid checkout session.
    fn payment_of(sandbox: &Sandbox, session: &str) -> String {
        super::state::find(&sandbox.lock().sessions, session)
            .and_then(|s| s.payment_intent.clone())
            .expect("payment intent")
    }

    /// One of each: payments by card and SEPA (settled and rejected), an expired session,
    /// subscriptions whose renewal succeeds or fails, a SEPA subscription that bounces,
    /// changes (amount, a pause that resumes by itself, cancellation details, a new interval
    /// billed at once), a cancellation, a partial refund, disputes won and lost, and a
    /// portal session.
    pub async fn scenario() -> Sandbox {
        let sandbox = scenario_sandbox();
        let card = paid_session(&sandbox, "payment", Choice::Card);
        for outcome in [DisputeOutcome::Won, DisputeOutcome::Lost] {
            let disputed = paid_session(&sandbox, "payment", Choice::Card);
            let dispute = sandbox
                .open_dispute(&payment_of(&sandbox, &disputed), None, None)
                .expect("opened");
            sandbox.close_dispute(&dispute, outcome).expect("closed");
        }
        paid_session(&sandbox, "payment", Choice::Sepa);
        paid_session(&sandbox, "payment", Choice::SepaFails);
        paid_session(&sandbox, "subscription", Choice::Card);
        paid_session(&sandbox, "subscription", Choice::CardRenewalFails);
        paid_session(&sandbox, "subscription", Choice::SepaFails);
        {
            let mut state = sandbox.lock();
            let open = checkout::create(&mut state, &session_form("payment", "")).expect("valid");
            checkout::expire(&mut state, open["id"].as_str().expect("id")).expect("expired");
            let pi = super::state::find(&state.sessions, &card)
                .and_then(|s| s.payment_intent.clone())
                .expect("payment intent");
            let request = payments::RefundRequest::parse(&Form::parse(&format!(
                "payment_intent={pi}&amount=250"
            )))
            .expect("valid refund");
            payments::refund(&mut state, request).expect("refunded");
            let sub = state.subscriptions[0].id.clone();
            let item = state.subscriptions[0].item_id.clone();
            let product = state.subscriptions[0].price.product.clone();
            let resumes_at = state.now() + 20 * 86_400;
            let form = Form::parse(&format!(
                "items[0][id]={item}&items[0][price_data][currency]=eur&items[0][price_data][product]={product}\
                 &items[0][price_data][recurring][interval]=month&items[0][price_data][unit_amount]=2000\
                 &pause_collection[behavior]=void&pause_collection[resumes_at]={resumes_at}\
                 &cancel_at_period_end=true&metadata[note]=x\
                 &cancellation_details[feedback]=too_expensive&cancellation_details[comment]=Plus+tard"
            ));
            let change =
                subscription_changes::parse_change(&state, &sub, &form).expect("valid change");
            billing::update(&mut state, &sub, change).expect("updated");
            // A change of interval, billed at once to a card that fails.
            let failing = state.subscriptions[1].clone();
            let form = Form::parse(&format!(
                "items[0][id]={}&items[0][price_data][currency]=eur&items[0][price_data][product]={}\
                 &items[0][price_data][recurring][interval]=year&items[0][price_data][unit_amount]=12000\
                 &proration_behavior=none",
                failing.item_id, failing.price.product
            ));
            let change = subscription_changes::parse_change(&state, &failing.id, &form)
                .expect("valid change");
            billing::update(&mut state, &failing.id, change).expect("updated");
            let customer = state.subscriptions[0].customer.clone();
            billing::create_portal_session(
                &mut state,
                &Form::parse(&format!(
                    "customer={customer}&return_url=http://127.0.0.1:9/espace"
                )),
            )
            .expect("portal");
        }
        sandbox.advance_clock(32 * 86_400).await;
        {
            let mut state = sandbox.lock();
            let last = state.subscriptions.last().expect("sub").id.clone();
            let _ = billing::cancel(&mut state, &last, Default::default());
        }
        sandbox
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use stripe_webhook::{EventObject, Webhook};

    use super::testing::{SECRET, scenario};

    /// Every event type the sandbox emits, as Obole's typed webhook parser sees it.
    #[tokio::test]
    async fn every_event_verifies_and_parses_into_its_typed_variant() {
        let sandbox = scenario().await;
        let events = sandbox.events();
        let mut kinds = BTreeSet::new();
        for event in &events {
            let payload = event.to_string();
            let kind = event["type"].as_str().expect("type").to_owned();
            let signature = sandbox.sign(&payload, crate::clock::now());
            let parsed = Webhook::construct_event(&payload, &signature, SECRET)
                .unwrap_or_else(|e| panic!("{kind} does not parse: {e:?}"));
            let typed = match parsed.data.object {
                EventObject::CheckoutSessionCompleted(_) => "checkout.session.completed",
                EventObject::CheckoutSessionExpired(_) => "checkout.session.expired",
                EventObject::CheckoutSessionAsyncPaymentSucceeded(_) => {
                    "checkout.session.async_payment_succeeded"
                }
                EventObject::CheckoutSessionAsyncPaymentFailed(_) => {
                    "checkout.session.async_payment_failed"
                }
                EventObject::CustomerSubscriptionCreated(_) => "customer.subscription.created",
                EventObject::CustomerSubscriptionUpdated(_) => "customer.subscription.updated",
                EventObject::CustomerSubscriptionDeleted(_) => "customer.subscription.deleted",
                EventObject::InvoicePaid(_) => "invoice.paid",
                EventObject::InvoicePaymentFailed(_) => "invoice.payment_failed",
                EventObject::ChargeRefunded(_) => "charge.refunded",
                EventObject::RefundCreated(_) => "refund.created",
                EventObject::ChargeDisputeCreated(_) => "charge.dispute.created",
                EventObject::ChargeDisputeFundsWithdrawn(_) => "charge.dispute.funds_withdrawn",
                EventObject::ChargeDisputeUpdated(_) => "charge.dispute.updated",
                EventObject::ChargeDisputeClosed(_) => "charge.dispute.closed",
                EventObject::ChargeDisputeFundsReinstated(_) => "charge.dispute.funds_reinstated",
                _ => "unexpected variant",
            };
            assert_eq!(typed, kind);
            kinds.insert(kind);
        }
        let expected = [
            "charge.dispute.closed",
            "charge.dispute.created",
            "charge.dispute.funds_reinstated",
            "charge.dispute.funds_withdrawn",
            "charge.dispute.updated",
            "charge.refunded",
            "checkout.session.async_payment_failed",
            "checkout.session.async_payment_succeeded",
            "checkout.session.completed",
            "checkout.session.expired",
            "customer.subscription.created",
            "customer.subscription.deleted",
            "customer.subscription.updated",
            "invoice.paid",
            "invoice.payment_failed",
            "refund.created",
        ];
        assert_eq!(
            kinds.iter().map(String::as_str).collect::<Vec<_>>(),
            expected
        );
        let objects = || events.iter().map(|e| &e["data"]["object"]);
        assert!(
            objects().any(|o| o["pause_collection"]["resumes_at"].is_i64()),
            "a pause with its resume time went through the typed parser"
        );
        assert!(objects().any(|o| o["cancellation_details"]["feedback"] == "too_expensive"));
        assert!(objects().any(|o| o["billing_reason"] == "subscription_update"));
    }

    #[tokio::test]
    async fn a_bad_signature_or_an_old_timestamp_is_refused() {
        let sandbox = scenario().await;
        let payload = sandbox.events()[0].to_string();
        let now = crate::clock::now();
        let old = sandbox.sign(&payload, now - 3600);
        assert!(Webhook::construct_event(&payload, &old, SECRET).is_err());
        let good = sandbox.sign(&payload, now);
        assert!(Webhook::construct_event(&payload, &good, "whsec_other").is_err());
        assert!(Webhook::construct_event(&payload, &good, SECRET).is_ok());
    }

    #[tokio::test]
    async fn the_clock_only_moves_forward_by_what_was_advanced() {
        let sandbox = scenario().await;
        let drift = sandbox.now() - crate::clock::now();
        assert!((32 * 86_400 - 2..=32 * 86_400).contains(&drift), "{drift}");
    }
}
