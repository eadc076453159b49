//! Test harness: spawn Obole on a fresh database, a cookie-keeping client, clean-up after.

use std::io::Write;
use std::path::Path;
use std::sync::Once;

use obole::Application;
use obole::config::Config;
use obole::db::Db;
use obole::sandbox::Sandbox;
use sqlx::Connection;
use sqlx::postgres::PgConnection;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs each named `async fn(Backend)` once per backend, as `name::sqlite` and `name::postgres`.
macro_rules! dual_backend_tests {
    ($($test:ident),* $(,)?) => {$(
        mod $test {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$test($crate::helpers::Backend::Sqlite).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if $crate::helpers::postgres_url().is_none() {
                    return;
                }
                super::$test($crate::helpers::Backend::Postgres).await
            }
        }
    )*};
}

static SKIP_NOTICE: Once = Once::new();

/// The admin URL of the PostgreSQL test server, or `None` (said once on stderr) when unset.
pub fn postgres_url() -> Option<String> {
    let url = std::env::var("TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.trim().is_empty());
    if url.is_none() {
        SKIP_NOTICE.call_once(|| {
            // Straight to stderr: the test harness captures `eprintln!` but not this.
            let _ = writeln!(
                std::io::stderr(),
                "\nPostgreSQL skipped: TEST_POSTGRES_URL is not set, so only the SQLite suite ran \
                 (set it, e.g. postgres://postgres@127.0.0.1:5432/postgres, to run both).\n"
            );
        });
    }
    url
}

/// What the test database starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Content {
    /// The demonstration projects, campaigns and donations.
    Demo,
    Empty,
}

/// A fresh database and a data directory of its own (the sandbox keeps its state there),
/// both removed when dropped.
pub enum TestDatabase {
    Sqlite {
        url: String,
        /// Holds the database file too.
        dir: tempfile::TempDir,
    },
    Postgres {
        url: String,
        admin_url: String,
        name: String,
        dir: tempfile::TempDir,
    },
}

impl TestDatabase {
    pub async fn create(backend: Backend) -> TestDatabase {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}/obole.db", dir.path().display());
                TestDatabase::Sqlite { url, dir }
            }
            Backend::Postgres => {
                let admin_url = postgres_url().expect("TEST_POSTGRES_URL");
                let name = format!("obole_test_{}", uuid::Uuid::new_v4().simple());
                let mut admin = PgConnection::connect(&admin_url)
                    .await
                    .expect("connect to TEST_POSTGRES_URL");
                sqlx::query(&format!("CREATE DATABASE \"{name}\""))
                    .execute(&mut admin)
                    .await
                    .expect("create test database");
                let mut url = url::Url::parse(&admin_url).expect("TEST_POSTGRES_URL is a URL");
                url.set_path(&name);
                TestDatabase::Postgres {
                    url: url.to_string(),
                    admin_url,
                    name,
                    dir: tempfile::tempdir().expect("temp dir"),
                }
            }
        }
    }

    pub fn url(&self) -> &str {
        match self {
            TestDatabase::Sqlite { url, .. } | TestDatabase::Postgres { url, .. } => url,
        }
    }

    /// The test's `DATA_DIR`.
    pub fn data_dir(&self) -> &Path {
        match self {
            TestDatabase::Sqlite { dir, .. } | TestDatabase::Postgres { dir, .. } => dir.path(),
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let TestDatabase::Postgres {
            admin_url, name, ..
        } = self
        {
            let (admin_url, database) = (admin_url.clone(), name.clone());
            // Drop runs inside the test's runtime: drop the database from a thread of its own.
            let dropped = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?;
                runtime.block_on(async {
                    let mut admin = PgConnection::connect(&admin_url)
                        .await
                        .map_err(std::io::Error::other)?;
                    sqlx::query(&format!(
                        "DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)"
                    ))
                    .execute(&mut admin)
                    .await
                    .map_err(std::io::Error::other)?;
                    Ok::<(), std::io::Error>(())
                })
            })
            .join();
            if !matches!(dropped, Ok(Ok(()))) {
                let _ = writeln!(
                    std::io::stderr(),
                    "warning: could not drop test database {name}"
                );
            }
        }
    }
}

