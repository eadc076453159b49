//! Fault tests (issue 14): Obole killed mid-stream and mid-job, two instances on one
//! PostgreSQL, a SQLite file that turns read-only or whose disk fills up. Stripe's part is played by senders that
//! deliver signed events side by side and deliver again whatever was not acknowledged; each
//! test ends with the ledger, counters, receipts and emails exactly as one undisturbed
//! instance leaves them. The short forms run with `cargo test`; the long ones are ignored
//! (README, « Fault tests »).

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use obole::Application;
use obole::db::Db;
use obole::domain::dates;
use obole::store::{counters, jobs};
use secrecy::SecretString;
use serde_json::Value;

use crate::binary::{Binary, free_port, run_obole};
use crate::helpers::{
    Backend, Content, TestApp, TestDatabase, post_signed, postgres_url, spawn_with, test_config,
};

dual_backend_tests!(
    a_server_killed_mid_stream_and_mid_job_applies_and_sends_everything_once,
    a_write_whose_commit_failed_leaves_no_broken_connection_behind,
);

const SLUG: &str = "le-sport-pour-grandir";
/// The webhook endpoint's secret, the same for every instance and the senders.
const SECRET: &str = crate::binary::SECRET;
/// Every donor of these tests has an address here, apart from the demo's donors.
const DOMAIN: &str = "pannes.example";
const MONTH: i64 = 32 * 24 * 3600;

/// How big a run is.
#[derive(Debug, Clone, Copy)]
struct Scale {
    one_off: usize,
    monthly: usize,
    /// Concurrent senders, as Stripe opens several connections.
    senders: usize,
    /// Times the server is killed before a last round that runs to the end.
    kills: usize,
    /// Whether the test waits for the dead worker's leases to run out (2 minutes), rather
    /// than ending them itself.
    real_leases: bool,
}

/// What `cargo test` runs: each test within about ten seconds.
const SHORT: Scale = Scale {
    one_off: 60,
    monthly: 20,
    senders: 6,
    kills: 2,
    real_leases: false,
};

/// `cargo test --test api -- --ignored faults::`: more events and kills, the leases' real
/// length.
const LONG: Scale = Scale {
    one_off: 150,
    monthly: 50,
    senders: 12,
    kills: 5,
    real_leases: true,
};

// ---------------------------------------------------------------------------------------
// kill -9

async fn a_server_killed_mid_stream_and_mid_job_applies_and_sends_everything_once(
    backend: Backend,
) {
    killed_mid_stream_and_mid_job(backend, SHORT).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "long: a few minutes; `cargo test --test api -- --ignored faults::`"]
async fn long_kills_on_sqlite() {
    killed_mid_stream_and_mid_job(Backend::Sqlite, LONG).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "long: a few minutes; `cargo test --test api -- --ignored faults::`"]
async fn long_kills_on_postgres() {
    if postgres_url().is_some() {
        killed_mid_stream_and_mid_job(Backend::Postgres, LONG).await;
    }
}

