//! « Mon espace » of a supporter with 10 years of monthly gifts, at a small ledger and at
//! 1,000,000 donations, on SQLite and (when `TEST_POSTGRES_URL` is set) PostgreSQL: whatever
//! `GET /mon-espace` renders, timed over real HTTP beside `GET /healthz` in the same run.
//!
//! Two supporters, ten years each: one monthly gift, and a monthly gift cancelled and taken
//! up again. Each signs in as a person does (the form, the emailed link read from the
//! outbox, the click that opens it); then views of the dashboard's first page, its second
//! and its last are timed from one keep-alive client (latency: an upper bound of the
//! server's time, loopback included), then from several (throughput). The SQL statements a
//! view runs are listed with their time, and at 1M their plans (`EXPLAIN QUERY PLAN`;
//! PostgreSQL's generic plan, the one its prepared statements settle on).
//!
//! Run: `cargo bench --bench space` (release build). `BENCH_SECONDS` (default 5, per page
//! and mode), `BENCH_CONCURRENCY` (default 4), `BENCH_BACKENDS` (default `sqlite,postgres`),
//! `BENCH_LEDGERS` (default `small,1m`), `BENCH_PLANS=0` (no plans), `BENCH_KEEP=1` (keep
//! the databases and print where they are, to read plans by hand).

#[path = "support/ledger_1m.rs"]
mod ledger_1m;
// Shared by the benches: this one does not read pages' bodies (`Client::get`).
#[allow(dead_code)]
#[path = "support/page_views.rs"]
mod page_views;
#[path = "support/plans.rs"]
mod plans;
#[path = "support/scratch_postgres.rs"]
mod scratch_postgres;
#[path = "support/sql_capture.rs"]
mod sql_capture;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use obole::Application;
use obole::config::Config;
use obole::db::{Backend, Db};
use obole::domain::dates::{self, DAY};
use obole::jobs::JobContext;
use obole::jobs::email::{Mailer, read_outbox};
use obole::jobs::worker::Worker;
use obole::links::LinkKey;
use obole::startup::payments_beside_serve;
use obole::store::counters;
use page_views::{Client, Load, views};
use reqwest::cookie::CookieStore;
use scratch_postgres::ScratchPostgres;

/// The campaign of the monthly gifts, and the one given to once a year.
const MONTHLY_CAMPAIGN: &str = "le-sport-pour-grandir";
const YEARLY_CAMPAIGN: &str = "parlement-des-femmes-kara";
/// A twelfth of a year.
const MONTH: i64 = 2_629_800;
/// Views of each dashboard page whose statements are listed.
const CAPTURED_VIEWS: usize = 20;

/// A supporter with ten years of monthly gifts.
struct Supporter {
    /// What the tables call her.
    name: &'static str,
    email: &'static str,
    first_name: &'static str,
    last_name: &'static str,
    /// The instalment from which her monthly gift is a new one, taken up again after she
    /// cancelled the first (« Reprendre ce don »), if she did.
    taken_up_again_at: Option<i64>,
}

/// The supporter of the target, and one whose gift was cancelled and taken up again: the
/// dashboard then also looks for the gift that took each one up.
const SUPPORTERS: [Supporter; 2] = [
    Supporter {
        name: "one gift",
        email: "solange.dixans@example.org",
        first_name: "Solange",
        last_name: "Dixans",
        taken_up_again_at: None,
    },
    Supporter {
        name: "gift taken up again",
        email: "bastien.reprise@example.org",
        first_name: "Bastien",
        last_name: "Reprise",
        taken_up_again_at: Some(48),
    },
];

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn env_list(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

#[derive(Clone, Copy, PartialEq)]
enum Ledger {
    /// The demo ledger and the supporters' gifts.
    Small,
    /// The 1M seed, 260 of whose donations, spread over the table, become theirs.
    Million,
}

impl Ledger {
    fn name(self) -> &'static str {
        match self {
            Ledger::Small => "small",
            Ledger::Million => "1M",
        }
    }
}

struct Settings {
    duration: Duration,
    clients: usize,
    plans: bool,
    keep: bool,
}

