//! The database out of reach: pages, the API and webhooks answer 503 with `Retry-After` (the
//! French page, or JSON), never 500, and everything works again once it is back, without
//! restarting Obole. PostgreSQL only: the test's database is closed to connections and its
//! connections are cut, as a restart of the server does, while the server itself keeps
//! serving the other tests.

use sqlx::{Connection, PgConnection};

use crate::helpers::{Content, TestApp, postgres_url, spawn_app};

const SLUG: &str = "le-sport-pour-grandir";

/// The test database's name and an admin connection to the server.
async fn admin(app: &TestApp) -> (String, PgConnection) {
    let name = url::Url::parse(app.database_url())
        .unwrap()
        .path()
        .trim_start_matches('/')
        .to_owned();
    let admin = PgConnection::connect(&postgres_url().unwrap())
        .await
        .unwrap();
    (name, admin)
}

async fn set_reachable(admin: &mut PgConnection, name: &str, reachable: bool) {
    sqlx::query(&format!(
        "ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS {reachable}"
    ))
    .execute(&mut *admin)
    .await
    .unwrap();
    if !reachable {
        sqlx::query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = $1 AND pid <> pg_backend_pid()",
        )
        .bind(name)
        .execute(&mut *admin)
        .await
        .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_database_is_a_503_with_retry_after_and_recovers_without_a_restart() {
    if postgres_url().is_none() {
        return;
    }
    let app = spawn_app(crate::helpers::Backend::Postgres, Content::Demo).await;
    // Not visited before: the page cache would serve a copy (which is the point of it).
    let page_path = format!("/campagnes/{SLUG}");
    assert_eq!(app.get("/readyz").await.status(), 200);
    let (name, mut admin) = admin(&app).await;
    set_reachable(&mut admin, &name, false).await;

    // A page: the French page, and when to come back.
    let page = app.get(&page_path).await;
    assert_eq!(page.status(), 503);
    assert_eq!(page.headers()["retry-after"], "10");
    let html = page.text().await.unwrap();
    assert!(html.contains("momentanément indisponible"), "{html}");

    // The API: JSON.
    let api = app.get("/api/v1/campaigns").await;
    assert_eq!(api.status(), 503);
    assert!(api.headers().contains_key("retry-after"));
    let body: serde_json::Value = api.json().await.unwrap();
    assert!(
        body["error"].is_object() || body["error"].is_string(),
        "{body}"
    );

    // A webhook: 503, so that Stripe delivers it again.
    let event = serde_json::json!({
        "id": "evt_outage", "object": "event", "type": "customer.created", "created": 1,
        "livemode": false, "pending_webhooks": 1, "data": { "object": {} },
    });
    assert_eq!(app.deliver(&event).await, 503);

    // Readiness says which dependency is down; liveness holds (nothing to restart).
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 503);
    let ready: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(ready["checks"]["database"], "unreachable", "{ready}");
    assert_eq!(app.get("/healthz").await.status(), 200);

    // Back: ready again within a second, and the same requests succeed, on the same Obole.
    set_reachable(&mut admin, &name, true).await;
    let back = std::time::Instant::now();
    while app.get("/readyz").await.status() != 200 {
        assert!(
            back.elapsed() < std::time::Duration::from_secs(1),
            "ready within a second of the database's return"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(app.get(&page_path).await.status(), 200);
    assert_eq!(app.get("/api/v1/campaigns").await.status(), 200);
    assert_eq!(app.deliver(&event).await, 200);
}

/// The same outage under load: visitors and Stripe keep coming while the database goes away
/// for a moment and comes back. Every answer is a success or a 503, never a 500; the events
/// refused meanwhile apply, once, when Stripe sends them again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_load_an_outage_answers_503s_only_and_what_was_refused_applies_after() {
    if postgres_url().is_none() {
        return;
    }
    let app =
        std::sync::Arc::new(spawn_app(crate::helpers::Backend::Postgres, Content::Demo).await);
    // Gifts whose events are held back, to be delivered during the outage.
    app.sandbox().set_auto_deliver(false);
    for i in 0..4 {
        let email = format!("pendant-la-coupure{i}@example.org");
        app.give(SLUG, &[("email", email.as_str())], "card").await;
    }
    let events = app.sandbox().events();
    let paths = [
        "/".to_owned(),
        format!("/campagnes/{SLUG}"),
        "/api/v1/campaigns".to_owned(),
        "/readyz".to_owned(),
    ];
    let running = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let mut load = tokio::task::JoinSet::new();
    for visitor in 0..3 {
        let (app, running, paths) = (app.clone(), running.clone(), paths.clone());
        load.spawn(async move {
            let mut statuses = Vec::new();
            let mut i = visitor;
            while running.load(std::sync::atomic::Ordering::Relaxed) {
                statuses.push(app.get(&paths[i % paths.len()]).await.status().as_u16());
                i += 1;
            }
            statuses
        });
    }
    let (name, mut admin) = admin(&app).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    set_reachable(&mut admin, &name, false).await;
    let mut refused = Vec::new();
    for event in &events {
        match app.deliver(event).await {
            200 => {}
            503 => refused.push(event.clone()),
            other => panic!("a webhook answered {other} during the outage"),
        }
    }
    assert!(!refused.is_empty(), "the outage was seen");
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    set_reachable(&mut admin, &name, true).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    running.store(false, std::sync::atomic::Ordering::Relaxed);
    let mut statuses = Vec::new();
    while let Some(seen) = load.join_next().await {
        statuses.extend(seen.unwrap());
    }
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 503),
        "only successes and 503s: {statuses:?}"
    );
    assert!(statuses.contains(&503), "the outage was seen by visitors");
    assert_eq!(statuses.last(), Some(&200), "and is over for them");

    // Stripe sends again what was refused: each applies once.
    for event in &refused {
        assert_eq!(app.deliver(event).await, 200, "{}", event["type"]);
    }
    for event in &events {
        assert_eq!(app.deliver(event).await, 200);
    }
    for i in 0..4 {
        let email = format!("pendant-la-coupure{i}@example.org");
        assert_eq!(
            app.donations_of(&email).await,
            [("paid".to_owned(), 3000, 0)]
        );
    }
    assert!(
        obole::store::counters::recount(&app.db)
            .await
            .unwrap()
            .all_exact()
    );
}
