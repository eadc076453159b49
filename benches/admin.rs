//! The back-office at a small ledger and at 1,000,000 donations, on SQLite and (when
//! `TEST_POSTGRES_URL` is set) PostgreSQL: the dashboard, the list of donations (its first
//! page, a page reached by following « Dons plus anciens » a hundred times, filtered by
//! campaign, by dates and by a search), the donors page, a donor's page and a donation's,
//! each timed over real HTTP beside `GET /healthz` in the same run; then the CSV export of
//! every donation, with the server's memory while it streams.
//!
//! A viewer (the least role that sees all of it) is created with `accounts::create_staff`
//! and signs in as a person does (the form's CSRF token, then the `obole_staff` cookie).
//! Views are timed from one keep-alive client asking for `gzip, br` as a browser does
//! (latency: an upper bound of the server's time, loopback included). The SQL statements
//! each page runs are listed with their time, and at 1M their plans (`EXPLAIN QUERY PLAN`;
//! PostgreSQL's generic plan, the one its prepared statements settle on).
//!
//! The export's memory is the server's own: the bench starts the real `obole serve` binary
//! on the same database and reads its `/proc/PID/status`. The bench process itself is no
//! honest measure, as it also holds the seeding's leftovers, the client and the in-process
//! server's caches. Before each export the peak (`VmHWM`) is reset to the current size
//! (`/proc/PID/clear_refs`), then `VmRSS` is read as 10 %, 25 %, 50 %, 75 % and 100 % of the
//! rows have arrived, and `VmHWM` at the end: memory that does not grow with the rows read
//! stays flat across the samples. The export is read twice: uncompressed (rows counted
//! and checked), then as a browser asks for it (`gzip, br`).
//!
//! Run: `cargo bench --bench admin` (release build). `BENCH_SECONDS` (default 5, per
//! page), `BENCH_BACKENDS` (default `sqlite,postgres`), `BENCH_LEDGERS` (default
//! `small,1m`), `BENCH_PLANS=0` (no plans), `BENCH_KEEP=1` (keep the databases and print
//! where they are, to read plans by hand).

#[path = "support/ledger_1m.rs"]
mod ledger_1m;
#[path = "support/page_views.rs"]
mod page_views;
#[path = "support/plans.rs"]
mod plans;
#[path = "support/scratch_postgres.rs"]
mod scratch_postgres;
#[path = "support/sql_capture.rs"]
mod sql_capture;

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::BodyExt;
use obole::Application;
use obole::accounts;
use obole::config::Config;
use obole::db::Db;
use obole::domain::dates::{self, DAY};
use obole::domain::email::Email;
use obole::domain::staff::Role;
use page_views::{Client, Load, views};
use reqwest::cookie::CookieStore;
use scratch_postgres::ScratchPostgres;

const STAFF_EMAIL: &str = "lecture.bench@example.org";
const STAFF_PASSWORD: &str = "une phrase de passe pour le banc d’essai";
/// Times « Dons plus anciens » is followed to reach a page deep in the list.
const FOLLOWED: usize = 100;
/// Views of each page whose statements are listed.
const CAPTURED_VIEWS: usize = 3;
/// Slow pages are still viewed this many times, however long it takes.
const AT_LEAST: usize = 5;

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
    /// The demo ledger.
    Small,
    /// The 1M seed.
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
    plans: bool,
    keep: bool,
}

/// What the issue asks of a page, in milliseconds at p50.
#[derive(Clone, Copy)]
enum Target {
    None,
    Dashboard,
    List,
}

impl Target {
    fn millis(self) -> Option<f64> {
        match self {
            Target::None => None,
            Target::Dashboard => Some(300.0),
            Target::List => Some(50.0),
        }
    }
}

/// One page to time: what it is (the same on each ledger), what it shows of this ledger,
/// its path, its target.
struct Page {
    key: &'static str,
    name: String,
    path: String,
    target: Target,
}

impl Page {
    fn new(key: &'static str, detail: &str, path: impl Into<String>, target: Target) -> Page {
        Page {
            key,
            name: if detail.is_empty() {
                key.to_owned()
            } else {
                format!("{key} ({detail})")
            },
            path: path.into(),
            target,
        }
    }
}