#[tokio::main]
async fn main() {
    sql_capture::install();
    let settings = Settings {
        duration: Duration::from_secs(env_number("BENCH_SECONDS", 5) as u64),
        clients: env_number("BENCH_CONCURRENCY", 4).max(1),
        plans: std::env::var("BENCH_PLANS").map_or(true, |v| v != "0"),
        keep: std::env::var("BENCH_KEEP").is_ok_and(|v| v == "1"),
    };
    let backends = env_list("BENCH_BACKENDS", "sqlite,postgres");
    let ledgers: Vec<Ledger> = env_list("BENCH_LEDGERS", "small,1m")
        .split(',')
        .filter_map(|l| match l.trim().to_lowercase().as_str() {
            "small" => Some(Ledger::Small),
            "1m" => Some(Ledger::Million),
            _ => None,
        })
        .collect();
    println!(
        "« Mon espace » bench: 10 years of monthly gifts; {} s per page, 1 client then {}",
        settings.duration.as_secs(),
        settings.clients
    );

    let mut results = Vec::new();
    if backends.contains("sqlite") {
        for &ledger in &ledgers {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite://{}/space.db", dir.path().display());
            results.extend(run("SQLite", &url, ledger, &settings).await);
            if settings.keep {
                println!("kept: {url}");
                let _ = dir.keep();
            }
        }
    }
    match std::env::var("TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty() && backends.contains("postgres"))
    {
        Some(admin_url) => {
            for &ledger in &ledgers {
                let scratch = ScratchPostgres::create(&admin_url).await;
                results.extend(run("PostgreSQL", &scratch.url, ledger, &settings).await);
                if settings.keep {
                    println!("kept: {}", scratch.url);
                } else {
                    scratch.drop().await;
                }
            }
        }
        None => println!("PostgreSQL skipped: TEST_POSTGRES_URL is not set"),
    }
    print_results(&results, &settings);
}

/// One page timed: its figures from one client, then from several.
struct Measured {
    backend: &'static str,
    ledger: Ledger,
    /// The supporter whose dashboard it is; empty for `/healthz`.
    supporter: &'static str,
    path: String,
    alone: Load,
    together: Load,
}

async fn run(
    backend: &'static str,
    database_url: &str,
    ledger: Ledger,
    settings: &Settings,
) -> Vec<Measured> {
    if ledger == Ledger::Million {
        ledger_1m::seed(database_url).await;
    }
    let data_dir = tempfile::tempdir().expect("temp dir");
    let config = Config {
        data_dir: data_dir.path().to_owned(),
        // The sign-in emails are written by the bench (below); nothing else runs beside the
        // views.
        jobs_worker: false,
        seed_demo_content: ledger == Ledger::Small,
        ..Config::local(database_url)
    };
    let app = Application::build(config.clone())
        .await
        .expect("Obole starts");
    let address = format!("127.0.0.1:{}", app.port());
    let base = format!("http://{address}");
    let db = app.db().clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));

    ten_years_of_gifts(&db, ledger).await;
    let donations: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM donations")
        .fetch_one(db.pool())
        .await
        .expect("donations");
    println!("{backend} {}: {donations} donations", ledger.name());

    let mut dashboards = Vec::new();
    for (n, supporter) in SUPPORTERS.iter().enumerate() {
        let (client, cookie) = signed_in(&base, &db, &config, supporter).await;
        let pages = dashboard_pages(&client, &base, supporter).await;
        // Warm: connections opened, statements prepared, pages in the cache.
        for path in &pages {
            views(&address, &cookie, path, 1, Duration::from_secs(1), 1).await;
        }
        let statements = statements_of(&address, &cookie, &pages).await;
        print_statements(backend, ledger, supporter, &statements);
        if settings.plans && ledger == Ledger::Million && n == 0 {
            print_plans(backend, database_url, &statements).await;
        }
        dashboards.push((supporter.name, cookie, pages));
    }

    let mut measured = Vec::new();
    let cookie = dashboards[0].1.clone();
    let healthz = ("", cookie, vec!["/healthz".to_owned()]);
    for (supporter, cookie, pages) in std::iter::once(&healthz).chain(&dashboards) {
        for path in pages {
            let alone = views(&address, cookie, path, 1, settings.duration, 1).await;
            let together = views(
                &address,
                cookie,
                path,
                settings.clients,
                settings.duration,
                1,
            )
            .await;
            println!(
                "{backend} {} {supporter} {path}: 1 client {}; {} clients {}",
                ledger.name(),
                alone.describe(),
                settings.clients,
                together.describe()
            );
            measured.push(Measured {
                backend,
                ledger,
                supporter,
                path: path.clone(),
                alone,
                together,
            });
        }
    }
    // Stopped, so that the next run has the cores to itself.
    let _ = stop.send(());
    let _ = tokio::time::timeout(Duration::from_secs(10), server).await;
    db.close().await;
    measured
}

