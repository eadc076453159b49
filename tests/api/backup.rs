//! Backups (issue 15): `obole backup` taken while webhooks stream in, `obole restore` into a
//! fresh `DATA_DIR`: the copy is the ledger of one instant (its counters exact, its files
//! there), and once Stripe's redeliveries reach the restored instance, its ledger and
//! counters are the original's.

use std::sync::Arc;

use obole::store::counters;
use secrecy::SecretString;
use serde_json::Value;

use crate::binary::{SECRET, obole};
use crate::helpers::{
    Backend, Content, TestApp, TestDatabase, post_signed, spawn_app, spawn_with, test_config,
};

const SLUG: &str = "le-sport-pour-grandir";

dual_backend_tests!(what_backup_and_restore_cannot_do_they_refuse_and_say_why);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_under_webhook_traffic_restores_an_exact_ledger_that_redeliveries_complete() {
    let original = spawn_with_secret().await;
    // Gifts whose events are held back, to stream them while the backup is taken.
    original.sandbox().set_auto_deliver(false);
    for i in 0..24 {
        let email = format!("sauvegarde{i}@example.org");
        original
            .give(SLUG, &[("email", email.as_str())], "card")
            .await;
    }
    let events = original.sandbox().events();
    assert!(events.len() >= 24, "{} events", events.len());

    let streaming = tokio::spawn(deliver_all(original.address.clone(), events.clone()));
    let backup_dir = tempfile::tempdir().unwrap();
    let backup = backup_dir.path().join("sauvegarde");
    let (url, data_dir) = (
        original.database_url().to_owned(),
        original.data_dir().to_owned(),
    );
    let target = backup.clone();
    let output = tokio::task::spawn_blocking(move || {
        obole(&url, &data_dir)
            .args(["backup", &target.display().to_string()])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("sauvegarde faite"));
    streaming.await.unwrap();
    assert!(backup.join("obole.db").is_file());
    assert!(
        backup.join("files/stripe-sandbox.json").is_file(),
        "DATA_DIR's files are copied"
    );
    assert!(
        !backup.join("files/obole.db").exists(),
        "the live file is not"
    );

    // Restored into a fresh DATA_DIR, by the command.
    let fresh = TestDatabase::create(Backend::Sqlite).await;
    let output = obole(fresh.url(), fresh.data_dir())
        .args(["restore", &backup.display().to_string()])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // Restoring over a database is refused, and changes nothing.
    let again = obole(fresh.url(), fresh.data_dir())
        .args(["restore", &backup.display().to_string()])
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("existe déjà"));

    // The copy is the ledger of one instant: its counters match its donations exactly.
    let copy = obole::startup::open_database(fresh.url()).await.unwrap();
    let report = counters::recount(&copy).await.unwrap();
    assert!(report.all_exact(), "{report:?}");
    let copied = ledger(&copy).await;
    copy.close().await;
    let complete = ledger(&original.db).await;
    assert!(
        copied.iter().all(|row| complete.contains(row)),
        "every donation of the copy is one of the original's"
    );

    // The restored instance, as Stripe redelivers everything: the original's ledger.
    let config = secret_config(fresh.url(), Content::Empty);
    let restored = spawn_with(fresh, config).await;
    deliver_all(restored.address.clone(), events).await;
    assert_eq!(ledger(&restored.db).await, complete);
    assert_eq!(
        counters::organisation(restored.db.pool()).await.unwrap(),
        counters::organisation(original.db.pool()).await.unwrap()
    );
    assert!(counters::recount(&restored.db).await.unwrap().all_exact());
}

/// A donation without its row id: checkout session, payment intent, campaign, amount,
/// refunded, status.
type Donation = (Option<String>, Option<String>, i64, i64, i64, String);

/// Every donation, sorted.
async fn ledger(db: &obole::db::Db) -> Vec<Donation> {
    let mut rows: Vec<Donation> = sqlx::query_as(
        "SELECT stripe_checkout_session_id, stripe_payment_intent_id, campaign_id, \
         amount_cents, refunded_cents, status FROM donations",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    rows.sort();
    rows
}

/// Delivers each event, signed with [`SECRET`], four at a time, until every one is
/// acknowledged (as Stripe retries).
async fn deliver_all(address: String, events: Vec<Value>) {
    let client = reqwest::Client::new();
    let queue = Arc::new(std::sync::Mutex::new(events));
    let mut senders = tokio::task::JoinSet::new();
    for _ in 0..4 {
        let (client, queue, address) = (client.clone(), queue.clone(), address.clone());
        senders.spawn(async move {
            loop {
                let Some(event) = queue.lock().unwrap().pop() else {
                    return;
                };
                let payload = event.to_string();
                loop {
                    let sent = post_signed(&client, &address, &payload, SECRET).await;
                    if sent.is_ok_and(|status| status.is_success()) {
                        break;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            }
        });
    }
    while senders.join_next().await.is_some() {}
}

async fn spawn_with_secret() -> TestApp {
    let database = TestDatabase::create(Backend::Sqlite).await;
    let config = secret_config(database.url(), Content::Demo);
    spawn_with(database, config).await
}

/// Demonstration mode whose webhook endpoint has [`SECRET`].
fn secret_config(database_url: &str, content: Content) -> obole::config::Config {
    let mut config = test_config(database_url, content);
    config.stripe_webhook_secret = Some(SecretString::from(SECRET));
    config
}

/// A backup never goes into a folder that holds something; on PostgreSQL, whose database
/// pg_dump saves, it copies the files only when told to, and a restore is refused.
async fn what_backup_and_restore_cannot_do_they_refuse_and_say_why(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let (url, data_dir) = (app.database_url(), app.data_dir());
    let run = |args: &[&str]| obole(url, data_dir).args(args).output().unwrap();
    let folder = tempfile::tempdir().unwrap();
    let path = |name: &str| folder.path().join(name).display().to_string();

    std::fs::create_dir(folder.path().join("pleine")).unwrap();
    std::fs::write(folder.path().join("pleine/autre.txt"), "à garder").unwrap();
    let refused = run(&["backup", "--files-only", &path("pleine")]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("n'est pas vide"));
    assert_eq!(
        std::fs::read_dir(folder.path().join("pleine"))
            .unwrap()
            .count(),
        1,
        "nothing written into it"
    );

    match backend {
        Backend::Sqlite => {
            let done = run(&["backup", &path("sauvegarde")]);
            assert!(done.status.success());
            assert!(folder.path().join("sauvegarde/obole.db").is_file());
        }
        Backend::Postgres => {
            let refused = run(&["backup", &path("sauvegarde")]);
            assert!(!refused.status.success());
            assert!(String::from_utf8_lossy(&refused.stderr).contains("pg_dump"));
            let files = run(&["backup", "--files-only", &path("fichiers")]);
            assert!(
                files.status.success(),
                "{}",
                String::from_utf8_lossy(&files.stderr)
            );
            let pictures = folder.path().join("fichiers/files/medias");
            assert!(
                std::fs::read_dir(&pictures).is_ok_and(|mut files| files.next().is_some()),
                "the demo's signature picture is copied"
            );
            assert!(!folder.path().join("fichiers/obole.db").exists());
            let restore = run(&["restore", &path("fichiers")]);
            assert!(!restore.status.success());
            assert!(String::from_utf8_lossy(&restore.stderr).contains("SQLite"));
        }
    }
}