pub struct TestApp {
    /// `http://127.0.0.1:{port}`
    pub address: String,
    pub client: reqwest::Client,
    pub db: Db,
    /// The Stripe sandbox Obole pays through (tests run in demonstration mode).
    pub sandbox: Option<Sandbox>,
    /// Every path template Obole's router serves (`Application::route_paths`).
    pub routes: Vec<String>,
    server: Server,
    /// What it was started with, to start it again (`restart`).
    config: Config,
    // Last, so they are dropped after the server stopped.
    _database: TestDatabase,
    /// Those `restart_on` replaced.
    earlier_databases: Vec<TestDatabase>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.task.abort();
    }
}

/// Obole serving in a task, and what asks it to stop.
struct Server {
    task: tokio::task::JoinHandle<()>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

/// Posts `payload` to the webhook endpoint at `address`, signed with `secret` as it leaves,
/// as Stripe does: the answer's status.
pub async fn post_signed(
    client: &reqwest::Client,
    address: &str,
    payload: &str,
    secret: &str,
) -> reqwest::Result<reqwest::StatusCode> {
    let signature = stripe_webhook::Webhook::generate_test_header(
        payload,
        secret,
        Some(obole::domain::dates::now()),
    );
    let response = client
        .post(format!("{address}/webhooks/stripe"))
        .header("content-type", "application/json")
        .header("stripe-signature", signature)
        .body(payload.to_owned())
        .send()
        .await?;
    Ok(response.status())
}

/// The CSRF token a page's form carries.
pub fn form_token(html: &str) -> String {
    html.split("name=\"csrf_token\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the form carries a CSRF token")
        .to_owned()
}

/// The configuration a test starts from: demo mode, port 0, the given database.
pub fn test_config(database_url: &str, content: Content) -> Config {
    Config {
        // High enough for any test but the one about the limit.
        checkout_rate_per_minute: 1_000,
        seed_demo_content: content == Content::Demo,
        ..Config::local(database_url)
    }
}

pub async fn spawn_app(backend: Backend, content: Content) -> TestApp {
    let database = TestDatabase::create(backend).await;
    let config = test_config(database.url(), content);
    spawn_with(database, config).await
}

/// Starts Obole with a configuration the test adjusted. Its `DATA_DIR` is always the test
/// database's own directory, so no two tests share the sandbox's state file.
pub async fn spawn_with(database: TestDatabase, mut config: Config) -> TestApp {
    if std::env::var_os("TEST_LOG").is_some() {
        obole::telemetry::init();
    }
    config.data_dir = database.data_dir().to_owned();
    let (address, db, sandbox, server, routes) = start(config.clone()).await;
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("HTTP client");
    TestApp {
        address,
        client,
        db,
        sandbox,
        routes,
        server,
        config,
        _database: database,
        earlier_databases: Vec::new(),
    }
}

/// Builds Obole and serves it in a task: its address, database, sandbox and server.
async fn start(config: Config) -> (String, Db, Option<Sandbox>, Server, Vec<String>) {
    let app = Application::build(config).await.expect("Obole starts");
    let routes = app.route_paths();
    let address = format!("http://127.0.0.1:{}", app.port());
    let db = app.db().clone();
    let sandbox = app.sandbox().cloned();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        app.run_until(async {
            let _ = stopped.await;
        })
        .await
        .expect("server runs");
    });
    let server = Server {
        task,
        stop: Some(stop),
    };
    (address, db, sandbox, server, routes)
}

impl TestApp {
    /// Stops Obole (its server, its sandbox, its connections) and starts a new instance on
    /// the same database and `DATA_DIR`, as an operator restarting it would. The new one
    /// listens on another port.
    pub async fn restart(&mut self) {
        self.stop().await;
        let (address, db, sandbox, server, _) = start(self.config.clone()).await;
        (self.address, self.db, self.sandbox, self.server) = (address, db, sandbox, server);
    }