/// One donation of a supporter's history.
struct Gift {
    campaign: i64,
    /// The recurring gift and the pledge an instalment belongs to.
    recurring: Option<(i64, i64)>,
    amount_cents: i64,
    refunded_cents: i64,
    status: &'static str,
    donated_at: i64,
}

/// Each supporter's ten years: a monthly gift (120 instalments, 15 € then 25 €, one
/// refunded, one refunded in part) to one campaign, and 100 € every year to another: 130
/// donations, 7 pages of 20. In the small ledger they are new rows; at 1M they are 260 of
/// the seed's donations, spread evenly over the table and given to them, so that their rows
/// lie where ten years of other people's gifts put them (PostgreSQL's table is then
/// rewritten in id order, as an update moves a row to its end).
async fn ten_years_of_gifts(db: &Db, ledger: Ledger) {
    let started = Instant::now();
    let seeded = match ledger {
        Ledger::Small => 0,
        Ledger::Million => sqlx::query_scalar::<_, i64>("SELECT MAX(id) FROM donations")
            .fetch_one(db.pool())
            .await
            .expect("donations"),
    };
    for (n, supporter) in SUPPORTERS.iter().enumerate() {
        // Hers are every other one of the seed's rows taken: 1 + (k × 2 + n) × spacing.
        let adopted = (seeded > 0).then(|| {
            let spacing = seeded / (130 * SUPPORTERS.len() as i64);
            move |k: usize| 1 + (k * SUPPORTERS.len() + n) as i64 * spacing
        });
        give(db, supporter, n, adopted).await;
    }
    if seeded > 0 && db.backend() == Backend::Postgres {
        // Then vacuumed and analysed, as the seed left it.
        for statement in [
            "CLUSTER donations USING donations_pkey",
            "VACUUM ANALYZE donations",
        ] {
            sqlx::raw_sql(statement)
                .execute(db.pool())
                .await
                .expect(statement);
        }
    }
    counters::recount(db).await.expect("recount");
    println!(
        "their donations in place in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// One supporter's ten years; with `adopted`, the id of the seeded row that becomes her
/// `k`-th donation, oldest first.
async fn give(db: &Db, supporter: &Supporter, n: usize, adopted: Option<impl Fn(usize) -> i64>) {
    let now = dates::now();
    let campaign = |slug: &'static str| async move {
        sqlx::query_scalar::<_, i64>("SELECT id FROM campaigns WHERE slug = $1")
            .bind(slug)
            .fetch_one(db.pool())
            .await
            .expect("campaign")
    };
    let (monthly, yearly) = (
        campaign(MONTHLY_CAMPAIGN).await,
        campaign(YEARLY_CAMPAIGN).await,
    );
    let first = now - 7 * DAY - 119 * MONTH;

    let mut tx = db.begin_write().await.expect("transaction");
    let supporter_id: i64 = sqlx::query_scalar(
        "INSERT INTO supporters (email, first_name, last_name, address_line1, postal_code, city, \
             country, news_consent, stripe_customer_id, created_at, updated_at, identity_at) \
         VALUES ($1, $2, $3, '12 rue des Lilas', '69003', 'Lyon', 'FR', 1, $4, $5, $5, $5) \
         RETURNING id",
    )
    .bind(supporter.email)
    .bind(supporter.first_name)
    .bind(supporter.last_name)
    .bind(format!("cus_bench_space_{n}"))
    .bind(first)
    .fetch_one(&mut *tx)
    .await
    .expect("supporter");

    // Her monthly gift: one, or a first one cancelled and a second that takes it up again.
    let spans = match supporter.taken_up_again_at {
        None => vec![(0, 120)],
        Some(month) => vec![(0, month), (month, 120)],
    };
    let mut gifts: Vec<(i64, i64, i64, i64)> = Vec::new();
    for (i, &(from, to)) in spans.iter().enumerate() {
        let running = i + 1 == spans.len();
        let taken_up = gifts.last().map(|&(_, _, gift, _)| gift);
        let pledge: i64 = sqlx::query_scalar(
            "INSERT INTO pledges (campaign_id, supporter_id, amount_cents, currency, frequency, \
                 email, first_name, last_name, address_line1, postal_code, city, country, \
                 news_consent, stripe_checkout_session_id, status, restarts_gift_id, created_at, \
                 updated_at) \
             VALUES ($1, $2, 1500, 'EUR', 'monthly', $3, $4, $5, '12 rue des Lilas', '69003', \
                 'Lyon', 'FR', 1, $6, 'completed', $7, $8, $8) RETURNING id",
        )
        .bind(monthly)
        .bind(supporter_id)
        .bind(supporter.email)
        .bind(supporter.first_name)
        .bind(supporter.last_name)
        .bind(format!("cs_bench_space_{n}_{i}"))
        .bind(taken_up)
        .bind(first + from * MONTH)
        .fetch_one(&mut *tx)
        .await
        .expect("pledge");
        let gift: i64 = sqlx::query_scalar(
            "INSERT INTO recurring_gifts (supporter_id, campaign_id, pledge_id, amount_cents, \
                 currency, frequency, status, stripe_subscription_id, cancel_at_period_end, \
                 current_period_end, canceled_at, created_at, updated_at, stripe_event_at, \
                 stripe_customer_id) \
             VALUES ($1, $2, $3, $4, 'EUR', 'monthly', $5, $6, 0, $7, $8, $9, $10, $10, $11) \
             RETURNING id",
        )
        .bind(supporter_id)
        .bind(monthly)
        .bind(pledge)
        .bind(if running { 2500 } else { 1500 })
        .bind(if running { "active" } else { "canceled" })
        .bind(format!("sub_bench_space_{n}_{i}"))
        .bind(running.then_some(now + 23 * DAY))
        .bind((!running).then_some(first + to * MONTH - 5 * DAY))
        .bind(first + from * MONTH)
        .bind(first + (to - 1) * MONTH)
        .bind(format!("cus_bench_space_{n}"))
        .fetch_one(&mut *tx)
        .await
        .expect("recurring gift");
        gifts.push((from, to, gift, pledge));
    }

    let mut donations: Vec<Gift> = (0..120)
        .map(|k| {
            let amount_cents = if k < 60 { 1500 } else { 2500 };
            let (status, refunded_cents) = match k {
                42 => ("refunded", amount_cents),
                97 => ("paid", 1000),
                _ => ("paid", 0),
            };
            let &(_, _, gift, pledge) = gifts
                .iter()
                .find(|&&(from, to, _, _)| (from..to).contains(&k))
                .expect("a gift for each month");
            Gift {
                campaign: monthly,
                recurring: Some((gift, pledge)),
                amount_cents,
                refunded_cents,
                status,
                donated_at: first + k * MONTH,
            }
        })
        .chain((0..10).map(|y| Gift {
            campaign: yearly,
            recurring: None,
            amount_cents: 10_000,
            refunded_cents: 0,
            status: "paid",
            donated_at: now - 20 * DAY - y * 12 * MONTH,
        }))
        .collect();
    donations.sort_by_key(|g| g.donated_at);

    for (k, g) in donations.iter().enumerate() {
        let (frequency, method) = match g.recurring {
            Some(_) => ("monthly", "sepa_debit"),
            None => ("once", "card"),
        };
        let query = if adopted.is_some() {
            sqlx::query(
                "UPDATE donations SET campaign_id = $1, supporter_id = $2, \
                     recurring_gift_id = $3, pledge_id = $4, amount_cents = $5, \
                     refunded_cents = $6, frequency = $7, payment_method = $8, status = $9, \
                     show_publicly = 0, public_name = NULL, dedication_kind = NULL, \
                     dedication_name = NULL, donated_at = $10, created_at = $10, \
                     updated_at = $10 \
                 WHERE id = $11",
            )
        } else {
            sqlx::query(
                "INSERT INTO donations (campaign_id, supporter_id, recurring_gift_id, pledge_id, \
                     amount_cents, refunded_cents, currency, frequency, payment_method, status, \
                     show_publicly, donated_at, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, 'EUR', $7, $8, $9, 0, $10, $10, $10)",
            )
        };
        let query = query
            .bind(g.campaign)
            .bind(supporter_id)
            .bind(g.recurring.map(|(gift, _)| gift))
            .bind(g.recurring.map(|(_, pledge)| pledge))
            .bind(g.amount_cents)
            .bind(g.refunded_cents)
            .bind(frequency)
            .bind(method)
            .bind(g.status)
            .bind(g.donated_at);
        let query = match &adopted {
            Some(id_of) => query.bind(id_of(k)),
            None => query,
        };
        let done = query.execute(&mut *tx).await.expect("donation");
        assert_eq!(done.rows_affected(), 1);
    }
    tx.commit().await.expect("commit");
}

/// A browser signed in as she does it: the form, the link from the email the worker wrote
/// to the outbox, the page that opens it and its button; and its cookies (the session's).
async fn signed_in(
    base: &str,
    db: &Db,
    config: &Config,
    supporter: &Supporter,
) -> (reqwest::Client, String) {
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let client = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let form = client
        .get(format!("{base}/mon-espace"))
        .send()
        .await
        .expect("sign-in form");
    let token = csrf(&form.text().await.expect("form"));
    let asked = client
        .post(format!("{base}/mon-espace/connexion"))
        .form(&[("csrf_token", token.as_str()), ("email", supporter.email)])
        .send()
        .await
        .expect("ask for a link");
    assert_eq!(asked.status(), 200, "link asked for");

    let link = emailed_link(db, config, base, supporter.email).await;
    let page = client
        .get(format!("{base}{link}"))
        .send()
        .await
        .expect("link page");
    assert_eq!(page.status(), 200, "the link's page");
    let token = csrf(&page.text().await.expect("page"));
    let opened = client
        .post(format!("{base}{link}"))
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .expect("open");
    assert_eq!(opened.status(), 303, "signed in");
    let cookies = jar
        .cookies(&base.parse().expect("URL"))
        .expect("cookies")
        .to_str()
        .expect("ASCII")
        .to_owned();
    assert!(cookies.contains("obole_session="), "{cookies}");
    (client, cookies)
}

fn csrf(html: &str) -> String {
    html.split("name=\"csrf_token\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a CSRF token")
        .to_owned()
}

/// The path of the sign-in link, from the email the job worker writes to the outbox.
async fn emailed_link(db: &Db, config: &Config, base: &str, to: &str) -> String {
    let worker = Worker::new(JobContext {
        db: db.clone(),
        config: Arc::new(config.clone()),
        base_url: base.into(),
        mailer: Mailer::from_config(config).expect("mailer"),
        links: LinkKey::load(db, 0).await.expect("key"),
        payments: payments_beside_serve(config, db).await.expect("payments"),
    });
    let outbox = config.data_dir.join("outbox");
    for _ in 0..100 {
        worker.run_due().await.expect("jobs");
        let emails = read_outbox(&outbox, 10).await.expect("outbox");
        if let Some(email) = emails.iter().find(|e| e.to == to) {
            let marker = "/mon-espace/connexion/";
            let at = email.text.find(marker).expect("a sign-in link");
            let token: String = email.text[at + marker.len()..]
                .chars()
                .take_while(char::is_ascii_hexdigit)
                .collect();
            return format!("{marker}{token}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no sign-in email in the outbox");
}

/// The dashboard's first page, its second and its last, checked to be hers.
async fn dashboard_pages(
    client: &reqwest::Client,
    base: &str,
    supporter: &Supporter,
) -> Vec<String> {
    let get = |path: String| async move {
        let response = client
            .get(format!("{base}{path}"))
            .send()
            .await
            .expect("dashboard");
        (response.status().as_u16(), response.text().await.unwrap())
    };
    let (status, first) = get("/mon-espace".to_owned()).await;
    assert_eq!(status, 200);
    assert!(
        first.contains(supporter.first_name),
        "her dashboard: {first}"
    );
    assert!(!first.contains("name=\"email\""), "not the sign-in form");
    println!(
        "{}: the first page is {} kB of HTML",
        supporter.name,
        first.len() / 1000
    );
    let mut last = 1;
    loop {
        let (status, _) = get(format!("/mon-espace?page={}", last + 1)).await;
        if status == 404 {
            break;
        }
        assert_eq!(status, 200);
        last += 1;
    }
    assert!(last >= 2, "more than a page of donations");
    vec![
        "/mon-espace".to_owned(),
        "/mon-espace?page=2".to_owned(),
        format!("/mon-espace?page={last}"),
    ]
}

/// One statement of a view: its text, how many times a view runs it, its mean time.
struct Run {
    sql: String,
    per_view: f64,
    mean_ms: f64,
}

/// The statements views of `paths` run, in the order first seen.
async fn statements_of(address: &str, cookie: &str, paths: &[String]) -> Vec<Run> {
    let mut client = Client::open(address, cookie).await;
    sql_capture::start();
    for path in paths {
        for _ in 0..CAPTURED_VIEWS {
            client.view(path).await;
        }
    }
    let captured = sql_capture::stop();
    let views = (paths.len() * CAPTURED_VIEWS) as f64;
    let mut order: Vec<String> = Vec::new();
    let mut totals: HashMap<String, (usize, f64)> = HashMap::new();
    for statement in captured {
        let total = totals.entry(statement.sql.clone()).or_insert_with(|| {
            order.push(statement.sql.clone());
            (0, 0.0)
        });
        total.0 += 1;
        total.1 += statement.seconds;
    }
    order
        .into_iter()
        .map(|sql| {
            let (count, seconds) = totals[&sql];
            Run {
                per_view: count as f64 / views,
                mean_ms: seconds * 1000.0 / count as f64,
                sql,
            }
        })
        .collect()
}

fn print_statements(backend: &str, ledger: Ledger, supporter: &Supporter, statements: &[Run]) {
    println!(
        "{backend} {}, {}: statements per dashboard view ({CAPTURED_VIEWS} views of each page; \
         mean time as sqlx measures it, round trip and waits for a core included):",
        ledger.name(),
        supporter.name
    );
    for run in statements {
        let shown: String = run.sql.chars().take(150).collect();
        println!("  {:>5.2} × {:>6.3} ms  {shown}", run.per_view, run.mean_ms);
    }
    let total: f64 = statements.iter().map(|r| r.per_view * r.mean_ms).sum();
    println!("  sum per view: {total:.3} ms");
}

/// Each statement's plan: SQLite's `EXPLAIN QUERY PLAN` (parameters unbound: its planner
/// does not look at their values without `sqlite_stat4`), PostgreSQL's generic plan.
async fn print_plans(backend: &str, database_url: &str, statements: &[Run]) {
    println!("{backend} 1M: plans of the dashboard's statements");
    for (n, run) in statements.iter().enumerate() {
        println!("[{}] {}", n + 1, run.sql);
        match plans::plan(database_url, &run.sql).await {
            Ok(lines) => lines.iter().for_each(|line| println!("    {line}")),
            Err(error) => println!("    (no plan: {error})"),
        }
    }
}

fn print_results(results: &[Measured], settings: &Settings) {
    let baseline = |m: &Measured| {
        results
            .iter()
            .find(|b| b.backend == m.backend && b.ledger == m.ledger && b.path == "/healthz")
    };
    let small = |m: &Measured| {
        results.iter().find(|s| {
            s.backend == m.backend
                && s.ledger == Ledger::Small
                && s.supporter == m.supporter
                && s.path == m.path
        })
    };
    println!();
    println!(
        "| backend | ledger | supporter | page | p50 (ms) | p90 | p99 | max | views/s, 1 client | views/s, {} clients | p99, {} clients | p50 over /healthz's | p50 1M / small |",
        settings.clients, settings.clients
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for m in results {
        let over = baseline(m)
            .filter(|b| b.path != m.path)
            .map(|b| format!("+{:.2} ms", m.alone.p50 - b.alone.p50))
            .unwrap_or_default();
        let ratio = small(m)
            .filter(|_| m.ledger == Ledger::Million)
            .map(|s| format!("{:.2}", m.alone.p50 / s.alone.p50))
            .unwrap_or_default();
        println!(
            "| {} | {} | {} | `{}` | {:.2} | {:.2} | {:.2} | {:.2} | {:.0} | {:.0} | {:.2} | {over} | {ratio} |",
            m.backend,
            m.ledger.name(),
            m.supporter,
            m.path,
            m.alone.p50,
            m.alone.p90,
            m.alone.p99,
            m.alone.max,
            m.alone.per_second,
            m.together.per_second,
            m.together.p99,
        );
    }
}
