//! The annual receipts run for 100,000 supporters (issue 12), on SQLite and (when
//! `TEST_POSTGRES_URL` is set) PostgreSQL: its time and the memory of the real
//! `obole receipts --year …`, then a second run that must issue nothing.
//!
//! The ledger is seeded by bulk SQL: 100,000 supporters, each with a monthly pledge and 12
//! paid gifts in the previous year (Paris time), 1,200,000 donations inserted month by month,
//! as a year of charges arrives (a supporter's gifts are not side by side in the table).
//! The organisation's settings are completed as the back-office does it (`settings::save`
//! and a signature stored with `media::store`), so that every supporter gets a receipt.
//!
//! The run is the real binary, its own process, on the same database and `DATA_DIR`: the bench
//! reads its `/proc/PID/status` every 100 ms (`VmRSS`, and `VmHWM`, the peak, at the last
//! sample before it exits); memory that does not grow with the supporters issued stays flat
//! across the samples at 10, 50 and 90 % of the run's time. The receipts are then checked in
//! SQL: 100,000 standing, numbered 1 to 100,000 without a gap, one email job each.
//!
//! Issuing a receipt writes it and its email's job, in one transaction; its PDF is not made in
//! the run but later, by the job worker sending the email (`receipts::pdf_of`). So the run's
//! time is not the PDFs' time: the bench times 100 PDFs made through `pdf_of` afterwards, a
//! figure per receipt for the worker's later work.
//!
//! Run: `cargo bench --bench receipts` (release build). `BENCH_SUPPORTERS` (default 100000),
//! `BENCH_BACKENDS` (default `sqlite,postgres`), `BENCH_PDFS` (default 100).

#[path = "support/scratch_postgres.rs"]
mod scratch_postgres;

use std::process::{Command, Stdio};
use std::str::FromStr;
use std::time::{Duration, Instant};

use obole::db::{Backend, Db};
use obole::domain::dates;
use obole::domain::organisation::Organisation;
use obole::media;
use obole::store::settings;
use scratch_postgres::ScratchPostgres;
use sqlx::Connection;
use sqlx::postgres::PgConnection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};

/// Gifts per supporter in the year: one a month.
const MONTHS: i64 = 12;

fn env_number(name: &str, default: i64) -> i64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() {
    let supporters = env_number("BENCH_SUPPORTERS", 100_000);
    let pdfs = env_number("BENCH_PDFS", 100);
    let backends = std::env::var("BENCH_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".into());
    let year = dates::paris_year(dates::now()) - 1;
    println!(
        "Annual receipts bench: {supporters} supporters × {MONTHS} gifts in {year}, \
         `obole receipts --year {year}`"
    );
    let mut results = Vec::new();
    if backends.contains("sqlite") {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}/receipts.db", dir.path().display());
        results.push(run("SQLite", &url, year, supporters, pdfs).await);
    }
    match std::env::var("TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty() && backends.contains("postgres"))
    {
        Some(admin_url) => {
            let scratch = ScratchPostgres::create(&admin_url).await;
            results.push(run("PostgreSQL", &scratch.url, year, supporters, pdfs).await);
            scratch.drop().await;
        }
        None => println!("PostgreSQL skipped: TEST_POSTGRES_URL is not set"),
    }
    print_results(&results);
}

/// What one backend came to.
struct Measured {
    backend: &'static str,
    supporters: i64,
    seed_seconds: f64,
    first: CliRun,
    second: CliRun,
    /// Milliseconds per PDF made by `pdf_of`, and how many were made.
    pdf_ms: Option<(f64, i64)>,
}

async fn run(
    backend: &'static str,
    database_url: &str,
    year: i32,
    supporters: i64,
    pdfs: i64,
) -> Measured {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let started = Instant::now();
    seed(database_url, year, supporters).await;
    let seed_seconds = started.elapsed().as_secs_f64();
    let db = Db::connect(database_url).await.expect("database");
    complete_settings(&db, data_dir.path()).await;
    println!(
        "{backend}: {supporters} supporters, {} gifts seeded in {seed_seconds:.0} s",
        supporters * MONTHS
    );
    // The run has the cores and the database to itself.
    db.close().await;

    let first = cli_run(database_url, data_dir.path(), year);
    println!("{backend} first run: {}", first.describe());
    assert_eq!(first.issued, supporters, "one receipt per supporter");

    let db = Db::connect(database_url).await.expect("database");
    check_receipts(&db, supporters).await;
    db.close().await;

    let second = cli_run(database_url, data_dir.path(), year);
    println!("{backend} second run: {}", second.describe());
    assert_eq!(second.issued, 0, "a second run issues nothing");

    let db = Db::connect(database_url).await.expect("database");
    let pdf_ms = if pdfs > 0 {
        Some((pdf_time(&db, data_dir.path(), pdfs).await, pdfs))
    } else {
        None
    };
    db.close().await;
    Measured {
        backend,
        supporters,
        seed_seconds,
        first,
        second,
        pdf_ms,
    }
}

