//! Running Obole for real (issue 15), seen from outside: a load balancer draining an instance
//! on SIGTERM; the webhook secret replaced without refusing a delivery; Prometheus metrics;
//! JSON logs.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::binary::{Binary, SECRET, free_port, serve};
use crate::helpers::{
    Backend, Content, TestApp, TestDatabase, form_token, post_signed, spawn_app, spawn_with,
    test_config,
};

dual_backend_tests!(
    on_sigterm_readiness_fails_first_and_requests_in_flight_finish,
    while_the_webhook_secret_changes_both_are_accepted_and_no_other,
    metrics_need_their_token_and_move_with_a_gift,
    json_logs_carry_each_request_s_id_and_no_personal_data,
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
    assert_eq!(post_event(&app, "evt_nouveau", NEW).await, 200);
    assert_eq!(post_event(&app, "evt_ancien", OLD).await, 200);
    assert_eq!(post_event(&app, "evt_autre", "whsec_autre").await, 400);
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
    assert_eq!(post_event(&app, "evt_nouveau", NEW).await, 200);
    assert_eq!(
        post_event(&app, "evt_ancien", OLD).await,
        400,
        "rotation over"
    );
}

/// Posts an event `id` signed with `secret`; the status.
async fn post_event(app: &TestApp, id: &str, secret: &str) -> u16 {
    let payload = serde_json::json!({
        "id": id, "object": "event", "type": "customer.created", "created": 1,
        "livemode": false, "pending_webhooks": 1, "data": { "object": {} },
    })
    .to_string();
    post_signed(&app.client, &app.address, &payload, secret)
        .await
        .unwrap()
        .as_u16()
}

/// `/metrics` is not served without `METRICS_TOKEN`, refuses a missing or wrong token, and
/// its figures move with a gift: the ledger's exactly, the process's counters (shared by the
/// tests running beside this one) at least by it.
async fn metrics_need_their_token_and_move_with_a_gift(backend: Backend) {
    let app = spawn_app(backend, Content::Empty).await;
    assert_eq!(
        app.get("/metrics").await.status(),
        404,
        "no token, no metrics"
    );

    let database = TestDatabase::create(backend).await;
    let mut config = test_config(database.url(), Content::Demo);
    config.metrics_token = Some("jeton-de-test".to_owned().into());
    let app = spawn_with(database, config).await;
    assert_eq!(app.get("/metrics").await.status(), 401);
    let wrong = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth("jeton-faux")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);

    let before = scrape(&app).await;
    app.give(
        "le-sport-pour-grandir",
        &[("email", "mesure@example.org")],
        "card",
    )
    .await;
    app.settle_webhooks().await;
    let until = Instant::now() + Duration::from_secs(10);
    let after = loop {
        let after = scrape(&app).await;
        if sample(&after, "obole_emails_sent_total", &[])
            > sample(&before, "obole_emails_sent_total", &[])
        {
            break after;
        }
        assert!(Instant::now() < until, "the thank-you email is counted");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let moved = |name: &str, labels: &[(&str, &str)]| {
        sample(&after, name, labels) - sample(&before, name, labels)
    };
    assert_eq!(moved("obole_donations", &[]), 1.0);
    assert_eq!(moved("obole_donations_amount_cents", &[]), 3000.0);
    assert_eq!(moved("obole_donors", &[]), 1.0);
    assert!(
        moved(
            "obole_webhook_events_total",
            &[
                ("type", "checkout.session.completed"),
                ("outcome", "applied")
            ]
        ) >= 1.0
    );
    assert!(
        moved(
            "obole_http_requests_total",
            &[
                ("route", "/campagnes/{slug}/don"),
                ("method", "POST"),
                ("status", "303")
            ]
        ) >= 1.0
    );
    assert!(
        moved(
            "obole_http_request_duration_seconds_count",
            &[("route", "/campagnes/{slug}/don"), ("method", "POST")]
        ) >= 1.0
    );
    assert_eq!(sample(&after, "obole_database_up", &[]), 1.0);
    assert!(
        after.contains("obole_db_pool_connections{state=\"idle\"}"),
        "{after}"
    );
    assert!(after.contains("obole_jobs{state=\"dead\"}"), "{after}");
}

/// The exposition text, with the token.
async fn scrape(app: &TestApp) -> String {
    let response = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth("jeton-de-test")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    response.text().await.unwrap()
}

/// The sum of the samples of `name` that carry every one of `labels` (0 when none does).
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|line| {
            line.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
        })
        .filter(|line| {
            labels
                .iter()
                .all(|(key, value)| line.contains(&format!("{key}=\"{value}\"")))
        })
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// `LOG_FORMAT=json`: every line on stderr is a JSON object; a request's lines carry its id
/// (a proxy's when sound, one made up otherwise), returned in `X-Request-Id`; a whole gift,
/// from the form to the thank-you email, leaves neither the donor's email nor name in them.
async fn json_logs_carry_each_request_s_id_and_no_personal_data(backend: Backend) {
    let database = TestDatabase::create(backend).await;
    let dir = database.data_dir();
    let mut command = serve(database.url(), dir);
    command.env("LOG_FORMAT", "json").env("RUST_LOG", "info");
    let mut server = Binary::spawn(command, dir, free_port(), 0);
    server.ready().await;
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let url = |path: &str| format!("{}{path}", server.address);

    let home = client
        .get(url("/"))
        .header("x-request-id", "proxy-id-42")
        .send()
        .await
        .unwrap();
    assert_eq!(home.headers()["x-request-id"], "proxy-id-42");
    let made_up = client
        .get(url("/"))
        .header("x-request-id", "pas un identifiant")
        .send()
        .await
        .unwrap();
    let id = made_up.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()),
        "{id}"
    );

    // A gift, paid on the sandbox, thanked by email.
    let form = client
        .get(url("/campagnes/le-sport-pour-grandir/don"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = form_token(&form);
    let submitted = client
        .post(url("/campagnes/le-sport-pour-grandir/don"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("frequency", "once"),
            ("amount", "3000"),
            ("first_name", "Zéphyrine"),
            ("last_name", "Quelconque"),
            ("email", "journal.prive@example.org"),
            ("address_line1", "3 rue des Lilas"),
            ("postal_code", "69003"),
            ("city", "Lyon"),
            ("country", "FR"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(submitted.status(), 303);
    let checkout = submitted.headers()["location"].to_str().unwrap().to_owned();
    let paid = client
        .post(&checkout)
        .form(&[("outcome", "card")])
        .send()
        .await
        .unwrap();
    assert!(paid.status().is_redirection(), "{}", paid.status());
    let outbox = dir.join("outbox");
    let until = Instant::now() + Duration::from_secs(20);
    while std::fs::read_dir(&outbox).map_or(0, |files| files.count()) == 0 {
        assert!(Instant::now() < until, "the thank-you email is written");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    server.terminate();
    let log = server.log();
    let lines: Vec<serde_json::Value> = log
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    let of = |id: &str| lines.iter().filter(|line| line["span"]["id"] == id).count();
    assert!(of("proxy-id-42") >= 1, "{log}");
    assert!(of(&id) >= 1, "{log}");
    assert!(
        lines
            .iter()
            .any(|line| line["route"] == "/campagnes/{slug}/don" && line["status"] == 303),
        "the access log names the route's template: {log}"
    );
    for personal in ["journal.prive", "Zéphyrine", "Quelconque"] {
        assert!(!log.contains(personal), "{personal} in the logs: {log}");
    }
}
