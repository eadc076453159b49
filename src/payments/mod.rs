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
        })
    }

    pub fn client(&self) -> &stripe::Client {
        &self.client
    }

    pub fn webhook_secret(&self) -> &str {
        self.webhook_secret.expose_secret()
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