#[tokio::main]
async fn main() {
    sql_capture::install();
    let settings = Settings {
        duration: Duration::from_secs(env_number("BENCH_SECONDS", 5) as u64),
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
        "Back-office bench: {} s per page (at least {AT_LEAST} views), 1 client",
        settings.duration.as_secs(),
    );

    let mut results = Results::default();
    if backends.contains("sqlite") {
        for &ledger in &ledgers {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite://{}/admin.db", dir.path().display());
            run("SQLite", &url, ledger, &settings, &mut results).await;
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
                run("PostgreSQL", &scratch.url, ledger, &settings, &mut results).await;
                if settings.keep {
                    println!("kept: {}", scratch.url);
                } else {
                    scratch.drop().await;
                }
            }
        }
        None => println!("PostgreSQL skipped: TEST_POSTGRES_URL is not set"),
    }
    results.print();
}

/// One page timed.
struct Measured {
    backend: &'static str,
    ledger: Ledger,
    key: &'static str,
    page: String,
    path: String,
    target: Target,
    load: Load,
}

#[derive(Default)]
struct Results {
    pages: Vec<Measured>,
    exports: Vec<Export>,
}

async fn run(
    backend: &'static str,
    database_url: &str,
    ledger: Ledger,
    settings: &Settings,
    results: &mut Results,
) {
    if ledger == Ledger::Million {
        ledger_1m::seed(database_url).await;
    }
    let data_dir = tempfile::tempdir().expect("temp dir");
    let config = Config {
        data_dir: data_dir.path().to_owned(),
        jobs_worker: false,
        seed_demo_content: ledger == Ledger::Small,
        ..Config::local(database_url)
    };
    let app = Application::build(config).await.expect("Obole starts");
    let address = format!("127.0.0.1:{}", app.port());
    let base = format!("http://{address}");
    let db = app.db().clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));

    let donations: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM donations")
        .fetch_one(db.pool())
        .await
        .expect("donations");
    println!("{backend} {}: {donations} donations", ledger.name());
    accounts::create_staff(
        &db,
        &Email::parse(STAFF_EMAIL).expect("email"),
        Role::Viewer,
        STAFF_PASSWORD.to_owned(),
        None,
        dates::now(),
    )
    .await
    .expect("a viewer");
    let cookie = signed_in(&base).await;

    let pages = pages_of(&db, &address, &cookie).await;
    // Warm: connections opened, statements prepared.
    for page in &pages {
        views(&address, &cookie, &page.path, 1, Duration::ZERO, 1).await;
    }
    let mut statements = Vec::new();
    for page in &pages {
        let runs = statements_of(&address, &cookie, &page.path).await;
        print_statements(backend, ledger, page, &runs);
        statements.extend(runs.into_iter().map(|run| run.sql));
    }
    let export_sql = export_statement(&address, &cookie).await;
    println!("{backend} {}: the export runs {export_sql}", ledger.name());
    statements.push(export_sql);
    if settings.plans && ledger == Ledger::Million {
        print_plans(backend, database_url, statements).await;
    }

    for page in &pages {
        let load = views(
            &address,
            &cookie,
            &page.path,
            1,
            settings.duration,
            AT_LEAST,
        )
        .await;
        println!(
            "{backend} {} {} ({}): {}",
            ledger.name(),
            page.name,
            page.path,
            load.describe()
        );
        results.pages.push(Measured {
            backend,
            ledger,
            key: page.key,
            page: page.name.clone(),
            path: page.path.clone(),
            target: page.target,
            load,
        });
    }
    let rows: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM donations d JOIN supporters s ON s.id = d.supporter_id \
         JOIN campaigns c ON c.id = d.campaign_id",
    )
    .fetch_one(db.pool())
    .await
    .expect("rows");
    // Stopped, so that the export's server has the cores to itself.
    let _ = stop.send(());
    let _ = tokio::time::timeout(Duration::from_secs(10), server).await;
    db.close().await;
    results
        .exports
        .extend(export(backend, ledger, database_url, rows).await);
}

