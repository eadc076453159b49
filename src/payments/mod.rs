//! Payments through Stripe: the client (real Stripe, or the sandbox in demo mode and tests),
//! Checkout Sessions for gifts, and the webhook events that turn them into donations.

pub mod applier;
pub mod checkout;
pub mod events;
pub mod portal;
pub mod reconcile;
pub mod refunds;
pub mod rules;
pub mod subscriptions;
pub mod webhook;

use std::sync::Arc;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

/// What Obole needs to talk to Stripe; cheap to clone.
#[derive(Clone)]
pub struct Payments {
    client: stripe::Client,
    webhook_secret: Arc<SecretString>,
    /// Accepted too while the endpoint's secret is being replaced.
    previous_webhook_secret: Option<Arc<SecretString>>,
}

impl std::fmt::Debug for Payments {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Payments { .. }")
    }
}

impl Payments {
    /// `api_base` is Stripe's own URL for real keys, or the sandbox's (`…/sandbox/stripe/`).
    pub fn new(
        secret_key: &SecretString,
        api_base: Option<&str>,
        webhook_secret: SecretString,
    ) -> Result<Payments, stripe::StripeError> {
        let mut builder = stripe::ClientBuilder::new(secret_key.expose_secret())
            .timeout(Duration::from_secs(20))
            .app_info("obole", Some(env!("CARGO_PKG_VERSION").to_owned()), None);
        if let Some(base) = api_base {
            // async-stripe appends `v1/…` to the base: a base with a path needs its slash.
            let base = if base.ends_with('/') {
                base.to_owned()
            } else {
                format!("{base}/")
            };
            builder = builder.url(base);
        }
        Ok(Payments {
            client: builder.build()?,
            webhook_secret: Arc::new(webhook_secret),
            previous_webhook_secret: None,
        })
    }

    /// Also accepts deliveries signed with `previous` (`STRIPE_WEBHOOK_SECRET_PREVIOUS`), so
    /// that none is refused while the endpoint's secret changes (README, « Rotating the
    /// webhook secret »).
    pub fn accepting_previous_secret(mut self, previous: Option<SecretString>) -> Payments {
        self.previous_webhook_secret = previous.map(Arc::new);
        self
    }

    pub fn client(&self) -> &stripe::Client {
        &self.client
    }

    pub fn webhook_secret(&self) -> &str {
        self.webhook_secret.expose_secret()
    }

    /// Verifies a delivery ([`webhook::verify`]) with the endpoint's secret, or failing
    /// that, with the previous one when there is one.
    pub fn verify_webhook(
        &self,
        payload: &[u8],
        signature: Option<&str>,
    ) -> Result<events::StripeEvent, webhook::Rejection> {
        let verified = webhook::verify(payload, signature, self.webhook_secret());
        match (&verified, &self.previous_webhook_secret) {
            (Err(webhook::Rejection::BadSignature), Some(previous)) => {
                webhook::verify(payload, signature, previous.expose_secret())
            }
            _ => verified,
        }
    }
}

/// A Stripe call that failed, for logs (the donor sees a generic French message). Worded
/// without Stripe's own message, which may quote what was sent (a donor's email).
#[derive(Debug, thiserror::Error)]
pub enum PaymentError {
    #[error("Stripe : {}", without_personal_data(.0))]
    Stripe(#[from] stripe::StripeError),
    #[error("Stripe a répondu sans {0}")]
    Missing(&'static str),
    #[error("clé d'idempotence invalide")]
    IdempotencyKey,
}

/// What went wrong, minus the free text Stripe may echo personal data in.
fn without_personal_data(error: &stripe::StripeError) -> String {
    match error {
        stripe::StripeError::Stripe(api, status) => format!(
            "HTTP {status}, {} {} (paramètre {})",
            api.type_.as_str(),
            api.code.as_ref().map(|c| c.as_str()).unwrap_or("sans code"),
            api.param.as_deref().unwrap_or("aucun"),
        ),
        stripe::StripeError::JSONDeserialize(_) => "réponse illisible".to_owned(),
        other => other.to_string(),
    }
}