    /// Stops Obole and starts it on `database`, another ledger, with the same `DATA_DIR`: an
    /// operator who deleted the SQLite file or changed `DATABASE_URL`.
    pub async fn restart_on(&mut self, database: TestDatabase) {
        self.stop().await;
        self.config.database_url = database.url().to_owned();
        let (address, db, sandbox, server, _) = start(self.config.clone()).await;
        (self.address, self.db, self.sandbox, self.server) = (address, db, sandbox, server);
        let earlier = std::mem::replace(&mut self._database, database);
        // Kept: it holds the `DATA_DIR` (and, on SQLite, the earlier ledger's file).
        self.earlier_databases.push(earlier);
    }

    /// Stopped as on SIGTERM: in-flight requests finish, connections close, the pool too,
    /// so nothing of the old instance (its sandbox above all) outlives it. The database and
    /// `DATA_DIR` stay until the `TestApp` is dropped (another process may take them over).
    pub async fn stop(&mut self) {
        if let Some(stop) = self.server.stop.take() {
            let _ = stop.send(());
        }
        tokio::time::timeout(std::time::Duration::from_secs(30), &mut self.server.task)
            .await
            .expect("Obole stops within 30 s")
            .expect("Obole stopped cleanly");
        self.sandbox = None;
    }

    /// The database this instance runs on.
    pub fn database_url(&self) -> &str {
        &self.config.database_url
    }

    /// Where Obole keeps its own files (the sandbox's state).
    pub fn data_dir(&self) -> &Path {
        &self.config.data_dir
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request sent")
    }

    /// GET a page that must answer 200, and return its HTML.
    pub async fn page(&self, path: &str) -> String {
        let response = self.get(path).await;
        assert_eq!(response.status(), 200, "GET {path}");
        response.text().await.expect("body")
    }
}

/// French formatting puts no-break spaces in amounts; tests compare with plain spaces.
pub fn plain(text: &str) -> String {
    text.replace(['\u{202F}', '\u{00A0}'], " ")
}

/// Test data written straight through the store, as the donation flow will.
pub mod fixtures {
    use obole::db::Db;
    use obole::domain::dates::{self, DAY};
    use obole::domain::donation::PaymentMethod;
    use obole::domain::email::Email;
    use obole::domain::frequency::Frequency;
    use obole::domain::identity::DonorIdentity;
    use obole::domain::money::{Currency, Money};
    use obole::store::campaigns::{self, NewCampaign};
    use obole::store::donations::{self, NewDonation};
    use obole::store::projects::{self, NewProject};
    use obole::store::supporters;

    pub async fn campaign_id(db: &Db, slug: &str) -> i64 {
        sqlx::query_scalar("SELECT id FROM campaigns WHERE slug = $1")
            .bind(slug)
            .fetch_one(db.pool())
            .await
            .expect("campaign exists")
    }

    /// A project with no campaign, for tests on an empty database.
    pub async fn insert_project(db: &Db, slug: &str, name: &str) -> i64 {
        let project = NewProject {
            slug,
            name,
            full_name: name,
            tagline: "Accroche",
            description: "Description",
            location: "Lomé",
            cover_image: "/static/img/peps.svg",
            impact_unit: Some((10_000, "enfants aidés")),
        };
        let mut conn = db.pool().acquire().await.expect("connection");
        projects::insert(&mut conn, &project, dates::now())
            .await
            .expect("insert project")
    }