/// A browser signed in as the viewer: the form, its token, the password; the cookies it
/// then sends to the back-office.
async fn signed_in(base: &str) -> String {
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let client = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let form = client
        .get(format!("{base}/admin/connexion"))
        .send()
        .await
        .expect("sign-in form");
    assert_eq!(form.status(), 200, "the sign-in form");
    let token = csrf(&form.text().await.expect("form"));
    let signed_in = client
        .post(format!("{base}/admin/connexion"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("email", STAFF_EMAIL),
            ("password", STAFF_PASSWORD),
        ])
        .send()
        .await
        .expect("sign in");
    assert_eq!(signed_in.status(), 303, "signed in");
    assert_eq!(signed_in.headers()["location"], "/admin");
    // The back-office's cookie is only sent under /admin.
    let cookies = jar
        .cookies(&format!("{base}/admin/dons").parse().expect("URL"))
        .expect("cookies")
        .to_str()
        .expect("ASCII")
        .to_owned();
    assert!(cookies.contains("obole_staff="), "{cookies}");
    cookies
}

fn csrf(html: &str) -> String {
    html.split("name=\"csrf_token\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a CSRF token")
        .to_owned()
}

/// The « Dons plus anciens » link of a page of the list, if it has one.
fn next_link(html: &str) -> Option<String> {
    html.split("href=\"")
        .filter_map(|rest| rest.split('"').next())
        .find(|href| href.contains("apres="))
        .map(|href| href.replace("&#38;", "&").replace("&amp;", "&"))
}

/// `YYYY-MM-DD` of a time, as the list's date filters are typed.
fn day_of(at: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(at)
        .expect("a date")
        .date()
        .to_string()
}

/// The pages to time, found as the team would find them: the list's deep page by following
/// its link, the filters' values among the ledger's campaigns, donors and dates.
async fn pages_of(db: &Db, address: &str, cookie: &str) -> Vec<Page> {
    let pool = db.pool();
    let now = dates::now();
    // The campaign whose last gift is oldest: newest first, its rows are the furthest down
    // the list; and the one with the newest gifts.
    let by_last_gift: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT campaign_id, MAX(donated_at) AS last_at FROM donations GROUP BY campaign_id \
         ORDER BY last_at, campaign_id",
    )
    .fetch_all(pool)
    .await
    .expect("campaigns");
    let oldest = by_last_gift.first().expect("a campaign with gifts");
    let newest = by_last_gift.last().expect("a campaign with gifts");
    // The donor with the most gifts.
    let (donor, email): (i64, String) = sqlx::query_as(
        "SELECT s.id, s.email FROM supporters s WHERE s.id = \
             (SELECT supporter_id FROM donations GROUP BY supporter_id \
              ORDER BY COUNT(*) DESC, supporter_id LIMIT 1)",
    )
    .fetch_one(pool)
    .await
    .expect("a donor");
    let gifts: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM donations WHERE supporter_id = $1")
        .bind(donor)
        .fetch_one(pool)
        .await
        .expect("gifts");
    // A donation from the middle of the ledger.
    let donation: i64 = sqlx::query_scalar(
        "SELECT id FROM donations WHERE id >= (SELECT (MIN(id) + MAX(id)) / 2 FROM donations) \
         ORDER BY id LIMIT 1",
    )
    .fetch_one(pool)
    .await
    .expect("a donation");
    // A month two years ago.
    let (from, until) = (day_of(now - 760 * DAY), day_of(now - 731 * DAY));
    let search_common = "martin";
    let search_rare = email;

    let mut client = Client::open(address, cookie).await;
    // Following « Dons plus anciens »: each link as the page gives it.
    let started = Instant::now();
    let mut path = "/admin/dons".to_owned();
    let mut followed = 0;
    while followed < FOLLOWED {
        let (status, body, _) = client.get(&path).await;
        assert_eq!(status, 200, "{path}");
        match next_link(std::str::from_utf8(&body).expect("HTML")) {
            Some(next) => path = next,
            None => break,
        }
        followed += 1;
    }
    println!(
        "followed « Dons plus anciens » {followed} times in {:.0} ms",
        started.elapsed().as_secs_f64() * 1000.0
    );
    let deep = path;
    let range = format!("/admin/dons?du={from}&au={until}");
    let (_, body, _) = client.get(&range).await;
    let range_next = next_link(std::str::from_utf8(&body).expect("HTML"));

    let mut pages = vec![
        Page::new("/healthz", "", "/healthz", Target::None),
        Page::new("dashboard", "", "/admin", Target::Dashboard),
        Page::new("donations, first page", "", "/admin/dons", Target::List),
        Page::new(
            "donations, deep page",
            &format!("page {}: « Dons plus anciens » × {followed}", followed + 1),
            deep,
            Target::List,
        ),
        Page::new(
            "by the campaign whose last gift is oldest",
            &format!("id {}, {}", oldest.0, day_of(oldest.1)),
            format!("/admin/dons?campagne={}", oldest.0),
            Target::List,
        ),
        Page::new(
            "by the campaign with the newest gift",
            &format!("id {}", newest.0),
            format!("/admin/dons?campagne={}", newest.0),
            Target::List,
        ),
        Page::new(
            "by dates, a month two years ago",
            &format!("{from} to {until}"),
            range,
            Target::List,
        ),
    ];
    if let Some(next) = range_next {
        pages.push(Page::new("by dates, page 2", "", next, Target::List));
    }
    pages.extend([
        Page::new(
            "search, a common name",
            search_common,
            format!("/admin/dons?q={search_common}"),
            Target::List,
        ),
        Page::new(
            "search, one donor's email",
            &format!("{gifts} gifts"),
            format!(
                "/admin/dons?q={}",
                url::form_urlencoded::byte_serialize(search_rare.as_bytes()).collect::<String>()
            ),
            Target::List,
        ),
        Page::new("donors", "", "/admin/donateurs", Target::None),
        Page::new(
            "a donor",
            &format!("{gifts} gifts"),
            format!("/admin/donateurs/{donor}"),
            Target::List,
        ),
        Page::new(
            "a donation",
            "",
            format!("/admin/dons/{donation}"),
            Target::List,
        ),
    ]);
    for page in &pages {
        let (status, body, _) = client.get(&page.path).await;
        assert_eq!(status, 200, "{}", page.path);
        println!(
            "{}: {} kB of HTML ({})",
            page.name,
            body.len() / 1000,
            page.path
        );
    }
    pages
}