/// The real `obole serve` receives the events from several senders and is killed (SIGKILL)
/// once part of them is acknowledged, when its worker has emails in hand; restarted on the
/// same database, it receives what was not acknowledged and again some of what was.
async fn killed_mid_stream_and_mid_job(backend: Backend, scale: Scale) {
    let started = Instant::now();
    let mut app = spawn_with_secret(backend).await;
    let events = Arc::new(gifts(&app, scale).await);
    let before = Before::read(&app.db).await;
    // The events wait in the sandbox's saved state, undelivered (delivery is off).
    app.stop().await;
    let db = Db::connect(app.database_url()).await.expect("database");
    let port = free_port();

    let mut queue: Vec<usize> = (0..events.len()).collect();
    let mut kills = Vec::new();
    for round in 0..=scale.kills {
        let server = Binary::start(app.database_url(), app.data_dir(), port, round).await;
        let acked = Arc::new(AtomicUsize::new(0));
        let total = queue.len();
        let streaming = tokio::spawn(stream(
            vec![server.address.clone()],
            events.clone(),
            queue,
            scale.senders,
            acked.clone(),
        ));
        if round == scale.kills {
            let streamed = streaming.await.expect("senders");
            assert!(
                streamed.unacknowledged.is_empty(),
                "a server left running acknowledges everything: {streamed:?}"
            );
            let deadline = if scale.real_leases {
                Duration::from_secs(obole::jobs::worker::LEASE_SECONDS as u64 + 60)
            } else {
                Duration::from_secs(30)
            };
            wait_for_jobs(&db, deadline).await;
            server.kill();
            break;
        }
        // Mid-stream: two fifths of this round acknowledged; mid-job: the worker holds
        // emails (as soon as it does, unless the stream ends first).
        wait_until(Duration::from_secs(60), || {
            acked.load(Ordering::Relaxed) * 5 >= total * 2 || streaming.is_finished()
        })
        .await;
        while !streaming.is_finished() && jobs_in_hand(&db).await.is_empty() {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        server.kill();
        let streamed = streaming.await.expect("senders");
        let in_hand = jobs_in_hand(&db).await;
        kills.push(Kill {
            unacknowledged: streamed.unacknowledged.len(),
            jobs_in_hand: in_hand,
            jobs_waiting: jobs_waiting(&db).await,
        });
        if !scale.real_leases {
            // The dead worker's claims would hold for their lease (2 minutes): end them, as
            // that much time would.
            end_leases(&db).await;
        }
        // Stripe delivers again what was not acknowledged; and, as it may, one in five of
        // what was.
        queue = streamed.unacknowledged;
        queue.extend(streamed.acknowledged.iter().step_by(5));
    }
    let interrupted: Vec<_> = kills
        .iter()
        .map(|k| (k.unacknowledged, k.jobs_in_hand.len(), k.jobs_waiting.len()))
        .collect();
    eprintln!(
        "faults ({backend:?}): {} events; (unacknowledged, jobs in hand, jobs waiting) at each \
         kill: {interrupted:?}; {:.1} s",
        events.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        kills.iter().any(|k| k.unacknowledged > 0),
        "a kill came mid-stream: {kills:?}"
    );
    assert!(
        kills.iter().any(|k| !k.jobs_in_hand.is_empty()),
        "a kill came while the worker held jobs: {kills:?}"
    );

    let outbox = app.data_dir().join("outbox");
    assert_as_one_instance_leaves_it(&db, &events, &before, &[&outbox]).await;
    // The emails queued or in hand at a kill went out after it, once (the outbox names
    // each by its job; the check above found each job once).
    for job in kills.iter().flat_map(|k| &k.jobs_waiting) {
        assert!(
            outbox.join(format!("{job:08}.eml")).exists(),
            "the email of job {job}, waiting when killed, was sent"
        );
    }
    let recount = run_obole(app.database_url(), app.data_dir(), &["recount"]);
    assert!(
        recount.contains("tous les compteurs sont justes"),
        "obole recount: {recount}"
    );
    if backend == Backend::Sqlite {
        assert_intact(&db).await;
    }
    db.close().await;
}

/// What a kill interrupted.
#[derive(Debug)]
struct Kill {
    unacknowledged: usize,
    jobs_in_hand: Vec<i64>,
    /// Jobs not done then (in hand or waiting to be).
    jobs_waiting: Vec<i64>,
}

// ---------------------------------------------------------------------------------------
// Scale-out

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_one_postgres_apply_and_send_what_one_would() {
    two_instances(SHORT).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "long: about a minute; `cargo test --test api -- --ignored faults::`"]
async fn long_two_instances_on_one_postgres() {
    two_instances(LONG).await;
}

/// Two instances on one PostgreSQL, sharing nothing but the database (each its own pool,
/// `DATA_DIR`, outbox and worker), both receive every event at the same moment.
async fn two_instances(scale: Scale) {
    if postgres_url().is_none() {
        return;
    }
    let started = Instant::now();
    let first = spawn_with_secret(Backend::Postgres).await;
    let events = Arc::new(gifts(&first, scale).await);
    let before = Before::read(&first.db).await;

    let second_dir = tempfile::tempdir().expect("temp dir");
    let mut config = secret_config(first.database_url());
    config.data_dir = second_dir.path().to_owned();
    let second = Application::build(config).await.expect("a second instance");
    let second_address = format!("http://127.0.0.1:{}", second.port());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(second.run_until(async {
        let _ = stopped.await;
    }));

    let streamed = stream(
        vec![first.address.clone(), second_address],
        events.clone(),
        (0..events.len()).collect(),
        scale.senders,
        Arc::default(),
    )
    .await;
    assert!(streamed.unacknowledged.is_empty(), "{streamed:?}");
    wait_for_jobs(&first.db, Duration::from_secs(30)).await;
    let _ = stop.send(());
    serving.await.expect("second instance").expect("served");

    let outboxes = [
        first.data_dir().join("outbox"),
        second_dir.path().join("outbox"),
    ];
    let sent: Vec<usize> = outboxes.iter().map(|dir| emails_in(dir).len()).collect();
    eprintln!(
        "faults (two instances): {} events, emails sent by each {sent:?}, {:.1} s",
        events.len(),
        started.elapsed().as_secs_f64()
    );
    let outboxes: Vec<&Path> = outboxes.iter().map(PathBuf::as_path).collect();
    assert_as_one_instance_leaves_it(&first.db, &events, &before, &outboxes).await;
}

// ---------------------------------------------------------------------------------------
// SQLite: the file turns read-only

/// A few gifts: what a read-only spell needs.
const FEW: Scale = Scale {
    one_off: 10,
    monthly: 4,
    senders: 4,
    kills: 0,
    real_leases: false,
};

/// The database file turns read-only under a running server (the immutable attribute, which
/// binds root too, and open files: each write then fails as on a read-only mount).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_file_turned_read_only_refuses_events_then_recovers_without_restart() {
    let app = spawn_with_secret(Backend::Sqlite).await;
    let database = app.data_dir().join("obole.db");
    let files = [database.with_extension("db-wal"), database];
    refuses_writes_then_recovers(&app, async || Frozen::new(&files)).await;
}

