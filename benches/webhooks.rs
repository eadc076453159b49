//! Webhook throughput: signed `checkout.session.completed` and `invoice.paid` events posted
//! to Obole over HTTP, with 10 % of them delivered twice, on SQLite and (when
//! `TEST_POSTGRES_URL` is set) PostgreSQL. Reports applied events per second beside a
//! baseline measured in the same run (`GET /healthz`, one database round trip), and checks
//! that no redelivery was counted twice.
//!
//! Run: `cargo bench --bench webhooks` (release build). `BENCH_EVENTS` (default 4000),
//! `BENCH_CONCURRENCY` (default 8) and `BENCH_BACKENDS` (default `sqlite,postgres`) tune the
//! run; the job worker runs in the server, as in `obole serve`, writing the thank-you and
//! welcome emails the events queue (to the file outbox), unless `BENCH_JOBS_WORKER=0`.

#[path = "support/scratch_postgres.rs"]
mod scratch_postgres;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::{SendRequest, handshake};
use hyper::{Method, Request, header};
use hyper_util::rt::TokioIo;
use obole::Application;
use obole::config::Config;
use obole::domain::gift::GiftForm;
use obole::domain::money::Currency;
use obole::store::counters;
use obole::store::pledges;
use scratch_postgres::ScratchPostgres;
use serde_json::Value;

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() {
    let events = env_number("BENCH_EVENTS", 4000);
    let concurrency = env_number("BENCH_CONCURRENCY", 8);
    println!(
        "webhook bench: {events} distinct events, 10 % redelivered, {concurrency} concurrent senders"
    );

    let backends = std::env::var("BENCH_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".into());
    let dir = tempfile::tempdir().expect("temp dir");
    if backends.contains("sqlite") {
        let sqlite_url = format!("sqlite://{}/bench.db", dir.path().display());
        run("SQLite", &sqlite_url, events, concurrency).await;
    }

    match std::env::var("TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty() && backends.contains("postgres"))
    {
        Some(admin_url) => {
            let scratch = ScratchPostgres::create(&admin_url).await;
            run("PostgreSQL", &scratch.url, events, concurrency).await;
            scratch.drop().await;
        }
        None => println!("PostgreSQL skipped: TEST_POSTGRES_URL is not set"),
    }
}

/// Each run has a `DATA_DIR` of its own: the sandbox keeps its state there, and a run must
/// not start from the previous one's.
fn config(database_url: &str, data_dir: &std::path::Path) -> Config {
    Config {
        checkout_rate_per_minute: 10_000,
        data_dir: data_dir.to_owned(),
        // `BENCH_JOBS_WORKER=0`: the webhook path alone, without the emails it queues being
        // written beside it.
        jobs_worker: std::env::var("BENCH_JOBS_WORKER").map_or(true, |v| v != "0"),
        ..Config::local(database_url)
    }
}

async fn run(backend: &str, database_url: &str, events: usize, concurrency: usize) {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let app = Application::build(config(database_url, data_dir.path()))
        .await
        .expect("Obole starts");
    let address = format!("127.0.0.1:{}", app.port());
    let base = format!("http://{address}");
    let db = app.db().clone();
    let sandbox = app.sandbox().expect("demo mode").clone();
    tokio::spawn(app.run_until(std::future::pending()));
    sandbox.set_auto_deliver(false);

    // One real one-off gift and one real monthly gift through the sandbox give event
    // templates of the exact shape Stripe (and the typed client) use.
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    give(&client, &base, "once", "3000").await;
    give(&client, &base, "monthly", "2500").await;
    let templates = sandbox.events();
    let completed = find(&templates, "checkout.session.completed", "payment");
    let invoice = find(&templates, "invoice.paid", "");
    for template in &templates {
        post(&client, &base, &sandbox, template).await;
    }

    // Many donors, as in real life: each one-off event is a new donor's checkout, each
    // instalment belongs to one of 500 monthly donors.
    let (one_off, monthly) = (
        pledges_of(&db, "once", events / 2 + 1).await,
        pledges_of(&db, "monthly", DONORS).await,
    );

    // Distinct events: half one-off checkouts, half monthly instalments; then 10 % again.
    let mut batch: Vec<Value> = (0..events)
        .map(|n| {
            let donor = n / 2 % DONORS;
            if n % 2 == 0 {
                variant_of(&completed, n, one_off[n / 2], donor)
            } else {
                variant_of(&invoice, n, monthly[donor], donor)
            }
        })
        .collect();
    let redelivered: Vec<Value> = batch.iter().step_by(10).cloned().collect();
    batch.extend(redelivered);
    // Spread the redeliveries among the first deliveries.
    let len = batch.len();
    for i in (0..len).step_by(7) {
        batch.swap(i, len - 1 - (i % len));
    }

    let before = counters::organisation(db.pool()).await.expect("counters");
    let baseline = healthz_rate(&address, concurrency).await;

    // Serialised and signed up front: the timing is the server's, not the sender's.
    let now = obole::domain::dates::now();
    let batch: Vec<(Bytes, String)> = batch
        .iter()
        .map(|event| {
            let payload = event.to_string();
            let signature = sandbox.sign(&payload, now);
            (Bytes::from(payload), signature)
        })
        .collect();
    let queue = Arc::new(batch);
    let next = Arc::new(AtomicUsize::new(0));
    let refused = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (queue, next, refused) = (queue.clone(), next.clone(), refused.clone());
            let address = address.clone();
            tokio::spawn(async move {
                let mut sender = Sender::open(&address).await;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((payload, signature)) = queue.get(i) else {
                        break;
                    };
                    // Like Stripe: a refused delivery is retried until acknowledged.
                    while sender.post_event(payload.clone(), signature).await != 200 {
                        refused.fetch_add(1, Ordering::Relaxed);
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.expect("worker");
    }
    let elapsed = started.elapsed().as_secs_f64();

    let after = counters::organisation(db.pool()).await.expect("counters");
    let added = after.donations - before.donations;
    let report = counters::recount(&db).await.expect("recount");
    let rate = events as f64 / elapsed;
    println!(
        "{backend:<10} {events} events + {} redeliveries in {elapsed:.2} s: {rate:.0} applied events/s \
         (baseline GET /healthz: {baseline:.0} req/s, ratio {:.2}); donations added: {added} (expected {events}); \
         retried after 5xx: {}; counters drift: {}",
        queue.len() - events,
        rate / baseline,
        refused.load(Ordering::Relaxed),
        !report.all_exact(),
    );
    assert_eq!(
        added, events as i64,
        "every distinct event once, no duplicate"
    );
    assert!(report.all_exact(), "counters equal the ledger");
}

/// Submits the donation form and pays by card on the sandbox's page.
async fn give(client: &reqwest::Client, base: &str, frequency: &str, amount: &str) {
    let slug = "le-sport-pour-grandir";
    let form = client
        .get(format!("{base}/campagnes/{slug}/don?frequence={frequency}"))
        .send()
        .await
        .unwrap();
    let html = form.text().await.unwrap();
    let token = html
        .split("name=\"csrf_token\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_owned();
    let fields = [
        ("csrf_token", token.as_str()),
        ("frequency", frequency),
        ("amount", amount),
        ("first_name", "Camille"),
        ("last_name", "Martin"),
        ("email", "bench@example.org"),
        ("address_line1", "1 rue de la Paix"),
        ("postal_code", "75002"),
        ("city", "Paris"),
        ("country", "FR"),
    ];
    let submitted = client
        .post(format!("{base}/campagnes/{slug}/don"))
        .form(&fields)
        .send()
        .await
        .unwrap();
    let checkout = submitted.headers()["location"].to_str().unwrap().to_owned();
    let paid = client
        .post(&checkout)
        .form(&[("outcome", "card")])
        .send()
        .await
        .unwrap();
    assert_eq!(paid.status(), 303, "paid in the sandbox");
}

fn find(events: &[Value], kind: &str, mode: &str) -> Value {
    events
        .iter()
        .find(|e| e["type"] == kind && (mode.is_empty() || e["data"]["object"]["mode"] == mode))
        .unwrap_or_else(|| panic!("a {kind} event"))
        .clone()
}

const DONORS: usize = 500;

/// `count` pledges of `frequency`, each from a different donor; returns their ids.
async fn pledges_of(db: &obole::db::Db, frequency: &str, count: usize) -> Vec<i64> {
    let campaign: i64 =
        sqlx::query_scalar("SELECT id FROM campaigns WHERE slug = 'le-sport-pour-grandir'")
            .fetch_one(db.pool())
            .await
            .expect("campaign");
    let mut ids = Vec::with_capacity(count);
    for k in 0..count {
        let form = GiftForm {
            frequency: Some(frequency.to_owned()),
            amount: Some("2500".to_owned()),
            first_name: Some("Camille".to_owned()),
            last_name: Some(format!("Donatrice {k}")),
            email: Some(format!("{frequency}-donor{k}@example.org")),
            address_line1: Some("1 rue de la Paix".to_owned()),
            postal_code: Some("75002".to_owned()),
            city: Some("Paris".to_owned()),
            country: Some("FR".to_owned()),
            ..GiftForm::default()
        };
        let gift = form.validate(Default::default()).expect("a valid gift");
        ids.push(
            pledges::insert(db.pool(), campaign, Currency::EUR, &gift, None, 0)
                .await
                .expect("pledge"),
        );
    }
    ids
}

/// The template with fresh Stripe ids, so it is a distinct event about a distinct payment,
/// for `pledge` (and, for an instalment, the donor's own subscription).
fn variant_of(template: &Value, n: usize, pledge: i64, donor: usize) -> Value {
    let mut event = template.clone();
    event["id"] = Value::from(format!("evt_bench_{n}"));
    let object = &mut event["data"]["object"];
    let id = object["id"].as_str().unwrap_or("obj").to_owned();
    object["id"] = Value::from(format!("{id}_{n}"));
    if object["object"] == "checkout.session" {
        object["customer"] = Value::from(format!("cus_bench_once_{n}"));
        object["payment_intent"] = Value::from(format!("pi_bench_{n}"));
        object["metadata"]["pledge_id"] = Value::from(pledge.to_string());
    } else {
        object["customer"] = Value::from(format!("cus_bench_{donor}"));
        let subscription = Value::from(format!("sub_bench_{donor}"));
        object["subscription"] = subscription.clone();
        let details = &mut object["parent"]["subscription_details"];
        details["subscription"] = subscription;
        details["metadata"]["pledge_id"] = Value::from(pledge.to_string());
        if let Some(payments) = object["payments"]["data"].as_array_mut() {
            for payment in payments {
                payment["payment"]["payment_intent"] = Value::from(format!("pi_bench_{n}"));
            }
        }
    }
    event
}

async fn post(
    client: &reqwest::Client,
    base: &str,
    sandbox: &obole::sandbox::Sandbox,
    event: &Value,
) -> u16 {
    let payload = event.to_string();
    let signature = sandbox.sign(&payload, obole::domain::dates::now());
    post_signed(client, base, &payload, &signature).await
}

async fn post_signed(client: &reqwest::Client, base: &str, payload: &str, signature: &str) -> u16 {
    client
        .post(format!("{base}/webhooks/stripe"))
        .header("content-type", "application/json")
        .header("stripe-signature", signature)
        .body(payload.to_owned())
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
}

/// A sender's own keep-alive HTTP/1.1 connection, as Stripe holds one: a bare client, so
/// that the load costs the two shared cores as little as possible.
struct Sender {
    requests: SendRequest<Full<Bytes>>,
    host: String,
}

impl Sender {
    async fn open(address: &str) -> Sender {
        let stream = tokio::net::TcpStream::connect(address)
            .await
            .expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        let (requests, connection) = handshake(TokioIo::new(stream)).await.expect("handshake");
        tokio::spawn(connection);
        Sender {
            requests,
            host: address.to_owned(),
        }
    }

    async fn send(&mut self, method: Method, path: &str, body: Bytes, signature: &str) -> u16 {
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, &self.host);
        if !signature.is_empty() {
            request = request
                .header(header::CONTENT_TYPE, "application/json")
                .header("stripe-signature", signature);
        }
        let request = request.body(Full::new(body)).expect("request");
        let response = self.requests.send_request(request).await.expect("response");
        let status = response.status().as_u16();
        response.into_body().collect().await.expect("body");
        status
    }

    async fn post_event(&mut self, payload: Bytes, signature: &str) -> u16 {
        self.send(Method::POST, "/webhooks/stripe", payload, signature)
            .await
    }
}

/// Requests per second of `GET /healthz` with the same senders and concurrency: the baseline.
async fn healthz_rate(address: &str, concurrency: usize) -> f64 {
    let per_worker = 1000;
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let address = address.to_owned();
            tokio::spawn(async move {
                let mut sender = Sender::open(&address).await;
                for _ in 0..per_worker {
                    let status = sender.send(Method::GET, "/healthz", Bytes::new(), "").await;
                    assert_eq!(status, 200);
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.expect("worker");
    }
    (per_worker * concurrency) as f64 / started.elapsed().as_secs_f64()
}