/// One statement of a view: its text, how many times a view runs it, its mean time.
struct Run {
    sql: String,
    per_view: f64,
    mean_ms: f64,
}

/// The statements views of `path` run, in the order first seen.
async fn statements_of(address: &str, cookie: &str, path: &str) -> Vec<Run> {
    let mut client = Client::open(address, cookie).await;
    sql_capture::start();
    for _ in 0..CAPTURED_VIEWS {
        client.view(path).await;
    }
    let captured = sql_capture::stop();
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
                per_view: count as f64 / CAPTURED_VIEWS as f64,
                mean_ms: seconds * 1000.0 / count as f64,
                sql,
            }
        })
        .collect()
}

fn print_statements(backend: &str, ledger: Ledger, page: &Page, statements: &[Run]) {
    println!(
        "{backend} {}, {} ({}): statements per view ({CAPTURED_VIEWS} views; mean time as \
         sqlx measures it, round trip and waits for a core included):",
        ledger.name(),
        page.name,
        page.path
    );
    for run in statements {
        let shown: String = run.sql.chars().take(160).collect();
        println!("  {:>5.2} × {:>9.3} ms  {shown}", run.per_view, run.mean_ms);
    }
    let total: f64 = statements.iter().map(|r| r.per_view * r.mean_ms).sum();
    println!("  sum per view: {total:.3} ms");
}