/// The disk under the database fills up (a small file system of its own, filled by another
/// file, the write-ahead log emptied first so that the next write needs room).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_under_sqlite_refuses_writes_then_recovers_without_restart() {
    let Some(disk) = SmallDisk::mount() else {
        return;
    };
    let dir = tempfile::tempdir_in(disk.path()).unwrap();
    let url = format!("sqlite://{}/obole.db", dir.path().display());
    let database = TestDatabase::Sqlite { url, dir };
    let config = secret_config(database.url());
    let app = spawn_with(database, config).await;
    refuses_writes_then_recovers(&app, async || Some(disk.fill(&app.db).await)).await;
    drop(app);
}

/// Under a running server, `fault()` leaves SQLite unable to write: webhooks are refused with
/// a 5xx at once, so that Stripe retries; pages that only read are still served and a page
/// that writes answers our French error page at once; the file stays intact; once the fault
/// is dropped, the same server applies the redelivered events, once. Nothing is checked
/// where `fault()` cannot be made here (`None`).
async fn refuses_writes_then_recovers<F>(app: &TestApp, fault: impl AsyncFnOnce() -> Option<F>) {
    let events = Arc::new(gifts(app, FEW).await);
    let before = Before::read(&app.db).await;
    let half = events.len() / 2;
    let target = vec![app.address.clone()];
    let streamed = stream(
        target.clone(),
        events.clone(),
        (0..half).collect(),
        4,
        Arc::default(),
    )
    .await;
    assert!(streamed.unacknowledged.is_empty(), "{streamed:?}");
    // Emails of the first half sent: no job is in hand when the fault begins.
    wait_for_jobs(&app.db, Duration::from_secs(30)).await;

    let Some(fault) = fault().await else {
        return;
    };
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    for event in &events[half..] {
        let started = Instant::now();
        let status = post_event(&client, &app.address, &event.to_string()).await;
        assert!(
            status.is_server_error(),
            "{} refused with a 5xx while the database cannot write, not {status}",
            event["type"]
        );
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "answered at once"
        );
    }
    assert_eq!(
        app.get("/").await.status(),
        200,
        "pages that read are served"
    );
    let started = Instant::now();
    let refused = app.submit_gift(SLUG, &[]).await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "answered at once"
    );
    assert_eq!(
        refused.status(),
        503,
        "a database that cannot write is unavailable"
    );
    assert!(refused.headers().contains_key("retry-after"));
    let page = refused.text().await.unwrap();
    assert!(page.contains("momentanément indisponible"), "{page}");
    assert!(page.contains("<html lang=\"fr\""), "our page: {page}");
    assert_intact(&app.db).await;

    drop(fault);
    // The same server, not restarted: Stripe's retries apply, once; a gift can be given.
    let mut again: Vec<usize> = (half..events.len()).collect();
    again.extend((0..half).step_by(3));
    let streamed = stream(target, events.clone(), again, 4, Arc::default()).await;
    assert!(streamed.unacknowledged.is_empty(), "{streamed:?}");
    assert_eq!(
        app.submit_gift(SLUG, &[]).await.status(),
        303,
        "the form works again"
    );
    wait_for_jobs(&app.db, Duration::from_secs(30)).await;
    assert_as_one_instance_leaves_it(&app.db, &events, &before, &[&app.data_dir().join("outbox")])
        .await;
    assert_intact(&app.db).await;
}

