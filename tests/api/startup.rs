//! Start-up: demo content only in demo mode and only once; clear errors for a database that
//! cannot be opened.

use std::process::Command;

use obole::seed;
use obole::store::counters;
use secrecy::SecretString;

use crate::binary::{Binary, free_port, serve};
use crate::helpers::fixtures;
use crate::helpers::{Backend, Content, TestDatabase, spawn_app, spawn_with, test_config};

dual_backend_tests!(
    seeding_is_idempotent,
    demo_content_is_never_seeded_with_stripe_keys,
    stripe_unreachable_gives_the_form_back_and_leaves_no_open_pledge,
    instances_started_together_on_a_fresh_database_all_serve_and_seed_once,
);

async fn project_count(db: &obole::db::Db) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM projects")
        .fetch_one(db.pool())
        .await
        .unwrap()
}

async fn seeding_is_idempotent(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    assert_eq!(project_count(&app.db).await, 4);
    let totals = counters::organisation(app.db.pool()).await.unwrap();

    let again = seed::seed_demo(&app.db).await.unwrap();
    assert!(again.projects_created.is_empty());
    assert_eq!(again.donations_created, 0);
    assert_eq!(project_count(&app.db).await, 4);
    assert_eq!(counters::organisation(app.db.pool()).await.unwrap(), totals);
}

/// Two `obole serve` processes started at the same moment on one fresh database, five times:
/// both serve (the demonstration content's seeding raced, and one of them exited on a broken
/// unique key), and the database holds what one instance alone seeds.
async fn instances_started_together_on_a_fresh_database_all_serve_and_seed_once(backend: Backend) {
    let reference = TestDatabase::create(backend).await;
    let alone = obole::startup::open_database(reference.url())
        .await
        .unwrap();
    seed::seed_demo(&alone).await.unwrap();
    let seeded_once = counters::organisation(alone.pool()).await.unwrap();
    alone.close().await;

    for round in 0..5 {
        let database = TestDatabase::create(backend).await;
        let dir = database.data_dir();
        let port = free_port();
        let other_port = std::iter::repeat_with(free_port)
            .find(|p| *p != port)
            .unwrap();
        let mut first = Binary::spawn(serve(database.url(), dir), dir, port, 2 * round);
        let mut second = Binary::spawn(serve(database.url(), dir), dir, other_port, 2 * round + 1);
        first.ready().await;
        second.ready().await;
        for instance in [&first, &second] {
            let home = reqwest::get(&instance.address).await.unwrap();
            assert_eq!(home.status(), 200, "round {round}");
        }
        let db = obole::startup::open_database(database.url()).await.unwrap();
        assert_eq!(project_count(&db).await, 4, "round {round}");
        assert_eq!(
            counters::organisation(db.pool()).await.unwrap(),
            seeded_once,
            "round {round}: seeded once"
        );
        let organisations: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM organisation_settings WHERE name <> ''")
                .fetch_one(db.pool())
                .await
                .unwrap();
        assert_eq!(organisations, 1, "round {round}");
        db.close().await;
    }
}

async fn demo_content_is_never_seeded_with_stripe_keys(backend: Backend) {
    let database = TestDatabase::create(backend).await;
    let mut config = test_config(database.url(), Content::Demo);
    config.stripe_secret_key = Some(SecretString::from("sk_live_not_a_real_key"));
    config.stripe_webhook_secret = Some(SecretString::from("whsec_not_a_real_secret"));
    let app = spawn_with(database, config).await;
    assert_eq!(
        project_count(&app.db).await,
        0,
        "a production ledger gets no demo content"
    );
    let home = app.page("/").await;
    assert!(
        !home.contains("Mode démonstration"),
        "no demo banner with real keys"
    );
    assert!(home.contains("Aucune campagne"));
    assert_eq!(
        app.get("/sandbox").await.status(),
        404,
        "the sandbox is never mounted with keys"
    );
    assert_eq!(
        app.get("/sandbox/stripe/v1/checkout/sessions/cs_x")
            .await
            .status(),
        404
    );
}

/// Runs the real binary and returns (success, stderr).
fn run_obole(database_url: &str, args: &[&str]) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_obole"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("PORT", "0")
        .env("RUST_LOG", "off")
        .env_remove("STRIPE_SECRET_KEY")
        .output()
        .expect("obole runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn unreachable_postgres_fails_with_one_line_naming_the_masked_url() {
    let (ok, stderr) = run_obole(
        "postgres://obole:tres-secret@127.0.0.1:1/obole",
        &["migrate"],
    );
    assert!(!ok, "non-zero exit");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line: {stderr}");
    assert!(
        lines[0].contains("postgres://obole:***@127.0.0.1:1/obole"),
        "{stderr}"
    );
    assert!(!stderr.contains("tres-secret"), "password masked");
}