/// The statement the export runs, caught as it starts: the export is asked for and the
/// connection dropped after its first bytes (which ends the query).
async fn export_statement(address: &str, cookie: &str) -> String {
    sql_capture::start();
    {
        let mut client = Client::open(address, cookie).await;
        let (response, _) = client.start("/admin/dons.csv", "identity").await;
        assert_eq!(response.status(), 200);
        let mut body = response.into_body();
        body.frame().await.expect("a first part").expect("bytes");
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let captured = sql_capture::stop();
    captured
        .into_iter()
        .map(|s| s.sql)
        .find(|sql| sql.starts_with("SELECT d.id") && !sql.contains("LIMIT"))
        .expect("the export's statement")
}

/// Each distinct statement's plan.
async fn print_plans(backend: &str, database_url: &str, statements: Vec<String>) {
    println!("{backend} 1M: plans of the back-office's statements");
    let mut seen = Vec::new();
    for sql in statements {
        if seen.contains(&sql) {
            continue;
        }
        println!("[{}] {sql}", seen.len() + 1);
        match plans::plan(database_url, &sql).await {
            Ok(lines) => lines.iter().for_each(|line| println!("    {line}")),
            Err(error) => println!("    (no plan: {error})"),
        }
        seen.push(sql);
    }
}

/// The export of every donation, read from the real server.
struct Export {
    backend: &'static str,
    ledger: Ledger,
    /// What `Accept-Encoding` offered.
    encodings: &'static str,
    rows: i64,
    bytes: u64,
    seconds: f64,
    /// The server's resident memory before (after one page of the list), in kB.
    before_kb: u64,
    /// Its resident memory as a share of the rows had arrived: (share, kB).
    during_kb: Vec<(f64, u64)>,
    /// Its peak during the export.
    peak_kb: u64,
}

/// `obole serve` on the database, its own process: its memory is the export's.
struct Server {
    child: Child,
    address: String,
    _data_dir: tempfile::TempDir,
}

impl Server {
    async fn start(database_url: &str) -> Server {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new(env!("CARGO_BIN_EXE_obole"))
            .arg("serve")
            // No `.env` of the developer's.
            .current_dir(data_dir.path())
            .env("DATABASE_URL", database_url)
            .env("DATA_DIR", data_dir.path())
            .env("HOST", "127.0.0.1")
            .env("PORT", port.to_string())
            .env("JOBS_WORKER", "0")
            .env("SEED_DEMO_CONTENT", "0")
            .env("RUST_LOG", "warn")
            .env_remove("STRIPE_SECRET_KEY")
            .stdout(Stdio::null())
            .spawn()
            .expect("obole serve");
        let address = format!("127.0.0.1:{port}");
        let started = Instant::now();
        loop {
            if let Ok(response) = reqwest::get(format!("http://{address}/healthz")).await
                && response.status() == 200
            {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "obole serve answers"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Server {
            child,
            address,
            _data_dir: data_dir,
        }
    }

    /// A line of its `/proc/PID/status`, in kB.
    fn memory(&self, field: &str) -> u64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).expect("status");
        status
            .lines()
            .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("a memory figure")
    }

    /// Its peak set back to what it holds now.
    fn reset_peak(&self) {
        std::fs::write(format!("/proc/{}/clear_refs", self.child.id()), "5").expect("peak reset");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn export(
    backend: &'static str,
    ledger: Ledger,
    database_url: &str,
    rows: i64,
) -> Vec<Export> {
    let server = Server::start(database_url).await;
    let cookie = signed_in(&format!("http://{}", server.address)).await;
    let mut client = Client::open(&server.address, &cookie).await;
    let (status, _, _) = client.get("/admin/dons").await;
    assert_eq!(status, 200);
    let mut exports = Vec::new();
    for encodings in ["identity", "gzip, br"] {
        let before_kb = server.memory("VmRSS");
        server.reset_peak();
        let (response, sent) = client.start("/admin/dons.csv", encodings).await;
        assert_eq!(response.status(), 200);
        let compressed = response.headers().contains_key("content-encoding");
        assert_eq!(compressed, encodings != "identity", "{encodings}");
        let mut body = response.into_body();
        let (mut bytes, mut lines) = (0u64, 0i64);
        let mut during_kb = Vec::new();
        let shares = [0.10, 0.25, 0.50, 0.75, 1.0];
        let mut next_share = 0;
        let mut last_sample = Instant::now();
        while let Some(frame) = body.frame().await {
            let frame = frame.expect("the export");
            let Some(data) = frame.data_ref() else {
                continue;
            };
            bytes += data.len() as u64;
            if compressed {
                // Rows cannot be counted without decoding: sampled every second instead.
                if last_sample.elapsed() > Duration::from_secs(1) {
                    during_kb.push((sent.elapsed().as_secs_f64(), server.memory("VmRSS")));
                    last_sample = Instant::now();
                }
                continue;
            }
            lines += data.iter().filter(|&&b| b == b'\n').count() as i64;
            // The first line is the header.
            while next_share < shares.len()
                && (lines - 1) as f64 >= shares[next_share] * rows as f64
            {
                during_kb.push((shares[next_share], server.memory("VmRSS")));
                next_share += 1;
            }
        }
        let seconds = sent.elapsed().as_secs_f64();
        let peak_kb = server.memory("VmHWM");
        if !compressed {
            assert_eq!(lines - 1, rows, "every donation exported once");
        }
        let export = Export {
            backend,
            ledger,
            encodings,
            rows: if compressed { rows } else { lines - 1 },
            bytes,
            seconds,
            before_kb,
            during_kb,
            peak_kb,
        };
        println!(
            "{backend} {} export ({encodings}): {} rows, {:.1} MB in {:.2} s; resident {} MB \
             before, {} during, peak {} MB",
            ledger.name(),
            export.rows,
            bytes as f64 / 1e6,
            seconds,
            before_kb / 1024,
            export
                .during_kb
                .iter()
                .map(|(share, kb)| if compressed {
                    format!("{:.2} s: {} MB", share, kb / 1024)
                } else {
                    format!("{:.0} %: {} MB", share * 100.0, kb / 1024)
                })
                .collect::<Vec<_>>()
                .join(", "),
            peak_kb / 1024
        );
        exports.push(export);
    }
    exports
}

impl Results {
    fn print(&self) {
        let baseline = |m: &Measured| {
            self.pages
                .iter()
                .find(|b| b.backend == m.backend && b.ledger == m.ledger && b.path == "/healthz")
        };
        let small = |m: &Measured| {
            self.pages
                .iter()
                .find(|s| s.backend == m.backend && s.ledger == Ledger::Small && s.key == m.key)
        };
        println!();
        println!(
            "| backend | ledger | page | p50 (ms) | p90 | p99 | max | views | p50 / healthz p50 | p99 / healthz p99 | p50 1M / small | target |"
        );
        println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
        for m in &self.pages {
            let (over50, over99) = baseline(m)
                .filter(|b| b.path != m.path)
                .map(|b| {
                    (
                        format!("{:.0}", m.load.p50 / b.load.p50),
                        format!("{:.0}", m.load.p99 / b.load.p99),
                    )
                })
                .unwrap_or_default();
            let ratio = small(m)
                .filter(|_| m.ledger == Ledger::Million)
                .map(|s| format!("{:.2}", m.load.p50 / s.load.p50))
                .unwrap_or_default();
            let target = m
                .target
                .millis()
                .map(|t| {
                    let met = if m.load.p50 < t { "✓" } else { "✗" };
                    format!("< {t:.0} ms {met}")
                })
                .unwrap_or_default();
            println!(
                "| {} | {} | {} | {:.2} | {:.2} | {:.2} | {:.2} | {} | {over50} | {over99} | {ratio} | {target} |",
                m.backend,
                m.ledger.name(),
                m.page,
                m.load.p50,
                m.load.p90,
                m.load.p99,
                m.load.max,
                m.load.requests,
            );
        }
        println!();
        println!(
            "| backend | ledger | asked | rows | MB sent | s | rows/s | resident before (MB) | during (MB) | peak (MB) | < 100 MB |"
        );
        println!("|---|---|---|---|---|---|---|---|---|---|---|");
        for e in &self.exports {
            // At 10, 25, 50, 75 and 100 % of the rows; the range of the timed samples.
            let samples: Vec<u64> = e.during_kb.iter().map(|(_, kb)| kb / 1024).collect();
            let during = if samples.len() <= 5 {
                samples
                    .iter()
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join(" / ")
            } else {
                let (low, high) = (samples.iter().min(), samples.iter().max());
                format!(
                    "{}–{} ({} samples)",
                    low.unwrap_or(&0),
                    high.unwrap_or(&0),
                    samples.len()
                )
            };
            println!(
                "| {} | {} | {} | {} | {:.1} | {:.2} | {:.0} | {} | {during} | {} | {} |",
                e.backend,
                e.ledger.name(),
                e.encodings,
                e.rows,
                e.bytes as f64 / 1e6,
                e.seconds,
                e.rows as f64 / e.seconds,
                e.before_kb / 1024,
                e.peak_kb / 1024,
                if e.peak_kb < 100 * 1024 { "✓" } else { "✗" }
            );
        }
    }
}