    /// A campaign with its counters row; `ends_in_days` may be negative (already over).
    pub async fn insert_campaign(
        db: &Db,
        project_id: i64,
        slug: &str,
        status: &str,
        goal_cents: i64,
        ends_in_days: i64,
    ) -> i64 {
        let now = dates::now();
        let title = format!("Campagne {slug}");
        let campaign = NewCampaign {
            project_id,
            slug,
            title: &title,
            summary: "Résumé de la campagne",
            story: "Première partie.\n\nSeconde partie.",
            cover_image: "/static/img/peps.svg",
            goal_cents,
            currency: Currency::EUR,
            starts_at: now - 10 * DAY,
            ends_at: Some(now + ends_in_days * DAY),
            status: status.parse().expect("a campaign status"),
        };
        let mut tx = db.begin_write().await.expect("begin");
        let id = campaigns::insert(&mut tx, &campaign, now)
            .await
            .expect("insert campaign");
        tx.commit().await.expect("commit");
        id
    }

    /// A gift as the payment flow records it.
    pub struct Gift<'a> {
        pub campaign_id: i64,
        pub email: &'a str,
        pub first_name: &'a str,
        pub last_name: &'a str,
        pub amount_cents: i64,
        pub show_publicly: bool,
    }

    pub async fn give(db: &Db, gift: Gift<'_>) -> i64 {
        let mut tx = db.begin_write().await.expect("begin");
        let id = give_in(&mut tx, db, &gift).await;
        tx.commit().await.expect("commit");
        id
    }

    pub async fn give_in(conn: &mut sqlx::AnyConnection, db: &Db, gift: &Gift<'_>) -> i64 {
        let now = dates::now();
        let donor = DonorIdentity {
            email: Email::parse(gift.email).expect("a valid email"),
            first_name: gift.first_name.to_owned(),
            last_name: gift.last_name.to_owned(),
            address_line1: "1 rue de la Paix".to_owned(),
            address_line2: String::new(),
            postal_code: "75002".to_owned(),
            city: "Paris".to_owned(),
            country: "FR".to_owned(),
        };
        let supporter_id = supporters::upsert(conn, &donor, None, now, now)
            .await
            .expect("supporter");
        let donation = NewDonation {
            campaign_id: gift.campaign_id,
            supporter_id,
            pledge_id: None,
            recurring_gift_id: None,
            amount: Money::new(gift.amount_cents, Currency::EUR),
            frequency: Frequency::Once,
            payment_method: PaymentMethod::Card,
            show_publicly: gift.show_publicly,
            public_name: gift
                .show_publicly
                .then(|| supporters::public_name(gift.first_name, gift.last_name)),
            dedication_kind: None,
            dedication_name: None,
            stripe_checkout_session_id: None,
            stripe_payment_intent_id: None,
            stripe_invoice_id: None,
            donated_at: now,
        };
        donations::insert_paid(conn, db.backend(), &donation, now)
            .await
            .expect("donation")
    }
}

/// The donor's side of a gift: the form, Stripe Checkout (the sandbox's hosted page), the
/// webhooks that follow.
impl TestApp {
    pub fn sandbox(&self) -> &Sandbox {
        self.sandbox
            .as_ref()
            .expect("tests run in demonstration mode, with the sandbox")
    }

    /// The donation form's HTML and its CSRF token.
    pub async fn donation_form(&self, slug: &str, query: &str) -> (String, String) {
        let html = self.page(&format!("/campagnes/{slug}/don{query}")).await;
        let token = form_token(&html);
        (html, token)
    }

