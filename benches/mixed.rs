//! A mixed minute on one instance, on SQLite and (when `TEST_POSTGRES_URL` is set)
//! PostgreSQL: visitors reading the public pages and the API, donors giving through the
//! sandbox's hosted checkout (whose webhooks the sandbox delivers), Stripe redelivering
//! events already applied, a supporter in « Mon espace » and a staff member in the
//! back-office, all at once. Every answer must be what that person expects (no 4xx, no
//! 5xx); afterwards the counters must equal the ledger and every gift paid must be there
//! once. Prints requests, errors and latencies per kind.
//!
//! Run: `cargo bench --bench mixed` (release build). `BENCH_SECONDS` (default 60),
//! `BENCH_BACKENDS` (default `sqlite,postgres`).

#[path = "support/scratch_postgres.rs"]
mod scratch_postgres;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use obole::Application;
use obole::accounts;
use obole::config::Config;
use obole::db::Db;
use obole::domain::dates;
use obole::domain::email::Email;
use obole::domain::staff::Role;
use obole::jobs::email::read_outbox;
use obole::store::counters;
use scratch_postgres::ScratchPostgres;
use stripe_sandbox::Sandbox;
use tokio::sync::Mutex;

const SLUG: &str = "le-sport-pour-grandir";
const PASSWORD: &str = "une phrase de passe pour le banc d’essai";
const SUPPORTER: &str = "fidele@example.org";
/// Visitors reading pages at once.
const VISITORS: usize = 4;

/// What each kind of request answered, and how long it took.
#[derive(Default)]
struct Tally {
    by_kind: BTreeMap<&'static str, Vec<(u16, Duration)>>,
}

type Shared = Arc<Mutex<Tally>>;

async fn record(tally: &Shared, kind: &'static str, status: u16, took: Duration) {
    tally
        .lock()
        .await
        .by_kind
        .entry(kind)
        .or_default()
        .push((status, took));
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

fn csrf(html: &str) -> String {
    html.split("name=\"csrf_token\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a CSRF token")
        .to_owned()
}

/// A GET or a form POST, timed and tallied; the response's status and body.
async fn call(
    tally: &Shared,
    kind: &'static str,
    request: reqwest::RequestBuilder,
) -> (u16, String, Option<String>) {
    let started = Instant::now();
    let response = request.send().await.expect("the server answers");
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .map(str::to_owned);
    let body = response.text().await.unwrap_or_default();
    record(tally, kind, status, started.elapsed()).await;
    (status, body, location)
}

#[tokio::main]
async fn main() {
    let seconds: u64 = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let backends = std::env::var("BENCH_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".into());
    println!("mixed bench: {seconds} s of pages, gifts, webhooks, « Mon espace » and back-office");
    if backends.contains("sqlite") {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}/bench.db", dir.path().display());
        run("SQLite", &url, dir.path(), seconds).await;
    }
    if backends.contains("postgres") {
        match std::env::var("TEST_POSTGRES_URL") {
            Ok(admin) if !admin.trim().is_empty() => {
                let scratch = ScratchPostgres::create(&admin).await;
                let dir = tempfile::tempdir().expect("temp dir");
                run("PostgreSQL", &scratch.url, dir.path(), seconds).await;
                scratch.drop().await;
            }
            _ => println!("PostgreSQL skipped: TEST_POSTGRES_URL is not set"),
        }
    }
}

