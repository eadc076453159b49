//! Running Obole for real (issue 15), seen from outside: a load balancer draining an instance
//! on SIGTERM; the webhook secret replaced without refusing a delivery.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::binary::{Binary, SECRET, free_port, serve};
use crate::helpers::{Backend, Content, TestApp, TestDatabase, spawn_with, test_config};

dual_backend_tests!(
    on_sigterm_readiness_fails_first_and_requests_in_flight_finish,
    while_the_webhook_secret_changes_both_are_accepted_and_no_other,
);

/// SIGTERM: `/readyz` answers 503 at once while pages are still served for the drain
/// delay; a webhook whose body was still arriving is answered and applied; then the process
/// stops taking connections and exits cleanly.
async fn on_sigterm_readiness_fails_first_and_requests_in_flight_finish(backend: Backend) {
    let database = TestDatabase::create(backend).await;
    let dir = database.data_dir();
    let mut command = serve(database.url(), dir);
    command.env("SHUTDOWN_DRAIN_SECONDS", "2");
    let mut server = Binary::spawn(command, dir, free_port(), 0);
    server.ready().await;
    let client = reqwest::Client::new();
    let get = |path: &str| client.get(format!("{}{path}", server.address)).send();
    assert_eq!(get("/readyz").await.unwrap().status(), 200);

    // A webhook in flight: its headers and half its body sent before the signal.
    let payload = serde_json::json!({
        "id": "evt_drain", "object": "event", "type": "customer.created", "created": 1,
        "livemode": false, "pending_webhooks": 1, "data": { "object": {} },
    })
    .to_string();
    let signature = stripe_webhook::Webhook::generate_test_header(
        &payload,
        SECRET,
        Some(obole::domain::dates::now()),
    );
    let mut in_flight =
        tokio::net::TcpStream::connect(server.address.trim_start_matches("http://"))
            .await
            .unwrap();
    let (first_half, second_half) = payload.split_at(payload.len() / 2);
    in_flight
        .write_all(
            format!(
                "POST /webhooks/stripe HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
                 Stripe-Signature: {signature}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{first_half}",
                payload.len()
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;

    server.terminate();
    let signalled = Instant::now();
    let until_ready_fails = loop {
        let status = get("/readyz").await.unwrap().status();
        if status == 503 {
            break signalled.elapsed();
        }
        assert!(
            signalled.elapsed() < Duration::from_secs(1),
            "/readyz fails at once"
        );
    };
    let draining: serde_json::Value = get("/readyz").await.unwrap().json().await.unwrap();
    assert_eq!(draining["draining"], true, "{draining}");
    assert_eq!(draining["checks"]["database"], "ok", "{draining}");
    assert_eq!(
        get("/").await.unwrap().status(),
        200,
        "pages still served while draining"
    );
    assert!(until_ready_fails < Duration::from_secs(2));

    // The rest of the webhook's body, after the drain began: it is answered and applied.
    in_flight.write_all(second_half.as_bytes()).await.unwrap();
    let mut answer = String::new();
    in_flight.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    let exited = tokio::task::spawn_blocking(move || server.wait())
        .await
        .unwrap();
    assert!(exited.success(), "a clean exit: {exited}");
    assert!(
        signalled.elapsed() >= Duration::from_secs(2),
        "served through the drain delay"
    );
    let db = obole::startup::open_database(database.url()).await.unwrap();
    let applied: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM stripe_events WHERE id = 'evt_drain'")
            .fetch_one(db.pool())
            .await
            .unwrap();
    assert_eq!(applied, 1, "the webhook in flight was recorded");
    db.close().await;
}

/// `STRIPE_WEBHOOK_SECRET_PREVIOUS`: during a rotation, deliveries signed with the new secret
/// or the old one are applied; any other signature is still refused, and without the
/// setting the old secret is refused.
async fn while_the_webhook_secret_changes_both_are_accepted_and_no_other(backend: Backend) {
    const NEW: &str = "whsec_nouveau";
    const OLD: &str = "whsec_ancien";
    let database = TestDatabase::create(backend).await;
    let mut config = test_config(database.url(), Content::Empty);
    config.stripe_webhook_secret = Some(NEW.to_owned().into());
    config.stripe_webhook_secret_previous = Some(OLD.to_owned().into());
    let app = spawn_with(database, config).await;
    assert_eq!(post_signed(&app, "evt_nouveau", NEW).await, 200);
    assert_eq!(post_signed(&app, "evt_ancien", OLD).await, 200);
    assert_eq!(post_signed(&app, "evt_autre", "whsec_autre").await, 400);
    let recorded: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM stripe_events WHERE id IN ('evt_nouveau', 'evt_ancien', 'evt_autre')",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(recorded, 2);

    let database = TestDatabase::create(backend).await;
    let mut config = test_config(database.url(), Content::Empty);
    config.stripe_webhook_secret = Some(NEW.to_owned().into());
    let app = spawn_with(database, config).await;
    assert_eq!(post_signed(&app, "evt_nouveau", NEW).await, 200);
    assert_eq!(
        post_signed(&app, "evt_ancien", OLD).await,
        400,
        "rotation over"
    );
}

/// Posts an event `id` signed with `secret`; the status.
async fn post_signed(app: &TestApp, id: &str, secret: &str) -> u16 {
    let payload = serde_json::json!({
        "id": id, "object": "event", "type": "customer.created", "created": 1,
        "livemode": false, "pending_webhooks": 1, "data": { "object": {} },
    })
    .to_string();
    let signature = stripe_webhook::Webhook::generate_test_header(
        &payload,
        secret,
        Some(obole::domain::dates::now()),
    );
    app.client
        .post(app.url("/webhooks/stripe"))
        .header("content-type", "application/json")
        .header("stripe-signature", signature)
        .body(payload)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}