/// SQLite rolls back by itself a transaction whose `COMMIT` fails on an I/O error (a file
/// turned read-only, a full disk); sqlx still counts it open, its `ROLLBACK` then fails, and
/// every later `BEGIN` on that connection would be refused. Here the transaction is ended
/// under sqlx's feet the same way; the writes that follow must all work.
async fn a_write_whose_commit_failed_leaves_no_broken_connection_behind(backend: Backend) {
    let database = TestDatabase::create(backend).await;
    let db = obole::startup::open_database(database.url()).await.unwrap();
    let mut tx = db.begin_write().await.unwrap();
    sqlx::query("ROLLBACK").execute(&mut *tx).await.unwrap();
    // SQLite refuses the COMMIT (no transaction); PostgreSQL only warns.
    let _ = tx.commit().await;
    for _ in 0..20 {
        let mut tx = db.begin_write().await.expect("a write transaction begins");
        sqlx::query("SELECT 1").execute(&mut *tx).await.unwrap();
        tx.commit().await.expect("and commits");
    }
    db.close().await;
}

/// Files made immutable (`chattr +i`) until dropped.
struct Frozen(Vec<PathBuf>);

impl Frozen {
    /// `None` (said on stderr) where the attribute cannot be set: not root, or a file
    /// system without it.
    fn new(files: &[PathBuf]) -> Option<Frozen> {
        let mut frozen = Frozen(Vec::new());
        for file in files {
            let set = Command::new("chattr").arg("+i").arg(file).output();
            if !set.is_ok_and(|output| output.status.success()) {
                let _ = writeln!(
                    std::io::stderr(),
                    "\nread-only SQLite test skipped: `chattr +i` needs root and ext4, xfs or btrfs\n"
                );
                return None;
            }
            frozen.0.push(file.clone());
        }
        Some(frozen)
    }
}

impl Drop for Frozen {
    fn drop(&mut self) {
        for file in &self.0 {
            let unset = Command::new("chattr").arg("-i").arg(file).status();
            assert!(
                unset.is_ok_and(|s| s.success()),
                "chattr -i {}",
                file.display()
            );
        }
    }
}

/// A small file system of its own (tmpfs), unmounted when dropped.
struct SmallDisk(tempfile::TempDir);

/// A file that fills [`SmallDisk`] to its last byte, removed when dropped.
struct Filler(PathBuf);

impl SmallDisk {
    /// `None` (said on stderr) where it cannot be mounted: not root, or no right to mount.
    fn mount() -> Option<SmallDisk> {
        let point = tempfile::tempdir().unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=64m", "tmpfs"])
            .arg(point.path())
            .output();
        if !mounted.is_ok_and(|output| output.status.success()) {
            let _ = writeln!(
                std::io::stderr(),
                "\nfull-disk SQLite test skipped: mounting a tmpfs needs root\n"
            );
            return None;
        }
        Some(SmallDisk(point))
    }

    fn path(&self) -> &Path {
        self.0.path()
    }