    /// Posts the donation form with a valid CSRF token; `fields` override a complete gift
    /// of 30 € from Marie Dupont.
    pub async fn submit_gift(&self, slug: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let (_, token) = self.donation_form(slug, "").await;
        let mut form: Vec<(String, String)> = [
            ("csrf_token", token.as_str()),
            ("frequency", "once"),
            ("amount", "3000"),
            ("other_amount", ""),
            ("first_name", "Marie"),
            ("last_name", "Dupont"),
            ("email", "marie.dupont@example.org"),
            ("address_line1", "3 rue des Lilas"),
            ("address_line2", ""),
            ("postal_code", "69003"),
            ("city", "Lyon"),
            ("country", "FR"),
            ("dedication_kind", ""),
            ("dedication_name", ""),
            ("show_publicly", "on"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        for (key, value) in fields {
            form.retain(|(k, _)| k != key);
            form.push((key.to_string(), value.to_string()));
        }
        self.client
            .post(self.url(&format!("/campagnes/{slug}/don")))
            .form(&form)
            .send()
            .await
            .expect("form posted")
    }

    /// Submits the form and pays on the sandbox's checkout page with `outcome` (`card`,
    /// `card_declined`, `card_renewal_fails`, `sepa`, `sepa_fails`); returns the Checkout
    /// Session id and the response of the payment page.
    pub async fn give(
        &self,
        slug: &str,
        fields: &[(&str, &str)],
        outcome: &str,
    ) -> (String, reqwest::Response) {
        let submitted = self.submit_gift(slug, fields).await;
        assert_eq!(submitted.status(), 303, "the form redirects to Checkout");
        let checkout_url = submitted.headers()["location"].to_str().unwrap().to_owned();
        let session_id = checkout_url.rsplit('/').next().unwrap().to_owned();
        assert!(session_id.starts_with("cs_"), "{checkout_url}");
        let page = self.client.get(&checkout_url).send().await.unwrap();
        assert_eq!(page.status(), 200, "the hosted checkout page opens");
        let paid = self
            .client
            .post(&checkout_url)
            .form(&[("outcome", outcome)])
            .send()
            .await
            .expect("payment posted");
        (session_id, paid)
    }

    /// Waits until the sandbox has delivered every webhook it queued.
    pub async fn settle_webhooks(&self) {
        tokio::time::timeout(
            std::time::Duration::from_secs(30),
            self.sandbox().wait_for_deliveries(),
        )
        .await
        .expect("webhooks delivered within 30 s");
    }

    /// Delivers an event by hand, signed as Stripe does; returns the HTTP status.
    pub async fn deliver(&self, event: &serde_json::Value) -> u16 {
        let payload = event.to_string();
        let signature = self.sandbox().sign(&payload, obole::domain::dates::now());
        self.client
            .post(self.url("/webhooks/stripe"))
            .header("content-type", "application/json")
            .header("stripe-signature", signature)
            .body(payload)
            .send()
            .await
            .expect("webhook posted")
            .status()
            .as_u16()
    }

    /// (status, amount, refunded) of the donations of the supporter with `email`, oldest first.
    pub async fn donations_of(&self, email: &str) -> Vec<(String, i64, i64)> {
        sqlx::query_as(
            "SELECT d.status, d.amount_cents, d.refunded_cents FROM donations d \
             JOIN supporters s ON s.id = d.supporter_id WHERE s.email = $1 ORDER BY d.id",
        )
        .bind(email)
        .fetch_all(self.db.pool())
        .await
        .unwrap()
    }

    /// The PaymentIntent that paid `invoice`, as Stripe tells it (`GET /v1/invoice_payments`).
    pub async fn payment_intent_of_invoice(&self, invoice: &str) -> String {
        let payments: serde_json::Value = self
            .client
            .get(self.url(&format!(
                "/sandbox/stripe/v1/invoice_payments?invoice={invoice}"
            )))
            .bearer_auth(self.sandbox().secret_key())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        payments["data"][0]["payment"]["payment_intent"]
            .as_str()
            .expect("the invoice's payment")
            .to_owned()
    }

    /// Refunds through the sandbox's API, as the back-office will: all, or `amount` cents.
    pub async fn refund(&self, payment_intent: &str, amount: Option<i64>) {
        let mut form = vec![("payment_intent", payment_intent.to_owned())];
        if let Some(amount) = amount {
            form.push(("amount", amount.to_string()));
        }
        let response = self
            .client
            .post(self.url("/sandbox/stripe/v1/refunds"))
            .bearer_auth(self.sandbox().secret_key())
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    }

    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sql)
            .fetch_one(self.db.pool())
            .await
            .expect(sql)
    }
}