/// The ledger: a project, a campaign, the supporters, a monthly pledge and recurring gift
/// each, and their 12 paid gifts of `year`, by bulk `INSERT … SELECT` in one transaction.
async fn seed(database_url: &str, year: i32, supporters: i64) {
    let db = Db::connect(database_url).await.expect("database");
    db.migrate().await.expect("migrations");
    let backend = db.backend();
    db.close().await;
    let now = dates::now();
    let start = dates::paris_year_start(year);
    let rows = seed_sql(start, now, supporters);
    match backend {
        Backend::Sqlite => {
            let options = SqliteConnectOptions::from_str(database_url)
                .expect("SQLite URL")
                .busy_timeout(Duration::from_secs(60));
            let mut conn = SqliteConnection::connect_with(&options)
                .await
                .expect("SQLite");
            let numbers = format!(
                "CREATE TEMP TABLE seq (n INTEGER PRIMARY KEY); \
                 WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {supporters}) \
                 INSERT INTO seq SELECT n FROM s;"
            );
            sqlx::raw_sql(&format!("{numbers} BEGIN; {rows} COMMIT;"))
                .execute(&mut conn)
                .await
                .expect("the SQLite seed");
            conn.close().await.expect("close");
        }
        Backend::Postgres => {
            let mut conn = PgConnection::connect(database_url)
                .await
                .expect("PostgreSQL");
            let numbers = format!(
                "CREATE TEMP TABLE seq AS SELECT n::bigint AS n FROM generate_series(1, {supporters}) n;"
            );
            // One multi-statement string: one transaction.
            sqlx::raw_sql(&format!("{numbers} {rows}"))
                .execute(&mut conn)
                .await
                .expect("the PostgreSQL seed");
            // What autovacuum would have done by the time the year is over, to the tables
            // seeded. The receipts' tables are left as a first run finds them: never
            // analysed (an `ANALYZE` of them empty makes the run's cached plans scan them,
            // every receipt reading all those issued before it: see BENCHMARKS.md).
            sqlx::raw_sql("VACUUM ANALYZE supporters, pledges, recurring_gifts, donations")
                .execute(&mut conn)
                .await
                .expect("vacuum");
            conn.close().await.expect("close");
        }
    }
}

/// The rows, the same SQL for both backends (`seq` holds 1..=supporters).
fn seed_sql(start: i64, now: i64, supporters: i64) -> String {
    let address = "(1 + n % 120) || ' rue de la République'";
    let amount = "CASE n % 4 WHEN 0 THEN 1000 WHEN 1 THEN 1500 WHEN 2 THEN 2500 ELSE 5000 END";
    let joined = start - 400 * 86_400;
    format!(
        "INSERT INTO projects (id, slug, name, full_name, tagline, description, location, \
             cover_image, impact_unit_cents, impact_unit_label, created_at, updated_at) \
         VALUES (1, 'peps', 'Projet', 'Projet numéro 1', 'Une accroche', 'Une description.', \
             'France', '/static/img/p1.svg', 30000, 'enfants accompagnés pendant un an', \
             {joined}, {joined});
         INSERT INTO campaigns (id, project_id, slug, title, summary, story, cover_image, \
             goal_cents, currency, starts_at, ends_at, status, created_at, updated_at) \
         VALUES (1, 1, 'le-sport-pour-grandir', 'Campagne', 'Un résumé de la campagne.', \
             'Une histoire.', '/static/img/c1.svg', 2400000, 'EUR', {joined}, {now} + 3888000, \
             'published', {joined}, {joined});
         INSERT INTO supporters (id, email, first_name, last_name, address_line1, address_line2, \
             postal_code, city, country, news_consent, stripe_customer_id, created_at, \
             updated_at, identity_at) \
         SELECT n, 'supporter' || n || '@example.org', 'Camille', 'Martin', {address}, '', \
             '75011', 'Paris', 'FR', 0, 'cus_' || n, {joined}, {joined}, {joined} \
         FROM seq WHERE n <= {supporters};
         INSERT INTO pledges (id, campaign_id, supporter_id, amount_cents, currency, frequency, \
             email, first_name, last_name, address_line1, address_line2, postal_code, city, \
             country, show_publicly, news_consent, stripe_checkout_session_id, status, \
             created_at, updated_at) \
         SELECT n, 1, n, {amount}, 'EUR', 'monthly', 'supporter' || n || '@example.org', \
             'Camille', 'Martin', {address}, '', '75011', 'Paris', 'FR', 0, 0, \
             'cs_test_rg_' || n, 'completed', {joined}, {joined} \
         FROM seq WHERE n <= {supporters};
         INSERT INTO recurring_gifts (id, supporter_id, campaign_id, pledge_id, amount_cents, \
             currency, frequency, status, stripe_subscription_id, cancel_at_period_end, \
             current_period_end, created_at, updated_at, stripe_event_at, stripe_customer_id) \
         SELECT id, supporter_id, campaign_id, id, amount_cents, 'EUR', 'monthly', 'active', \
             'sub_' || id, 0, {now} + 1728000, created_at, created_at, created_at, \
             'cus_' || supporter_id \
         FROM pledges;
         INSERT INTO donations (id, campaign_id, supporter_id, pledge_id, recurring_gift_id, \
             amount_cents, refunded_cents, currency, frequency, payment_method, status, \
             show_publicly, stripe_payment_intent_id, stripe_invoice_id, stripe_charge_id, \
             donated_at, created_at, updated_at) \
         SELECT g.id, 1, p.supporter_id, p.id, p.id, p.amount_cents, 0, 'EUR', 'monthly', \
             CASE WHEN p.id % 5 = 0 THEN 'sepa_debit' ELSE 'card' END, 'paid', 0, \
             'pi_' || g.id, 'in_' || g.id, 'ch_' || g.id, g.at, g.at, g.at \
         FROM (SELECT (m.n - 1) * {supporters} + s.n AS id, s.n AS pledge, \
                   {start} + (m.n - 1) * 2592000 + 86400 + s.n % 86400 AS at \
               FROM seq m, seq s WHERE m.n <= {MONTHS} AND s.n <= {supporters}) g \
         JOIN pledges p ON p.id = g.pledge \
         ORDER BY g.id;"
    )
}