    /// Empties the write-ahead log into the database file (its next write then needs new
    /// room), then fills what is left.
    async fn fill(&self, db: &Db) -> Filler {
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(db.pool())
            .await
            .unwrap();
        let path = self.path().join("remplissage");
        let mut file = std::fs::File::create(&path).unwrap();
        for chunk in [1 << 20, 4096, 1] {
            let block = vec![0u8; chunk];
            while file.write_all(&block).is_ok() {}
        }
        let _ = file.sync_all();
        Filler(path)
    }
}

impl Drop for Filler {
    fn drop(&mut self) {
        std::fs::remove_file(&self.0).expect("the filler removed");
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        // Lazily: a file the test left open must not keep the mount.
        let _ = Command::new("umount").arg("-l").arg(self.path()).status();
    }
}

// ---------------------------------------------------------------------------------------
// The gifts and their events

/// An instance in demonstration mode whose webhook endpoint has [`SECRET`].
async fn spawn_with_secret(backend: Backend) -> TestApp {
    let database = TestDatabase::create(backend).await;
    let config = secret_config(database.url());
    spawn_with(database, config).await
}

fn secret_config(database_url: &str) -> obole::config::Config {
    let mut config = test_config(database_url, Content::Demo);
    config.stripe_webhook_secret = Some(SecretString::from(SECRET));
    config
}

/// Gifts paid on the sandbox's checkout page with delivery off (one-off ones by card, one in
/// five by SEPA debit), then a month, so that the debits settle and each monthly gift
/// renews: the events Stripe owes Obole, in the order it made them.
async fn gifts(app: &TestApp, scale: Scale) -> Vec<Value> {
    app.sandbox().set_auto_deliver(false);
    let already = app.sandbox().events().len();
    for n in 0..scale.one_off + scale.monthly {
        let (frequency, who, outcome) = if n >= scale.one_off {
            ("monthly", "mensuel", "card")
        } else if n % 5 == 4 {
            ("once", "sepa", "sepa")
        } else {
            ("once", "ponctuel", "card")
        };
        let email = format!("{who}{n}@{DOMAIN}");
        let euros = (10 + n % 40).to_string();
        let fields = [
            ("frequency", frequency),
            ("amount", "other"),
            ("other_amount", euros.as_str()),
            ("email", email.as_str()),
        ];
        let (_, paid) = app.give(SLUG, &fields, outcome).await;
        assert_eq!(paid.status(), 303, "paid on the sandbox's page");
    }
    app.sandbox().advance_clock(MONTH).await;
    app.sandbox().events().split_off(already)
}

/// What the ledger held before the events.
struct Before {
    totals: counters::Totals,
    events: i64,
    receipts: i64,
}

impl Before {
    async fn read(db: &Db) -> Before {
        Before {
            totals: counters::organisation(db.pool()).await.unwrap(),
            events: count(db, "SELECT COUNT(*) FROM stripe_events").await,
            receipts: count(db, "SELECT COUNT(*) FROM tax_receipts").await,
        }
    }
}

/// What the events say: the money, the donations and donors, the gifts.
#[derive(Debug, Default)]
struct Expected {
    /// Donation amounts by donor.
    donations: BTreeMap<String, Vec<i64>>,
    /// Donors whose gift is one-off (a thank-you and a receipt each).
    one_off: BTreeSet<String>,
    /// Donors whose gift is recurring (a welcome each).
    recurring: BTreeSet<String>,
    distinct_events: usize,
}

impl Expected {
    fn of(events: &[Value]) -> Expected {
        let mut expected = Expected::default();
        let mut ids = BTreeSet::new();
        for event in events {
            ids.insert(event["id"].as_str().expect("an event id"));
            let object = &event["data"]["object"];
            match event["type"].as_str() {
                Some("checkout.session.completed" | "checkout.session.async_payment_succeeded")
                    if object["mode"] == "payment" && object["payment_status"] == "paid" =>
                {
                    let donor = donor_of(object);
                    expected.one_off.insert(donor.clone());
                    let amount = object["amount_total"].as_i64().expect("amount_total");
                    expected.donations.entry(donor).or_default().push(amount);
                }
                Some("invoice.paid") => {
                    let donor = donor_of(object);
                    expected.recurring.insert(donor.clone());
                    let amount = object["amount_paid"].as_i64().expect("amount_paid");
                    expected.donations.entry(donor).or_default().push(amount);
                }
                _ => {}
            }
        }
        expected.distinct_events = ids.len();
        for amounts in expected.donations.values_mut() {
            amounts.sort_unstable();
        }
        expected
    }

