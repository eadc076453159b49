//! Outbox throughput and its cost to the pages: 10,000 thank-you emails queued at once (as
//! after a television appeal), sent by the job worker through the file outbox, then through a
//! local SMTP server over TCP (the tests' sink: lettre speaks real SMTP to it), on SQLite and
//! (when `TEST_POSTGRES_URL` is set) PostgreSQL. Then the public pages under load, with the
//! worker idle and while it drains the same 10,000 messages in the same process, as `obole
//! serve` runs it.
//!
//! Run: `cargo bench --bench outbox` (release build). `BENCH_MESSAGES` (default 10000),
//! `BENCH_BACKENDS` (default `sqlite,postgres`).

#[allow(dead_code)]
#[path = "../tests/api/smtp_sink.rs"]
mod smtp_sink;

#[path = "support/scratch_postgres.rs"]
mod scratch_postgres;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper::client::conn::http1::handshake;
use hyper::{Request, header};
use hyper_util::rt::TokioIo;
use obole::Application;
use obole::config::Config;
use obole::db::Db;
use obole::jobs::JobContext;
use obole::jobs::email::Mailer;
use obole::jobs::worker::Worker;
use obole::links::LinkKey;
use obole::startup::payments_beside_serve;
use scratch_postgres::ScratchPostgres;
use secrecy::SecretString;

const SLUG: &str = "le-sport-pour-grandir";
/// Page requests in flight at once during the latency runs.
const VISITORS: usize = 4;
/// The steady page load: a busy evening on one instance, well below what it can serve.
const PACED_RATE: u32 = 2_000;

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() {
    let messages = env_number("BENCH_MESSAGES", 10_000);
    println!("outbox bench: {messages} thank-you emails queued at once");
    let backends = std::env::var("BENCH_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".into());
    let dir = tempfile::tempdir().expect("temp dir");
    if backends.contains("sqlite") {
        let url = format!("sqlite://{}/bench.db", dir.path().display());
        run("SQLite", &url, messages).await;
    }
    match std::env::var("TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty() && backends.contains("postgres"))
    {
        Some(admin_url) => {
            let scratch = ScratchPostgres::create(&admin_url).await;
            run("PostgreSQL", &scratch.url, messages).await;
            scratch.drop().await;
        }
        None => println!("PostgreSQL skipped: TEST_POSTGRES_URL is not set"),
    }
}

async fn run(backend: &str, database_url: &str, messages: usize) {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let config = Config {
        data_dir: data_dir.path().to_owned(),
        // The bench runs the worker itself, to time it.
        jobs_worker: false,
        ..Config::local(database_url)
    };
    let app = Application::build(config.clone())
        .await
        .expect("Obole starts");
    let address = format!("127.0.0.1:{}", app.port());
    let base_url = app.base_url().to_owned();
    let db = app.db().clone();
    tokio::spawn(app.run_until(std::future::pending()));
    queue_thanks(&db, messages).await;

    // 1. The file outbox (the embedded default).
    let outbox = context(&db, &config, &base_url).await;
    let rate = drain(&outbox, messages, Arc::default()).await;
    let written = std::fs::read_dir(data_dir.path().join("outbox"))
        .expect("outbox")
        .filter(|entry| {
            entry
                .as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "eml"))
        })
        .count();
    assert_eq!(written, messages, "every message written once");
    println!("{backend:<10} file outbox: {rate:.0} messages/s");

    // 2. SMTP to a local server.
    let sink = smtp_sink::SmtpSink::start().await;
    let smtp = Config {
        smtp_url: Some(SecretString::from(format!("{}?tls=none", sink.url()))),
        ..config.clone()
    };
    requeue(&db).await;
    let rate = drain(
        &context(&db, &smtp, &base_url).await,
        messages,
        Arc::default(),
    )
    .await;
    assert_eq!(sink.received().len(), messages, "every message sent once");
    println!("{backend:<10} SMTP (local server): {rate:.0} messages/s");

    // 3. The pages, with the worker idle, then while it drains the queue again: as fast as
    // the visitors can go (the two cores saturated), then at a steady 2,000 views a second.
    for pace in [None, Some(PACED_RATE)] {
        let idle = page_load(&address, Duration::from_secs(5), pace).await;
        requeue(&db).await;
        let draining = Arc::new(AtomicBool::new(true));
        let drain = tokio::spawn({
            let (ctx, draining) = (outbox.clone(), draining.clone());
            async move { drain(&ctx, messages, draining).await }
        });
        let busy = page_load_while(&address, &draining, pace).await;
        let drained = drain.await.expect("drain");
        let load = match pace {
            None => "saturating".to_owned(),
            Some(rate) => format!("{rate} views/s"),
        };
        println!(
            "{backend:<10} pages ({load}), worker idle:    {}",
            idle.describe()
        );
        println!(
            "{backend:<10} pages ({load}), while draining: {} (drained {messages} at {drained:.0} messages/s)",
            busy.describe(),
        );
        println!(
            "{backend:<10} pages ({load}), ratio draining/idle: p50 {:.2}, p99 {:.2}, throughput {:.2}",
            busy.p50 / idle.p50,
            busy.p99 / idle.p99,
            busy.per_second / idle.per_second
        );
    }
}

async fn context(db: &Db, config: &Config, base_url: &str) -> JobContext {
    JobContext {
        db: db.clone(),
        config: Arc::new(config.clone()),
        base_url: base_url.into(),
        mailer: Mailer::from_config(config).expect("mailer"),
        links: LinkKey::load(db, 0).await.expect("key"),
        payments: payments_beside_serve(config, db).await.expect("payments"),
    }
}