#[test]
fn uncreatable_sqlite_file_fails_with_one_line() {
    let (ok, stderr) = run_obole("sqlite:///proc/obole-cannot-exist/obole.db", &["serve"]);
    assert!(!ok, "non-zero exit");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line: {stderr}");
    assert!(
        lines[0].contains("sqlite:///proc/obole-cannot-exist/obole.db"),
        "{stderr}"
    );
}

#[test]
fn migrate_and_seed_commands_work_on_a_new_file() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/nested/obole.db", dir.path().display());
    let (ok, stderr) = run_obole(&url, &["migrate"]);
    assert!(ok, "{stderr}");
    let (ok, stderr) = run_obole(&url, &["seed"]);
    assert!(ok, "{stderr}");
    let (ok, stderr) = run_obole(&url, &["recount"]);
    assert!(ok, "{stderr}");
    assert!(
        dir.path().join("nested/obole.db").exists(),
        "folder and file created"
    );
}

/// Runs `obole create-staff` with `password` on its standard input: (success, stderr).
fn create_staff(database_url: &str, role: &str, password: &str) -> (bool, String) {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_obole"))
        .args([
            "create-staff",
            "--email",
            "admin@example.org",
            "--role",
            role,
        ])
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "off")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("obole runs");
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "{password}").unwrap();
    drop(stdin);
    let output = child.wait_with_output().unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn create_staff_takes_its_password_from_standard_input_and_hashes_it() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/obole.db", dir.path().display());
    let (ok, stderr) = create_staff(&url, "admin", "court");
    assert!(!ok);
    assert!(stderr.contains("au moins 12 caractères"), "{stderr}");
    let (ok, stderr) = create_staff(&url, "chef", "une phrase assez longue");
    assert!(!ok);
    assert!(stderr.contains("rôle inconnu"), "{stderr}");
    let (ok, stderr) = create_staff(&url, "admin", "une phrase assez longue");
    assert!(ok, "{stderr}");
    let (ok, stderr) = create_staff(&url, "admin", "une phrase assez longue");
    assert!(!ok);
    assert!(stderr.contains("existe déjà"), "{stderr}");
    // Only a salted argon2id hash is kept, and the creation is in the journal.
    // The database file and its write-ahead log, where recent pages may still be.
    let mut bytes = std::fs::read(dir.path().join("obole.db")).unwrap();
    bytes.extend(std::fs::read(dir.path().join("obole.db-wal")).unwrap_or_default());
    let text = String::from_utf8_lossy(&bytes);
    assert!(!text.contains("une phrase assez longue"));
    assert!(text.contains("$argon2id$"));
    assert!(text.contains("staff.create"));
}

/// With a real key and Stripe out of reach, the donor gets a French 503 and the form with
/// their entries; the pledge that could get no checkout is failed, not left `open`.
async fn stripe_unreachable_gives_the_form_back_and_leaves_no_open_pledge(backend: Backend) {
    let database = TestDatabase::create(backend).await;
    let mut config = test_config(database.url(), Content::Empty);
    config.stripe_secret_key = Some(SecretString::from("sk_test_not_a_real_key"));
    config.stripe_webhook_secret = Some(SecretString::from("whsec_not_a_real_secret"));
    // Nothing listens on the discard port of the loopback.
    config.stripe_api_base = Some("http://127.0.0.1:9/".to_owned());
    let app = spawn_with(database, config).await;
    let project = fixtures::insert_project(&app.db, "peps", "PEPS").await;
    fixtures::insert_campaign(&app.db, project, "ete", "published", 100_000, 10).await;
    let response = app
        .submit_gift("ete", &[("first_name", "Héloïse"), ("amount", "4000")])
        .await;
    assert_eq!(response.status(), 503);
    let page = response.text().await.unwrap();
    assert!(
        page.contains("Le service de paiement ne répond pas"),
        "{page}"
    );
    assert!(page.contains("value=\"Héloïse\""), "entries kept");
    let statuses: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT status, stripe_checkout_session_id FROM pledges")
            .fetch_all(app.db.pool())
            .await
            .unwrap();
    assert_eq!(statuses, vec![("failed".to_owned(), None)]);
}