    fn raised_cents(&self) -> i64 {
        self.donations.values().flatten().sum()
    }

    fn donation_count(&self) -> usize {
        self.donations.values().map(Vec::len).sum()
    }
}

fn donor_of(object: &Value) -> String {
    object["customer_details"]["email"]
        .as_str()
        .or_else(|| object["customer_email"].as_str())
        .unwrap_or_else(|| panic!("a donor's email in {object}"))
        .to_owned()
}

// ---------------------------------------------------------------------------------------
// What one undisturbed instance leaves

/// The ledger, the counters, the receipts and the emails are exactly what the events call
/// for: nothing lost, nothing twice.
async fn assert_as_one_instance_leaves_it(
    db: &Db,
    events: &[Value],
    before: &Before,
    outboxes: &[&Path],
) {
    let expected = Expected::of(events);
    assert!(expected.one_off.len() > 1 && expected.recurring.len() > 1);

    // Every event recorded once; every donation once, at its amount.
    assert_eq!(
        count(db, "SELECT COUNT(*) FROM stripe_events").await - before.events,
        expected.distinct_events as i64,
        "each event recorded once"
    );
    let rows: Vec<(String, i64, String)> = sqlx::query_as(
        "SELECT s.email, d.amount_cents, d.status FROM donations d \
         JOIN supporters s ON s.id = d.supporter_id WHERE s.email LIKE $1 ORDER BY d.id",
    )
    .bind(format!("%@{DOMAIN}"))
    .fetch_all(db.pool())
    .await
    .unwrap();
    let mut donations: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for (email, amount, status) in rows {
        assert_eq!(status, "paid", "{email}");
        donations.entry(email).or_default().push(amount);
    }
    for amounts in donations.values_mut() {
        amounts.sort_unstable();
    }
    assert_eq!(
        donations, expected.donations,
        "the ledger is what the events say"
    );
    for column in [
        "stripe_checkout_session_id",
        "stripe_payment_intent_id",
        "stripe_invoice_id",
    ] {
        let doubled = count(
            db,
            &format!(
                "SELECT COUNT(*) FROM (SELECT {column} FROM donations WHERE {column} IS NOT NULL \
                 GROUP BY {column} HAVING COUNT(*) > 1) doubled"
            ),
        )
        .await;
        assert_eq!(doubled, 0, "no donation doubled ({column})");
    }
    let recurring = count(
        db,
        &format!(
            "SELECT COUNT(*) FROM recurring_gifts g JOIN supporters s ON s.id = g.supporter_id \
             WHERE s.email LIKE '%@{DOMAIN}' AND g.status = 'active'"
        ),
    )
    .await;
    assert_eq!(
        recurring,
        expected.recurring.len() as i64,
        "recurring gifts"
    );

    // The counters moved by exactly that, and agree with the ledger.
    let totals = counters::organisation(db.pool()).await.unwrap();
    assert_eq!(
        (
            totals.raised_cents - before.totals.raised_cents,
            totals.donations - before.totals.donations,
            totals.donors - before.totals.donors,
        ),
        (
            expected.raised_cents(),
            expected.donation_count() as i64,
            expected.donations.len() as i64,
        ),
        "the organisation's totals moved by what the events say"
    );
    let report = counters::recount(db).await.unwrap();
    assert!(report.all_exact(), "counters equal the ledger: {report:?}");

    // One receipt per one-off gift, numbered without a gap or a repeat.
    let sequences: Vec<i64> = sqlx::query_scalar(
        "SELECT CAST(sequence AS BIGINT) FROM tax_receipts ORDER BY year, sequence",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    assert_eq!(
        sequences.len() as i64 - before.receipts,
        expected.one_off.len() as i64,
        "one receipt per one-off gift"
    );
    assert_eq!(
        sequences,
        (1..=sequences.len() as i64).collect::<Vec<_>>(),
        "receipt numbers follow each other"
    );

    // Every job done; each email sent once, by one instance, to whom it is owed.
    let (waiting, _, dead) = jobs::counts(db.pool()).await.unwrap();
    assert_eq!((waiting, dead), (0, 0), "no job waiting or dead");
    let mut sent: BTreeMap<i64, Outboxed> = BTreeMap::new();
    for outbox in outboxes {
        for email in emails_in(outbox) {
            let job = email.job_id;
            assert!(
                sent.insert(job, email).is_none(),
                "job {job} sent by two instances"
            );
        }
    }
    let recorded: Vec<i64> = sqlx::query_scalar("SELECT job_id FROM emails_sent ORDER BY job_id")
        .fetch_all(db.pool())
        .await
        .unwrap();
    assert_eq!(
        sent.keys().copied().collect::<Vec<_>>(),
        recorded,
        "the outboxes hold the emails recorded as sent, once each"
    );
    let mut by_donor: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for email in sent.values() {
        by_donor.entry(&email.to).or_default().push(&email.subject);
    }
    for donor in expected.donations.keys() {
        let subjects = by_donor.get(donor.as_str()).cloned().unwrap_or_default();
        assert_eq!(subjects.len(), 1, "one email to {donor}: {subjects:?}");
        let kind = if expected.one_off.contains(donor) {
            "Merci"
        } else {
            "Bienvenue"
        };
        assert!(subjects[0].contains(kind), "{donor}: {subjects:?}");
    }
}

/// An email of an outbox, as its `.json` says.
#[derive(Debug, serde::Deserialize)]
struct Outboxed {
    job_id: i64,
    to: String,
    subject: String,
}

/// The emails of an outbox: one `.json` beside each `.eml`.
fn emails_in(outbox: &Path) -> Vec<Outboxed> {
    let Ok(entries) = std::fs::read_dir(outbox) else {
        return Vec::new();
    };
    let mut emails = Vec::new();
    for entry in entries {
        let path = entry.expect("outbox entry").path();
        if path.extension().is_some_and(|e| e == "json") {
            let email: Outboxed =
                serde_json::from_slice(&std::fs::read(&path).expect("outbox file"))
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert!(
                path.with_extension("eml").exists(),
                "{} has its message",
                path.display()
            );
            emails.push(email);
        }
    }
    emails
}

/// SQLite's own check of the file: every page and index consistent.
async fn assert_intact(db: &Db) {
    let check: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(db.pool())
        .await
        .unwrap();
    assert_eq!(check, ["ok"], "the database file is intact");
}

async fn count(db: &Db, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(db.pool())
        .await
        .expect(sql)
}

// ---------------------------------------------------------------------------------------
// Jobs

/// The jobs a worker claimed and has not finished, its lease still running.
async fn jobs_in_hand(db: &Db) -> Vec<i64> {
    sqlx::query_scalar(
        "SELECT id FROM jobs WHERE done_at IS NULL AND dead_at IS NULL AND locked_until >= $1 \
         ORDER BY id",
    )
    .bind(dates::now())
    .fetch_all(db.pool())
    .await
    .unwrap()
}

/// The jobs not done yet.
async fn jobs_waiting(db: &Db) -> Vec<i64> {
    sqlx::query_scalar("SELECT id FROM jobs WHERE done_at IS NULL AND dead_at IS NULL ORDER BY id")
        .fetch_all(db.pool())
        .await
        .unwrap()
}

/// Ends the claims of a worker that died, as the end of their lease would.
async fn end_leases(db: &Db) {
    sqlx::query(
        "UPDATE jobs SET locked_until = $1 WHERE done_at IS NULL AND dead_at IS NULL \
         AND locked_until >= $1",
    )
    .bind(dates::now() - 1)
    .execute(db.pool())
    .await
    .unwrap();
}

/// Waits until no job is waiting (all done or dead).
async fn wait_for_jobs(db: &Db, deadline: Duration) {
    let until = Instant::now() + deadline;
    loop {
        let (waiting, _, _) = jobs::counts(db.pool()).await.unwrap();
        if waiting == 0 {
            return;
        }
        if Instant::now() > until {
            let left: Vec<(i64, String, Option<String>)> = sqlx::query_as(
                "SELECT id, payload, last_error FROM jobs \
                 WHERE done_at IS NULL AND dead_at IS NULL ORDER BY id",
            )
            .fetch_all(db.pool())
            .await
            .unwrap();
            panic!("{waiting} jobs still waiting after {deadline:?}: {left:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn wait_until(deadline: Duration, mut done: impl FnMut() -> bool) {
    let until = Instant::now() + deadline;
    while !done() {
        assert!(Instant::now() < until, "not within {deadline:?}");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

// ---------------------------------------------------------------------------------------
// Stripe's side: senders

/// What became of a stream: indexes of the events acknowledged and of those not.
#[derive(Debug, Default)]
struct Streamed {
    acknowledged: Vec<usize>,
    unacknowledged: Vec<usize>,
}

/// How long a refused event is retried before the test gives up on it.
const RETRY_FOR: Duration = Duration::from_secs(60);

/// Stripe's side: `senders` connections post the events of `queue` (indexes into `events`)
/// to every target at once, each signed when it leaves, and retry one refused (5xx) until
/// every target acknowledged it (2xx), sooner than Stripe would. A target that does not
/// answer (killed) ends the sender: what it was sending and what was still queued stay
/// unacknowledged.
async fn stream(
    targets: Vec<String>,
    events: Arc<Vec<Value>>,
    queue: Vec<usize>,
    senders: usize,
    acked: Arc<AtomicUsize>,
) -> Streamed {
    let queue = Arc::new(Mutex::new(VecDeque::from(queue)));
    let result = Arc::new(Mutex::new(Streamed::default()));
    let tasks: Vec<_> = (0..senders)
        .map(|_| {
            let (targets, events, queue, result, acked) = (
                targets.clone(),
                events.clone(),
                queue.clone(),
                result.clone(),
                acked.clone(),
            );
            tokio::spawn(async move {
                let client = reqwest::Client::builder()
                    .timeout(Duration::from_secs(30))
                    .build()
                    .expect("client");
                loop {
                    let Some(index) = queue.lock().unwrap().pop_front() else {
                        return;
                    };
                    let payload = events[index].to_string();
                    let posts = targets
                        .iter()
                        .map(|target| deliver(&client, target, &payload, &events[index]));
                    let delivered = futures_util::future::join_all(posts).await;
                    let mut result = result.lock().unwrap();
                    if delivered.iter().all(|&ok| ok) {
                        result.acknowledged.push(index);
                        acked.fetch_add(1, Ordering::Relaxed);
                    } else {
                        result.unacknowledged.push(index);
                        result
                            .unacknowledged
                            .extend(queue.lock().unwrap().drain(..));
                        return;
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("a sender");
    }
    let mut result = std::mem::take(&mut *result.lock().unwrap());
    result.acknowledged.sort_unstable();
    result.unacknowledged.sort_unstable();
    result
}

/// Posts one event until acknowledged: `true`, or `false` if the server does not answer.
async fn deliver(client: &reqwest::Client, target: &str, payload: &str, event: &Value) -> bool {
    let started = Instant::now();
    loop {
        let Ok(status) = try_post_event(client, target, payload).await else {
            return false;
        };
        if status.is_success() {
            return true;
        }
        assert!(
            status.is_server_error(),
            "{} {}: {status}",
            event["type"],
            event["id"]
        );
        assert!(
            started.elapsed() < RETRY_FOR,
            "{} {} still refused ({status}) after {RETRY_FOR:?}",
            event["type"],
            event["id"]
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Posts one event, signed with [`SECRET`] as it leaves: the answer's status.
async fn try_post_event(
    client: &reqwest::Client,
    target: &str,
    payload: &str,
) -> reqwest::Result<reqwest::StatusCode> {
    post_signed(client, target, payload, SECRET).await
}

async fn post_event(client: &reqwest::Client, target: &str, payload: &str) -> reqwest::StatusCode {
    try_post_event(client, target, payload)
        .await
        .expect("Obole answers")
}