async fn run(backend: &str, url: &str, data_dir: &std::path::Path, seconds: u64) {
    let config = Config {
        checkout_rate_per_minute: 10_000,
        data_dir: data_dir.to_owned(),
        ..Config::local(url)
    };
    let app = Application::build(config.clone())
        .await
        .expect("Obole starts");
    let base = format!("http://127.0.0.1:{}", app.port());
    let db = app.db().clone();
    let sandbox = app.sandbox().expect("demo mode").clone();
    let (stop_server, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));
    let tally: Shared = Arc::default();
    let before: i64 = paid_gifts(&db).await;

    // The supporter gives once, then signs in with the link emailed to her.
    let gifts = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let supporter = client();
    give(&supporter, &base, &tally, SUPPORTER, 2500).await;
    gifts.fetch_add(1, Ordering::Relaxed);
    // Her gift applied: she is a supporter, who may ask for a link.
    tokio::time::timeout(Duration::from_secs(30), sandbox.wait_for_deliveries())
        .await
        .expect("webhooks delivered");
    sign_in_supporter(&supporter, &base, &config, &tally).await;
    let staff = client();
    sign_in_staff(&staff, &base, &db, &tally).await;

    let running = Arc::new(AtomicBool::new(true));
    let mut tasks = tokio::task::JoinSet::new();
    for visitor in 0..VISITORS {
        let (tally, running, base) = (tally.clone(), running.clone(), base.clone());
        tasks.spawn(async move {
            let reader = client();
            let pages = [
                ("page", "/".to_owned()),
                ("page", format!("/campagnes/{SLUG}")),
                ("page", format!("/campagnes/{SLUG}/don")),
                ("api", "/api/v1/campaigns".to_owned()),
                ("api", format!("/api/v1/campaigns/{SLUG}")),
            ];
            let mut i = visitor;
            while running.load(Ordering::Relaxed) {
                let (kind, path) = &pages[i % pages.len()];
                call(&tally, kind, reader.get(format!("{base}{path}"))).await;
                i += 1;
            }
        });
    }
    {
        let (tally, running, base, gifts) =
            (tally.clone(), running.clone(), base.clone(), gifts.clone());
        tasks.spawn(async move {
            let mut n = 0;
            while running.load(Ordering::Relaxed) {
                let donor = client();
                let email = format!("donateur{n}@example.org");
                give(&donor, &base, &tally, &email, 500 + (n as i64 % 40) * 500).await;
                gifts.fetch_add(1, Ordering::Relaxed);
                n += 1;
            }
        });
    }
    {
        let (tally, running, base, sandbox) = (
            tally.clone(),
            running.clone(),
            base.clone(),
            sandbox.clone(),
        );
        tasks.spawn(async move {
            let stripe = client();
            let mut i = 0usize;
            while running.load(Ordering::Relaxed) {
                redeliver(&stripe, &base, &sandbox, &tally, i).await;
                i += 7;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
    }
    {
        let (tally, running, base) = (tally.clone(), running.clone(), base.clone());
        tasks.spawn(async move {
            while running.load(Ordering::Relaxed) {
                call(
                    &tally,
                    "mon-espace",
                    supporter.get(format!("{base}/mon-espace")),
                )
                .await;
            }
        });
    }
    {
        let (tally, running, base) = (tally.clone(), running.clone(), base.clone());
        tasks.spawn(async move {
            let pages = [
                "/admin",
                "/admin/dons",
                "/admin/donateurs",
                "/admin/campagnes",
            ];
            let mut i = 0;
            while running.load(Ordering::Relaxed) {
                let path = pages[i % pages.len()];
                call(&tally, "back-office", staff.get(format!("{base}{path}"))).await;
                i += 1;
            }
        });
    }
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    running.store(false, Ordering::Relaxed);
    while tasks.join_next().await.is_some() {}
    tokio::time::timeout(Duration::from_secs(60), sandbox.wait_for_deliveries())
        .await
        .expect("webhooks delivered");

    let given = i64::try_from(gifts.load(Ordering::Relaxed)).expect("a count");
    let recorded = paid_gifts(&db).await - before;
    let recount = counters::recount(&db).await.expect("recount");
    print_results(backend, seconds, &*tally.lock().await);
    println!(
        "{backend:<10} gifts given {given}, recorded {recorded}; counters {}",
        if recount.all_exact() {
            "equal to the ledger"
        } else {
            "DRIFTED"
        }
    );
    assert_eq!(recorded, given, "every gift paid is in the ledger, once");
    assert!(recount.all_exact(), "counters equal the ledger");
    let _ = stop_server.send(());
    let _ = server.await;
}

async fn paid_gifts(db: &Db) -> i64 {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM donations WHERE status = 'paid' \
         AND stripe_checkout_session_id IS NOT NULL",
    )
    .fetch_one(db.pool())
    .await
    .expect("count")
}

/// A one-off gift by card: the form, the hosted checkout page, the payment.
async fn give(donor: &reqwest::Client, base: &str, tally: &Shared, email: &str, cents: i64) {
    let form_url = format!("{base}/campagnes/{SLUG}/don");
    let (_, form, _) = call(tally, "gift: form", donor.get(&form_url)).await;
    let euros = (cents / 100).to_string();
    let token = csrf(&form);
    let fields = [
        ("csrf_token", token.as_str()),
        ("frequency", "once"),
        ("amount", "other"),
        ("other_amount", euros.as_str()),
        ("first_name", "Camille"),
        ("last_name", "Martin"),
        ("email", email),
        ("address_line1", "3 rue des Lilas"),
        ("postal_code", "69003"),
        ("city", "Lyon"),
        ("country", "FR"),
    ];
    let (status, _, checkout) =
        call(tally, "gift: post", donor.post(&form_url).form(&fields)).await;
    assert_eq!(status, 303, "the form leads to Checkout");
    let checkout = checkout.expect("Checkout's address");
    call(tally, "gift: checkout", donor.get(&checkout)).await;
    let (status, _, _) = call(
        tally,
        "gift: pay",
        donor.post(&checkout).form(&[("outcome", "card")]),
    )
    .await;
    assert!(status < 400, "paid: {status}");
}

/// An event already delivered, sent again as Stripe does after a lost answer.
async fn redeliver(
    stripe: &reqwest::Client,
    base: &str,
    sandbox: &Sandbox,
    tally: &Shared,
    i: usize,
) {
    let events = sandbox.events();
    if events.is_empty() {
        return;
    }
    let payload = events[i % events.len()].to_string();
    let signature = sandbox.sign(&payload, dates::now());
    call(
        tally,
        "webhook (again)",
        stripe
            .post(format!("{base}/webhooks/stripe"))
            .header("content-type", "application/json")
            .header("stripe-signature", signature)
            .body(payload),
    )
    .await;
}

async fn sign_in_supporter(
    supporter: &reqwest::Client,
    base: &str,
    config: &Config,
    tally: &Shared,
) {
    let (_, form, _) = call(
        tally,
        "sign-in",
        supporter.get(format!("{base}/mon-espace")),
    )
    .await;
    let fields = [("csrf_token", csrf(&form)), ("email", SUPPORTER.to_owned())];
    let request = supporter
        .post(format!("{base}/mon-espace/connexion"))
        .form(&fields);
    assert_eq!(call(tally, "sign-in", request).await.0, 200);
    let outbox = config.data_dir.join("outbox");
    let link = 'found: {
        for _ in 0..200 {
            let emails = read_outbox(&outbox, 50).await.expect("outbox");
            let sign_in = emails.iter().find_map(|e| {
                let at = e.text.find("/mon-espace/connexion/")?;
                (e.to == SUPPORTER).then(|| {
                    e.text[at..]
                        .chars()
                        .take_while(|c| !c.is_whitespace())
                        .collect::<String>()
                })
            });
            if let Some(link) = sign_in {
                break 'found link;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no sign-in email");
    };
    let (_, page, _) = call(tally, "sign-in", supporter.get(format!("{base}{link}"))).await;
    let request = supporter
        .post(format!("{base}{link}"))
        .form(&[("csrf_token", csrf(&page))]);
    assert_eq!(call(tally, "sign-in", request).await.0, 303, "signed in");
}

async fn sign_in_staff(staff: &reqwest::Client, base: &str, db: &Db, tally: &Shared) {
    let email = Email::parse("equipe@example.org").expect("an email");
    accounts::create_staff(
        db,
        &email,
        Role::Admin,
        PASSWORD.to_owned(),
        None,
        dates::now(),
    )
    .await
    .expect("staff");
    let (_, page, _) = call(
        tally,
        "sign-in",
        staff.get(format!("{base}/admin/connexion")),
    )
    .await;
    let fields = [
        ("csrf_token", csrf(&page)),
        ("email", email.as_str().to_owned()),
        ("password", PASSWORD.to_owned()),
    ];
    let request = staff.post(format!("{base}/admin/connexion")).form(&fields);
    assert_eq!(
        call(tally, "sign-in", request).await.0,
        303,
        "staff signed in"
    );
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let at = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[at].as_secs_f64() * 1000.0
}

fn print_results(backend: &str, seconds: u64, tally: &Tally) {
    println!(
        "{backend:<10} {:<16} {:>8} {:>7} {:>8} {:>9} {:>9}",
        "kind", "requests", "errors", "per s", "p50 ms", "p99 ms"
    );
    let mut errors = 0;
    for (kind, answers) in &tally.by_kind {
        let failed = answers.iter().filter(|(status, _)| *status >= 400).count();
        errors += failed;
        let mut took: Vec<Duration> = answers.iter().map(|(_, took)| *took).collect();
        took.sort();
        println!(
            "{backend:<10} {kind:<16} {:>8} {failed:>7} {:>8.1} {:>9.2} {:>9.2}",
            answers.len(),
            answers.len() as f64 / seconds as f64,
            percentile(&took, 0.5),
            percentile(&took, 0.99),
        );
    }
    println!("{backend:<10} errors in all: {errors}");
    assert_eq!(errors, 0, "no request failed");
}
