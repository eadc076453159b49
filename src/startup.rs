//! Builds the application: config → database (migrated, seeded in demo mode) → state → router,
//! bound to its port. `main` and the tests both start Obole through [`Application`].

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::config::Config;
use crate::db::{Db, DbError, mask_password};
use crate::domain::dates;
use crate::jobs::JobContext;
use crate::jobs::email::{Mailer, MailerError};
use crate::jobs::worker::Worker;
use crate::links::LinkKey;
use crate::payments::Payments;
use crate::payments::applier::Applier;
use crate::seed;
use crate::web::donate::readings::FormReadings;
use crate::web::page_cache::PageCache;
use crate::web::{self, AppState};

/// The sandbox's state under `DATA_DIR` (demonstration mode).
#[cfg(feature = "sandbox")]
const SANDBOX_STATE_FILE: &str = "stripe-sandbox.json";

pub struct Application {
    listener: TcpListener,
    port: u16,
    state: AppState,
    router: axum::Router,
    /// What the job worker runs with; `None` when this instance runs none (`JOBS_WORKER=0`).
    jobs: Option<JobContext>,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Database(#[from] DbError),
    #[error("impossible d'écouter sur {addr} : {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("échec de l'ajout du contenu de démonstration : {0}")]
    Seed(sqlx::Error),
    #[error(
        "STRIPE_WEBHOOK_SECRET est obligatoire avec une clé Stripe : sans lui, les paiements ne peuvent pas être confirmés"
    )]
    MissingWebhookSecret,
    #[error(
        "sans STRIPE_SECRET_KEY, Obole démarre en mode démonstration, qui demande le bac à sable Stripe : cette version a été compilée sans lui (fonctionnalité « sandbox »). Définissez STRIPE_SECRET_KEY et STRIPE_WEBHOOK_SECRET, ou compilez avec les fonctionnalités par défaut"
    )]
    DemoModeUnavailable,
    #[error("client Stripe : {0}")]
    Stripe(#[from] stripe::StripeError),
    #[error("sessions : {0}")]
    Sessions(sqlx::Error),
    #[error("impossible de lire l'identité de la base de données : {0}")]
    Ledger(sqlx::Error),
    #[cfg(feature = "sandbox")]
    #[error(
        "impossible de lire l'état du bac à sable Stripe « {} » : {} (corrigez les droits du fichier, ou déplacez-le pour repartir de zéro)",
        .0.file.display(),
        .0.source
    )]
    SandboxState(#[from] stripe_sandbox::StateFileError),
    #[error("clés de signature (formulaires, liens) : {0}")]
    ServerKeys(sqlx::Error),
    #[error(transparent)]
    Mailer(#[from] MailerError),
}

impl Application {
    /// Connects and migrates the database, seeds demo content into an empty database in
    /// demo mode, and binds the listener (port 0 picks a free one).
    pub async fn build(config: Config) -> Result<Application, StartError> {
        if config.demo_mode() && !cfg!(feature = "sandbox") {
            return Err(StartError::DemoModeUnavailable);
        }
        // Counted from the first request on.
        crate::telemetry::measures::handle();
        let db = open_database(&config.database_url).await?;
        if config.demo_mode() && config.seed_demo_content {
            let lock = db.lock_setup().await.map_err(StartError::Seed)?;
            let seeded = seed_empty_database(&db, &config).await;
            lock.release().await;
            seeded?;
        }
        let addr = SocketAddr::new(config.host, config.port);
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| StartError::Bind { addr, source })?;
        let local = listener
            .local_addr()
            .map_err(|source| StartError::Bind { addr, source })?;
        let port = local.port();
        let base_url = config
            .base_url
            .clone()
            .unwrap_or_else(|| format!("http://localhost:{port}"));
        #[cfg(feature = "sandbox")]
        let (payments, sandbox) = match config.stripe_secret_key {
            Some(_) => (stripe_payments(&config)?, None),
            None => {
                let ledger = crate::store::ledger::id(&db)
                    .await
                    .map_err(StartError::Ledger)?;
                let key = sandbox_secret_key(&db)
                    .await
                    .map_err(StartError::ServerKeys)?;
                let (payments, sandbox) = sandbox_payments(&config, &base_url, local, ledger, key)?;
                (payments, Some(sandbox))
            }
        };
        #[cfg(not(feature = "sandbox"))]
        let payments = stripe_payments(&config)?;
        let client_ip = web::rate_limit::ClientIp {
            trusted_proxies: config.trusted_proxies,
        };
        let checkout_limiter =
            web::rate_limit::ClientLimiter::new(config.checkout_rate_per_minute, client_ip);
        let sign_in_limiter = web::rate_limit::SignInLimiter::new(client_ip);
        let staff_sign_in_limiter =
            web::rate_limit::ClientLimiter::new(STAFF_SIGN_INS_PER_MINUTE, client_ip);
        let form_key = web::csrf::FormKey::load(&db, dates::now())
            .await
            .map_err(StartError::ServerKeys)?
            .for_site(&base_url);
        let links = LinkKey::load(&db, dates::now())
            .await
            .map_err(StartError::ServerKeys)?;
        let mailer = Mailer::from_config(&config)?;
        let state = AppState {
            links,
            applier: Applier::new(db.clone()),
            form_key,
            checkout_limiter,
            sign_in_limiter,
            staff_sign_in_limiter,
            db,
            page_cache: Arc::new(PageCache::new(Duration::from_secs(
                config.page_cache_seconds,
            ))),
            form_readings: Arc::new(FormReadings::new(Duration::from_secs(
                config.page_cache_seconds,
            ))),
            funnel: Arc::default(),
            identity: Arc::default(),
            readiness: Arc::default(),
            config: Arc::new(config),
            base_url: base_url.into(),
            payments,
            #[cfg(feature = "sandbox")]
            sandbox,
        };
        let router = web::router(state.clone())
            .await
            .map_err(StartError::Sessions)?;
        state.funnel.clone().keep_flushing(state.db.clone());
        // The first pages show the organisation's logo and status; they are read again later.
        if let Err(error) = state.identity.refresh(&state.db).await {
            tracing::warn!(%error, "organisation identity not read");
        }
        let jobs = state.config.jobs_worker.then(|| JobContext {
            db: state.db.clone(),
            config: state.config.clone(),
            base_url: state.base_url.clone(),
            mailer,
            links: state.links.clone(),
            payments: state.payments.clone(),
        });
        Ok(Application {
            listener,
            port,
            state,
            router,
            jobs,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn base_url(&self) -> &str {
        &self.state.base_url
    }

    pub fn db(&self) -> &Db {
        &self.state.db
    }

    /// Every path template the router serves (the sandbox's own routes excepted: it lists
    /// them itself), so that a test can reach them all.
    pub fn route_paths(&self) -> Vec<String> {
        web::route_paths(&self.router)
    }

    /// The Stripe sandbox, in demonstration mode.
    #[cfg(feature = "sandbox")]
    pub fn sandbox(&self) -> Option<&stripe_sandbox::Sandbox> {
        self.state.sandbox.as_ref()
    }

    /// Serves (and runs the job worker) until `shutdown` completes; then, for
    /// `SHUTDOWN_DRAIN_SECONDS`, answers `/readyz` 503 while it goes on serving (a load
    /// balancer takes it out of rotation), and stops taking connections and lets in-flight
    /// requests and jobs finish.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let db = self.state.db.clone();
        let readiness = self.state.readiness.clone();
        let (stop_worker, stopped) = watch::channel(false);
        let worker = self.jobs.map(|ctx| {
            let alive = readiness.worker_alive();
            tokio::spawn(async move {
                let _alive = alive;
                Worker::new(ctx).run(stopped).await;
            })
        });
        let drain = Duration::from_secs(self.state.config.shutdown_drain_seconds);
        let drained = async move {
            shutdown.await;
            readiness.start_draining();
            if !drain.is_zero() {
                tracing::info!(
                    seconds = drain.as_secs(),
                    "draining: /readyz fails, still serving"
                );
                // A second Ctrl-C or SIGTERM cuts the wait short.
                tokio::select! {
                    () = tokio::time::sleep(drain) => {}
                    () = shutdown_signal() => {}
                }
            }
        };
        let limits = self.state.config.http;
        web::serve::serve(self.listener, self.router, limits, drained).await;
        let _ = stop_worker.send(true);
        if let Some(worker) = worker {
            let _ = worker.await;
        }
        db.close().await;
        Ok(())
    }
}

/// `obole worker`: runs jobs, and nothing else, until `shutdown` completes.
pub async fn run_worker(
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StartError> {
    crate::telemetry::measures::handle();
    let db = open_database(&config.database_url).await?;
    let mailer = Mailer::from_config(&config)?;
    let base_url = config
        .base_url
        .clone()
        .unwrap_or_else(|| format!("http://localhost:{}", config.port));
    let links = LinkKey::load(&db, dates::now())
        .await
        .map_err(StartError::ServerKeys)?;
    let payments = payments_beside_serve(&config, &db).await?;
    let ctx = JobContext {
        db: db.clone(),
        config: Arc::new(config),
        base_url: base_url.into(),
        mailer,
        links,
        payments,
    };
    let (stop, stopped) = watch::channel(false);
    let worker = tokio::spawn(Worker::new(ctx).run(stopped));
    shutdown.await;
    let _ = stop.send(true);
    let _ = worker.await;
    db.close().await;
    Ok(())
}

/// Stripe for the commands and workers that run beside `obole serve`: real Stripe with the
/// configured keys; in demonstration mode, the sandbox the `serve` instance on `PORT` of
/// this machine holds (it lives in that process).
pub async fn payments_beside_serve(config: &Config, db: &Db) -> Result<Payments, StartError> {
    if !config.demo_mode() {
        return stripe_payments(config);
    }
    sandbox_beside_serve(config, db).await
}

#[cfg(not(feature = "sandbox"))]
async fn sandbox_beside_serve(_: &Config, _: &Db) -> Result<Payments, StartError> {
    Err(StartError::DemoModeUnavailable)
}

/// The sandbox's API, on `PORT` of this machine, with the key it accepts.
#[cfg(feature = "sandbox")]
async fn sandbox_beside_serve(config: &Config, db: &Db) -> Result<Payments, StartError> {
    let key = sandbox_secret_key(db)
        .await
        .map_err(StartError::ServerKeys)?;
    let host = if config.host.is_unspecified() {
        [127, 0, 0, 1].into()
    } else {
        config.host
    };
    let api_base = config.stripe_api_base.clone().unwrap_or_else(|| {
        format!(
            "http://{}/sandbox/stripe/",
            SocketAddr::new(host, config.port)
        )
    });
    // Nothing is verified with it here: these never receive webhooks.
    let unused = secrecy::SecretString::from("whsec_unused");
    Ok(Payments::new(&key, Some(&api_base), unused)?)
}

/// Real Stripe, with the keys of the configuration.
fn stripe_payments(config: &Config) -> Result<Payments, StartError> {
    let key = config
        .stripe_secret_key
        .as_ref()
        .ok_or(StartError::DemoModeUnavailable)?;
    let secret = config
        .stripe_webhook_secret
        .clone()
        .ok_or(StartError::MissingWebhookSecret)?;
    Ok(
        Payments::new(key, config.stripe_api_base.as_deref(), secret)?
            .accepting_previous_secret(config.stripe_webhook_secret_previous.clone()),
    )
}

/// Demonstration mode: the sandbox, mounted in this server and reached over HTTP through the
/// same client as real Stripe. Its state is kept under `DATA_DIR`, so gifts outlive restarts,
/// and bound to the database's `ledger` id, so a new database never inherits the
/// subscriptions of another (whose metadata name another ledger's pledges).
#[cfg(feature = "sandbox")]
fn sandbox_payments(
    config: &Config,
    base_url: &str,
    local: SocketAddr,
    ledger: String,
    key: secrecy::SecretString,
) -> Result<(Payments, stripe_sandbox::Sandbox), StartError> {
    // Obole calls itself (the sandbox, its webhooks) on loopback, whatever BASE_URL says.
    let internal_ip = if local.ip().is_unspecified() {
        [127, 0, 0, 1].into()
    } else {
        local.ip()
    };
    let internal_url = format!("http://{}", SocketAddr::new(internal_ip, local.port()));
    let secret = config.stripe_webhook_secret.clone().unwrap_or_else(|| {
        secrecy::SecretString::from(format!("whsec_demo_{}", uuid::Uuid::new_v4().simple()))
    });
    let sandbox = stripe_sandbox::Sandbox::new(stripe_sandbox::SandboxConfig {
        public_url: format!("{base_url}/sandbox"),
        webhook_url: format!("{internal_url}/webhooks/stripe"),
        webhook_secret: secrecy::ExposeSecret::expose_secret(&secret).to_owned(),
        secret_key: secrecy::ExposeSecret::expose_secret(&key).to_owned(),
        state_file: Some(config.data_dir.join(SANDBOX_STATE_FILE)),
        owner: Some(ledger),
    })?;
    let api_base = config
        .stripe_api_base
        .clone()
        .unwrap_or_else(|| format!("{internal_url}/sandbox/stripe/"));
    let payments = Payments::new(&key, Some(&api_base), secret)?
        .accepting_previous_secret(config.stripe_webhook_secret_previous.clone());
    Ok((payments, sandbox))
}

/// The secret key Obole calls its sandbox with, the only one the sandbox accepts: random,
/// made at the first start and kept with the server's other keys (so that another process
/// on this database can call it too). The sandbox is mounted on the public site, and its
/// API hands out donors' emails and addresses: a key anyone could guess would open it.
#[cfg(feature = "sandbox")]
async fn sandbox_secret_key(db: &Db) -> sqlx::Result<secrecy::SecretString> {
    let secret = crate::store::server_keys::load_or_create(db, "sandbox_api", dates::now()).await?;
    Ok(format!("sk_test_{}", String::from_utf8_lossy(&secret)).into())
}

/// The demonstration content, into a database that has no project yet (under the start-up
/// lock: instances started together seed it once).
async fn seed_empty_database(db: &Db, config: &Config) -> Result<(), StartError> {
    let projects: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM projects")
        .fetch_one(db.pool())
        .await
        .map_err(StartError::Seed)?;
    if projects == 0 {
        let report = seed::seed_demo(db).await.map_err(StartError::Seed)?;
        tracing::info!(
            projects = report.projects_created.len(),
            donations = report.donations_created,
            "demo content seeded"
        );
    }
    seed::seed_demo_organisation(db, &config.data_dir)
        .await
        .map_err(|e| StartError::Seed(sqlx::Error::Protocol(e.to_string())))
}

/// Connects and runs the migrations (under the start-up lock: one instance at a time), with
/// errors that name the (masked) URL.
pub async fn open_database(url: &str) -> Result<Db, DbError> {
    let db = Db::connect(url).await?;
    let failed = |source| DbError::Migrate {
        url: mask_password(url),
        source,
    };
    let lock = db
        .lock_setup()
        .await
        .map_err(|e| failed(sqlx::migrate::MigrateError::Execute(e)))?;
    let migrated = db.migrate().await;
    lock.release().await;
    migrated.map_err(failed)?;
    Ok(db)
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}

/// Staff sign-in attempts per client address and minute, whatever the account (each account
/// also locks after repeated failures: `domain::staff::LOCK_AFTER`).
const STAFF_SIGN_INS_PER_MINUTE: u32 = 10;