/// The settings a receipt must state, and the signatory's signature.
async fn complete_settings(db: &Db, data_dir: &std::path::Path) {
    let signature = media::check(
        include_bytes!("../tests/fixtures/cover.png").to_vec(),
        media::SIGNATURE,
    )
    .expect("a signature");
    let address = media::store(data_dir, &signature).expect("stored");
    let organisation = Organisation {
        name: "Villages d’Enfants".into(),
        address_line1: "12 rue de l’Espérance".into(),
        postal_code: "75011".into(),
        city: "Paris".into(),
        object: "Protection de l’enfance".into(),
        category: "rup".into(),
        siren: "123456789".into(),
        cgi_articles: "200,238 bis".into(),
        signatory_name: "Claire Martin".into(),
        signatory_role: "présidente".into(),
        public_utility: 1,
        ..Organisation::default()
    };
    let now = dates::now();
    let mut tx = db.begin_write().await.expect("transaction");
    settings::save(&mut tx, &organisation, now)
        .await
        .expect("settings");
    settings::set_picture(&mut tx, settings::Picture::Signature, &address, now)
        .await
        .expect("signature");
    tx.commit().await.expect("commit");
}

/// One `obole receipts --year …`, watched from outside.
struct CliRun {
    seconds: f64,
    issued: i64,
    /// (seconds since start, `VmRSS` in kB), every 100 ms.
    samples: Vec<(f64, u64)>,
    /// `VmHWM` at the last sample.
    peak_kb: u64,
    output: String,
}

impl CliRun {
    /// `VmRSS` at `share` of the run's time (the nearest sample).
    fn rss_at(&self, share: f64) -> u64 {
        let at = share * self.seconds;
        self.samples
            .iter()
            .min_by(|a, b| (a.0 - at).abs().total_cmp(&(b.0 - at).abs()))
            .map_or(0, |&(_, kb)| kb)
    }

    fn describe(&self) -> String {
        format!(
            "{} issued in {:.1} s; resident {} / {} / {} MB at 10 / 50 / 90 %, peak {} MB \
             ({} samples); it said « {} »",
            self.issued,
            self.seconds,
            self.rss_at(0.1) / 1024,
            self.rss_at(0.5) / 1024,
            self.rss_at(0.9) / 1024,
            self.peak_kb / 1024,
            self.samples.len(),
            self.output.trim().replace('\n', " / "),
        )
    }
}

/// A line of `/proc/PID/status`, in kB; `None` once the process is gone.
fn memory(status: &str, field: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
}

