//! Typed configuration, read once from the environment at start-up.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;

use crate::domain::amount::AmountLimits;
use crate::domain::tax::TaxReduction;

/// Everything Obole needs to run. Built from the environment by [`Config::from_env`], or by
/// hand in tests.
#[derive(Clone, Debug)]
pub struct Config {
    /// `sqlite://…` or `postgres://…`.
    pub database_url: String,
    pub host: IpAddr,
    /// 0 asks the system for a free port (tests).
    pub port: u16,
    /// Public URL used in links and redirects; `None` means `http://localhost:{port}`.
    pub base_url: Option<String>,
    pub data_dir: PathBuf,
    /// Without a key Obole runs in demonstration mode: no real payment is possible.
    pub stripe_secret_key: Option<SecretString>,
    /// `whsec_…`: verifies webhooks; in demo mode the sandbox signs with it (or a generated one).
    pub stripe_webhook_secret: Option<SecretString>,
    /// The endpoint's previous signing secret, also accepted while it is being replaced.
    pub stripe_webhook_secret_previous: Option<SecretString>,
    /// Overrides Stripe's API base URL (tests point it at a sandbox).
    pub stripe_api_base: Option<String>,
    /// Smallest and largest gift accepted online.
    pub amount_limits: AmountLimits,
    /// Tax reduction shown to donors (66 % by default).
    pub tax_reduction: TaxReduction,
    /// Checkouts one IP address may start per minute (card-testing protection).
    pub checkout_rate_per_minute: u32,
    /// How many reverse proxies or load balancers of ours stand before Obole (0: none), so
    /// that the donor's address is read from `X-Forwarded-For` and not the proxy's.
    pub trusted_proxies: usize,
    /// How long a public page may be served from memory after it was rendered, at most
    /// (0: no page cache). Changes made through this instance refresh pages at once; this
    /// bounds how late another instance's changes show.
    pub page_cache_seconds: u64,
    /// Name of the organisation shown in the header and titles.
    pub organisation_name: String,
    /// Its postal address, in the footer of every email.
    pub organisation_address: String,
    /// `smtp://user:pass@host:587` (STARTTLS) or `smtps://…` (implicit TLS); `None` writes
    /// emails to `DATA_DIR/outbox/` instead.
    pub smtp_url: Option<SecretString>,
    /// The sender of every email, `Name <address>`.
    pub mail_from: String,
    /// Where replies go, when not to `mail_from`.
    pub mail_reply_to: Option<String>,
    /// Run the job worker (emails) inside `obole serve`; off when separate `obole worker`
    /// processes do it.
    pub jobs_worker: bool,
    /// How often the job worker reconciles the ledger with Stripe, in hours (0: never; run
    /// `obole reconcile` instead). Daily by default.
    pub reconcile_every_hours: u64,
    /// Seed the demo content into an empty database (demo mode only).
    pub seed_demo_content: bool,
    /// How long a client may take to send a request, and how many may be connected at once.
    pub http: HttpLimits,
    /// Run the hourly housekeeping ([`crate::jobs::housekeeping`]) in the job worker.
    pub housekeeping: bool,
    /// Done jobs are deleted after this many days (housekeeping). At least 40: longer than
    /// the reconciliation looks back, so that a job's dedupe key outlives every cause that
    /// could enqueue it again.
    pub jobs_retention_days: u64,
    /// Expired sign-in links are deleted after this many days (housekeeping).
    pub sign_in_retention_days: u64,
    /// Bearer token that opens `/metrics` (Prometheus); without one, `/metrics` is not served.
    pub metrics_token: Option<SecretString>,
    /// After SIGTERM, how long `/readyz` fails while the instance still serves, so that a
    /// load balancer stops sending it requests before it stops taking them.
    pub shutdown_drain_seconds: u64,
}

/// What a client gets of the server's time and connections, so that slow or idle clients
/// cannot hold it (a reverse proxy in front adds its own: see README).
#[derive(Clone, Copy, Debug)]
pub struct HttpLimits {
    /// A request's headers must arrive within this, from the moment the server waits for
    /// them; an idle keep-alive connection is closed after it too.
    pub header_timeout: Duration,
    /// A request's whole body must arrive within this, once its handler starts reading it;
    /// past it the answer is 408. Below the 30 s a request may take in all.
    pub body_timeout: Duration,
    /// Connections served at once; those beyond wait in the system's queue until one closes.
    pub max_connections: usize,
}

impl Default for HttpLimits {
    fn default() -> HttpLimits {
        HttpLimits {
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(15),
            max_connections: 512,
        }
    }
}