/// Runs the worker as `obole serve` does (a task of the server's runtime, at its pace)
/// until every job is done; messages per second. `draining` turns false then.
async fn drain(ctx: &JobContext, messages: usize, draining: Arc<AtomicBool>) -> f64 {
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let started = Instant::now();
    let worker = tokio::spawn(Worker::new(ctx.clone()).run(stopped));
    while pending(&ctx.db).await > 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let elapsed = started.elapsed();
    draining.store(false, Ordering::Release);
    stop.send(true).expect("stop");
    worker.await.expect("worker");
    messages as f64 / elapsed.as_secs_f64()
}

/// `messages` paid one-off donations of the demo's first supporter to the campaign, and a
/// thank-you job for each, in one transaction (the bench's set-up, not its measure).
async fn queue_thanks(db: &Db, messages: usize) {
    let campaign: i64 = sqlx::query_scalar("SELECT id FROM campaigns WHERE slug = $1")
        .bind(SLUG)
        .fetch_one(db.pool())
        .await
        .expect("the demo campaign");
    let supporter: i64 = sqlx::query_scalar("SELECT MIN(id) FROM supporters")
        .fetch_one(db.pool())
        .await
        .expect("a demo supporter");
    let first: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM donations")
        .fetch_one(db.pool())
        .await
        .expect("donations");
    let mut tx = db.begin_write().await.expect("transaction");
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1) \
         INSERT INTO donations (campaign_id, supporter_id, amount_cents, refunded_cents, currency, \
             frequency, payment_method, status, show_publicly, donated_at, created_at, updated_at) \
         SELECT $2, $3, 2500, 0, 'EUR', 'once', 'card', 'paid', 0, 1764547200, 1764547200, 1764547200 FROM n",
    )
    .bind(messages as i64)
    .bind(campaign)
    .bind(supporter)
    .execute(&mut *tx)
    .await
    .expect("donations");
    sqlx::query(
        "INSERT INTO jobs (kind, payload, dedupe_key, run_at, max_attempts, created_at) \
         SELECT 'email', '{\"email\":\"thank_you\",\"donation_id\":' || CAST(id AS TEXT) || '}', \
             'email:thank-you:' || CAST(id AS TEXT), 0, 10, 0 \
         FROM donations WHERE id > $1",
    )
    .bind(first)
    .execute(&mut *tx)
    .await
    .expect("jobs");
    tx.commit().await.expect("commit");
}

async fn pending(db: &Db) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE done_at IS NULL")
        .fetch_one(db.pool())
        .await
        .expect("jobs")
}

/// Every job due again, as new.
async fn requeue(db: &Db) {
    sqlx::query(
        "UPDATE jobs SET done_at = NULL, dead_at = NULL, attempts = 0, run_at = 0, \
             locked_by = NULL, locked_until = NULL, last_error = NULL",
    )
    .execute(db.pool())
    .await
    .expect("requeue");
}

/// Latencies of page views, in milliseconds.
struct Load {
    p50: f64,
    p99: f64,
    per_second: f64,
    requests: usize,
}

impl Load {
    fn of(mut latencies: Vec<f64>, elapsed: Duration) -> Load {
        latencies.sort_by(f64::total_cmp);
        let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize];
        Load {
            p50: at(0.50),
            p99: at(0.99),
            per_second: latencies.len() as f64 / elapsed.as_secs_f64(),
            requests: latencies.len(),
        }
    }

    fn describe(&self) -> String {
        format!(
            "{} requests, {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms",
            self.requests, self.per_second, self.p50, self.p99
        )
    }
}

async fn page_load(address: &str, duration: Duration, pace: Option<u32>) -> Load {
    let running = Arc::new(AtomicBool::new(true));
    let stop = running.clone();
    tokio::spawn(async move {
        tokio::time::sleep(duration).await;
        stop.store(false, Ordering::Release);
    });
    page_load_while(address, &running, pace).await
}

/// `VISITORS` visitors, each on a keep-alive connection, alternating the home page and the
/// campaign page (served from the page cache, as most views are), while `running` holds:
/// as fast as they can, or `pace` views a second in all.
async fn page_load_while(address: &str, running: &Arc<AtomicBool>, pace: Option<u32>) -> Load {
    let started = Instant::now();
    let visitors: Vec<_> = (0..VISITORS)
        .map(|_| {
            let (address, running) = (address.to_owned(), running.clone());
            tokio::spawn(async move {
                let stream = tokio::net::TcpStream::connect(&address)
                    .await
                    .expect("connect");
                stream.set_nodelay(true).expect("nodelay");
                let (mut requests, connection) =
                    handshake(TokioIo::new(stream)).await.expect("handshake");
                tokio::spawn(connection);
                let mut latencies = Vec::new();
                let paths = ["/".to_owned(), format!("/campagnes/{SLUG}")];
                let mut ticks = pace.map(|rate| {
                    let every = Duration::from_secs_f64(VISITORS as f64 / f64::from(rate));
                    let mut ticks = tokio::time::interval(every);
                    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                    ticks
                });
                while running.load(Ordering::Acquire) {
                    if let Some(ticks) = ticks.as_mut() {
                        ticks.tick().await;
                    }
                    let path = &paths[latencies.len() % 2];
                    let request = Request::get(path.as_str())
                        .header(header::HOST, &address)
                        .header(header::ACCEPT_ENCODING, "br")
                        .body(Empty::<Bytes>::new())
                        .expect("request");
                    let sent = Instant::now();
                    let response = requests.send_request(request).await.expect("response");
                    assert_eq!(response.status(), 200);
                    response.into_body().collect().await.expect("body");
                    latencies.push(sent.elapsed().as_secs_f64() * 1000.0);
                }
                latencies
            })
        })
        .collect();
    let mut all = Vec::new();
    for visitor in visitors {
        all.extend(visitor.await.expect("visitor"));
    }
    Load::of(all, started.elapsed())
}
