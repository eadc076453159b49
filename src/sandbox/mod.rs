//! The Stripe sandbox: a small, faithful stand-in for the part of Stripe that Obole uses, so
//! the whole donor journey runs offline (demo mode) and in tests.
//!
//! It speaks Stripe's wire format under `/stripe/v1/…` (form-encoded bracketed keys in, JSON
//! objects shaped like Stripe's out, Stripe's error JSON, `Idempotency-Key`), so Obole talks
//! to it through the real async-stripe client. It serves a hosted checkout page, a billing
//! portal and a small dashboard of its own, and delivers webhook events signed exactly like
//! Stripe's. A test clock (`advance_clock`) renews subscriptions and settles SEPA debits.
//!
//! State lives in memory behind one mutex (never held across `.await`): restarting the
//! server forgets every session, subscription and event. That is fine for a demo and for
//! tests; nothing here is ever the ledger (Obole's database is).

mod api;
mod billing;
mod checkout;
mod clock;
mod delivery;
mod error;
mod form;
mod objects;
mod pages;
mod payments;
mod state;

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::Router;
use tokio::sync::watch;

use self::state::State;

/// The sandbox; cheap to clone (an `Arc` inside).
#[derive(Clone)]
pub struct Sandbox {
    inner: Arc<Inner>,
}

struct Inner {
    config: SandboxConfig,
    state: Arc<Mutex<State>>,
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
}

impl Sandbox {
    /// Needs a tokio runtime: spawns the webhook delivery task. Auto-delivery is on.
    pub fn new(mut config: SandboxConfig) -> Sandbox {
        config.public_url = config.public_url.trim_end_matches('/').to_owned();
        let (queue, receiver, pending) = delivery::channel();
        let state = Arc::new(Mutex::new(State::new(config.public_url.clone(), queue)));
        delivery::start(
            delivery::Target {
                url: config.webhook_url.clone(),
                secret: config.webhook_secret.clone(),
            },
            receiver,
            Arc::downgrade(&state),
            pending.clone(),
        );
        Sandbox {
            inner: Arc::new(Inner {
                config,
                state,
                pending,
            }),
        }
    }

    /// Router<()> that Obole nests at "/sandbox": the Stripe API under "/stripe/v1/…",
    /// hosted pages, the dashboard, the control endpoints.
    pub fn router(&self) -> Router {
        Router::new()
            .nest("/stripe/v1", api::router())
            .merge(pages::router())
            .with_state(self.clone())
    }

    /// Base URL for async-stripe: `{public_url}/stripe/` (trailing slash matters).
    pub fn api_base(&self) -> String {
        format!("{}/stripe/", self.inner.config.public_url)
    }

    /// The sandbox clock (unix seconds): real time plus the advances made so far.
    pub fn now(&self) -> i64 {
        self.lock().now()
    }

    /// Advances the test clock: renews due subscriptions (invoice paid or failed), settles
    /// pending SEPA payments (succeeded or failed), ends subscriptions set to cancel at
    /// period end. Returns once the resulting events are queued.
    pub async fn advance_clock(&self, seconds: i64) {
        let mut state = self.lock();
        state.clock_offset += seconds.max(0);
        checkout::settle_pending(&mut state);
        checkout::expire_overdue(&mut state);
        billing::renew_due(&mut state);
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

    /// The state; a panic while it was held leaves it usable (it is only a simulation).
    fn lock(&self) -> MutexGuard<'_, State> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
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