fn cli_run(database_url: &str, data_dir: &std::path::Path, year: i32) -> CliRun {
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_obole"))
        .arg("receipts")
        .arg("--year")
        .arg(year.to_string())
        // No `.env` of the developer's.
        .current_dir(data_dir)
        .env("DATABASE_URL", database_url)
        .env("DATA_DIR", data_dir)
        .env("RUST_LOG", "warn")
        .env_remove("STRIPE_SECRET_KEY")
        .stdout(Stdio::piped())
        .spawn()
        .expect("obole receipts");
    let status_path = format!("/proc/{}/status", child.id());
    let mut samples = Vec::new();
    let mut peak_kb = 0;
    let exit = loop {
        if let Some(exit) = child.try_wait().expect("the run") {
            break exit;
        }
        if let Ok(status) = std::fs::read_to_string(&status_path)
            && let (Some(rss), Some(hwm)) = (memory(&status, "VmRSS"), memory(&status, "VmHWM"))
        {
            samples.push((started.elapsed().as_secs_f64(), rss));
            peak_kb = hwm;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let seconds = started.elapsed().as_secs_f64();
    let mut output = String::new();
    if let Some(mut stdout) = child.stdout.take() {
        use std::io::Read;
        stdout.read_to_string(&mut output).expect("its output");
    }
    assert!(exit.success(), "obole receipts failed: {output}");
    // « reçus annuels 2025 : 100000 émis, pour … »
    let issued = output
        .lines()
        .find_map(|line| line.split(" : ").nth(1)?.split(" émis").next())
        .and_then(|n| n.trim().parse().ok())
        .expect("the number issued");
    CliRun {
        seconds,
        issued,
        samples,
        peak_kb,
        output,
    }
}

/// Every supporter has one standing receipt, numbered 1..=supporters without a gap, covering
/// their 12 gifts, and its email waits in the jobs.
async fn check_receipts(db: &Db, supporters: i64) {
    let year = i64::from(dates::paris_year(dates::now()));
    let (count, low, high, distinct, donors): (i64, i64, i64, i64, i64) = sqlx::query_as(
        "SELECT COUNT(*), MIN(sequence), MAX(sequence), COUNT(DISTINCT sequence), \
             COUNT(DISTINCT supporter_id) \
         FROM tax_receipts WHERE year = $1 AND status = 'issued'",
    )
    .bind(year)
    .fetch_one(db.pool())
    .await
    .expect("receipts");
    assert_eq!(
        (count, low, high, distinct, donors),
        (supporters, 1, supporters, supporters, supporters),
        "receipts numbered 1..={supporters}, one per supporter"
    );
    let covered: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM receipt_gifts WHERE active = 1")
        .fetch_one(db.pool())
        .await
        .expect("covered gifts");
    assert_eq!(covered, supporters * MONTHS, "every gift covered once");
    let emails: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM jobs")
        .fetch_one(db.pool())
        .await
        .expect("jobs");
    assert_eq!(emails, supporters, "one email job per receipt");
    println!(
        "checked: {count} receipts numbered {low}..{high} without a gap, {covered} gifts covered, \
         {emails} email jobs"
    );
}

/// Milliseconds per PDF, `count` receipts made through `pdf_of` (rendered, written, their
/// checksum recorded), as the worker makes them before sending.
async fn pdf_time(db: &Db, data_dir: &std::path::Path, count: i64) -> f64 {
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM tax_receipts ORDER BY id LIMIT $1")
        .bind(count)
        .fetch_all(db.pool())
        .await
        .expect("receipts");
    let started = Instant::now();
    for &id in &ids {
        let pdf = obole::receipts::pdf_of(db, data_dir, id)
            .await
            .expect("a PDF")
            .expect("the receipt");
        assert!(pdf.starts_with(b"%PDF-"));
    }
    let ms = started.elapsed().as_secs_f64() * 1000.0 / ids.len().max(1) as f64;
    println!("{} PDFs made, {ms:.1} ms each", ids.len());
    ms
}

fn print_results(results: &[Measured]) {
    println!();
    println!(
        "| backend | supporters | gifts | seed (s) | run (s) | issued | RSS at 10 / 50 / 90 % (MB) | peak (MB) | < 10 min | second run (s) | issued again | PDF (ms each) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for m in results {
        let first = &m.first;
        println!(
            "| {} | {} | {} | {:.0} | {:.1} | {} | {} / {} / {} | {} | {} | {:.1} | {} | {} |",
            m.backend,
            m.supporters,
            m.supporters * MONTHS,
            m.seed_seconds,
            first.seconds,
            first.issued,
            first.rss_at(0.1) / 1024,
            first.rss_at(0.5) / 1024,
            first.rss_at(0.9) / 1024,
            first.peak_kb / 1024,
            if first.seconds < 600.0 { "✓" } else { "✗" },
            m.second.seconds,
            m.second.issued,
            m.pdf_ms
                .map(|(ms, n)| format!("{ms:.1} ({n})"))
                .unwrap_or_default(),
        );
    }
}