/// The organisation of the demonstration, until one is configured.
const DEMO_ORGANISATION: &str = "Villages d’Enfants";
const DEMO_ADDRESS: &str = "12 rue de l’Espérance, 75011 Paris";
const DEMO_MAIL_FROM: &str = "Villages d’Enfants <dons@villages-enfants.example>";

/// A raised amount on a public page is at most this many seconds old (see README).
pub const DEFAULT_PAGE_CACHE_SECONDS: u64 = 5;

#[derive(Debug, thiserror::Error)]
#[error("la variable d'environnement {name} est invalide : {reason}")]
pub struct ConfigError {
    name: &'static str,
    reason: String,
}

impl Config {
    /// Reads `DATABASE_URL`, `HOST`, `PORT`, `BASE_URL`, `DATA_DIR`, `STRIPE_SECRET_KEY` and
    /// `ORGANISATION_NAME`; every one has a default fit for a first run on a laptop.
    pub fn from_env() -> Result<Config, ConfigError> {
        let data_dir = PathBuf::from(var("DATA_DIR").unwrap_or_else(|| "./data".to_owned()));
        let database_url = var("DATABASE_URL")
            .unwrap_or_else(|| format!("sqlite://{}/obole.db", data_dir.display()));
        let port = match var("PORT") {
            Some(raw) => raw.parse().map_err(|_| ConfigError {
                name: "PORT",
                reason: format!("« {raw} » n'est pas un numéro de port"),
            })?,
            None => 3000,
        };
        let host = match var("HOST") {
            Some(raw) => raw.parse().map_err(|_| ConfigError {
                name: "HOST",
                reason: format!("« {raw} » n'est pas une adresse IP"),
            })?,
            None => IpAddr::from([127, 0, 0, 1]),
        };
        let base_url = match var("BASE_URL") {
            Some(raw) => Some(parse_base_url("BASE_URL", &raw)?),
            None => None,
        };
        Ok(Config {
            database_url,
            host,
            port,
            base_url,
            data_dir,
            stripe_secret_key: var("STRIPE_SECRET_KEY").map(SecretString::from),
            stripe_webhook_secret: var("STRIPE_WEBHOOK_SECRET").map(SecretString::from),
            stripe_webhook_secret_previous: var("STRIPE_WEBHOOK_SECRET_PREVIOUS")
                .map(SecretString::from),
            stripe_api_base: match var("STRIPE_API_BASE") {
                Some(raw) => Some(parse_base_url("STRIPE_API_BASE", &raw)?),
                None => None,
            },
            amount_limits: AmountLimits {
                min_cents: euros("DONATION_MIN_EUROS")?.unwrap_or(500),
                max_cents: euros("DONATION_MAX_EUROS")?.unwrap_or(5_000_000),
            },
            tax_reduction: TaxReduction {
                rate_percent: number("TAX_REDUCTION_RATE", 0, 100)?.unwrap_or(66),
                ceiling_cents: euros("TAX_REDUCTION_CEILING_EUROS")?,
                base_rate_percent: number("TAX_REDUCTION_BASE_RATE", 0, 100)?.unwrap_or(66),
            },
            checkout_rate_per_minute: number("CHECKOUT_RATE_PER_MINUTE", 1, 10_000)?.unwrap_or(10)
                as u32,
            trusted_proxies: number("TRUSTED_PROXIES", 0, 10)?.unwrap_or(0) as usize,
            page_cache_seconds: number("PAGE_CACHE_SECONDS", 0, 300)?
                .unwrap_or(DEFAULT_PAGE_CACHE_SECONDS as i64)
                as u64,
            organisation_name: var("ORGANISATION_NAME")
                .unwrap_or_else(|| DEMO_ORGANISATION.to_owned()),
            organisation_address: var("ORGANISATION_ADDRESS")
                .unwrap_or_else(|| DEMO_ADDRESS.to_owned()),
            smtp_url: var("SMTP_URL").map(SecretString::from),
            mail_from: var("MAIL_FROM").unwrap_or_else(|| DEMO_MAIL_FROM.to_owned()),
            mail_reply_to: var("MAIL_REPLY_TO"),
            jobs_worker: var("JOBS_WORKER").is_none_or(|v| v != "0" && v != "false"),
            reconcile_every_hours: number("RECONCILE_EVERY_HOURS", 0, 24 * 7)?.unwrap_or(24) as u64,
            seed_demo_content: var("SEED_DEMO_CONTENT").is_none_or(|v| v != "0" && v != "false"),
            http: http_limits()?,
            housekeeping: var("HOUSEKEEPING").is_none_or(|v| v != "0" && v != "false"),
            jobs_retention_days: number("JOBS_RETENTION_DAYS", 40, 3650)?.unwrap_or(60) as u64,
            sign_in_retention_days: number("SIGN_IN_RETENTION_DAYS", 1, 365)?.unwrap_or(7) as u64,
            metrics_token: var("METRICS_TOKEN").map(SecretString::from),
            shutdown_drain_seconds: number("SHUTDOWN_DRAIN_SECONDS", 0, 300)?.unwrap_or(5) as u64,
        })
    }

    /// Demonstration mode on `database_url`, every other setting at its default, listening on
    /// a free loopback port: what tests and benchmarks start from. `data_dir` is the system's
    /// temporary directory: give each instance its own, as the sandbox keeps its state there.
    pub fn local(database_url: &str) -> Config {
        Config {
            database_url: database_url.to_owned(),
            host: IpAddr::from([127, 0, 0, 1]),
            port: 0,
            base_url: None,
            data_dir: std::env::temp_dir(),
            stripe_secret_key: None,
            stripe_webhook_secret: None,
            stripe_webhook_secret_previous: None,
            stripe_api_base: None,
            amount_limits: AmountLimits::default(),
            tax_reduction: TaxReduction::default(),
            checkout_rate_per_minute: 10,
            trusted_proxies: 0,
            page_cache_seconds: DEFAULT_PAGE_CACHE_SECONDS,
            organisation_name: DEMO_ORGANISATION.to_owned(),
            organisation_address: DEMO_ADDRESS.to_owned(),
            smtp_url: None,
            mail_from: DEMO_MAIL_FROM.to_owned(),
            mail_reply_to: None,
            jobs_worker: true,
            // Tests hold events back on purpose: no reconciliation behind their back.
            reconcile_every_hours: 0,
            seed_demo_content: true,
            http: HttpLimits::default(),
            // Tests count jobs and writes: none behind their back (those about it turn it on).
            housekeeping: false,
            jobs_retention_days: 60,
            sign_in_retention_days: 7,
            metrics_token: None,
            shutdown_drain_seconds: 0,
        }
    }

    /// Demonstration mode: no Stripe key, so no real payment can happen.
    pub fn demo_mode(&self) -> bool {
        self.stripe_secret_key.is_none()
    }
}

/// An unset or blank variable is absent.
fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// A whole number within bounds, or `None` when unset.
fn number(name: &'static str, min: i64, max: i64) -> Result<Option<i64>, ConfigError> {
    let Some(raw) = var(name) else {
        return Ok(None);
    };
    match raw.trim().parse::<i64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
        _ => Err(ConfigError {
            name,
            reason: format!("attendu : un nombre entier de {min} à {max}"),
        }),
    }
}

/// `HEADER_TIMEOUT_SECONDS`, `BODY_TIMEOUT_SECONDS` and `MAX_CONNECTIONS`.
fn http_limits() -> Result<HttpLimits, ConfigError> {
    let default = HttpLimits::default();
    let seconds = |name, max, default: Duration| -> Result<Duration, ConfigError> {
        Ok(number(name, 1, max)?.map_or(default, |s| Duration::from_secs(s as u64)))
    };
    Ok(HttpLimits {
        header_timeout: seconds("HEADER_TIMEOUT_SECONDS", 300, default.header_timeout)?,
        // A request has 30 s in all (`web::REQUEST_TIMEOUT`): its body must leave its
        // handler time to answer.
        body_timeout: seconds("BODY_TIMEOUT_SECONDS", 20, default.body_timeout)?,
        max_connections: number("MAX_CONNECTIONS", 1, 100_000)?
            .map_or(default.max_connections, |n| n as usize),
    })
}

/// Whole euros, as cents.
fn euros(name: &'static str) -> Result<Option<i64>, ConfigError> {
    Ok(number(name, 1, 100_000_000)?.map(|e| e * 100))
}

fn parse_base_url(name: &'static str, raw: &str) -> Result<String, ConfigError> {
    let url = url::Url::parse(raw).map_err(|e| ConfigError {
        name,
        reason: e.to_string(),
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(ConfigError {
            name,
            reason: "attendu : une adresse http(s)://…".to_owned(),
        });
    }
    Ok(raw.trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_loses_its_trailing_slash() {
        assert_eq!(
            parse_base_url("BASE_URL", "https://dons.example.org/").unwrap(),
            "https://dons.example.org"
        );
        assert!(parse_base_url("BASE_URL", "ftp://x").is_err());
        assert!(parse_base_url("BASE_URL", "pas une url").is_err());
    }
}
