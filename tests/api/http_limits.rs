//! What the server grants a client: a body that never arrives or trickles in gets our 408,
//! headers that never end close the connection, an over-long address or oversized headers
//! get our 414 and 431 (all with the security headers), and connections beyond the cap wait.
//! Timeouts are shortened to a second; timings are only asserted with generous bounds.

use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{Backend, Content, TestApp, TestDatabase, spawn_with, test_config};

dual_backend_tests!(
    a_body_that_never_arrives_gets_a_french_408_page_with_security_headers,
    a_body_sent_a_byte_at_a_time_gets_408_at_its_deadline,
    a_webhook_whose_body_never_arrives_gets_408_in_json,
    headers_that_never_end_close_the_connection,
    an_over_long_address_gets_a_french_414_page_with_security_headers,
    oversized_headers_get_a_french_431_page_with_security_headers,
    connections_beyond_the_cap_wait_until_one_closes,
    shutdown_does_not_wait_for_idle_connections,
    what_only_hyper_can_refuse_gets_its_bare_answer,
);

/// Far beyond any deadline of these tests: only a server that never answers reaches it.
const PATIENCE: Duration = Duration::from_secs(20);

/// Obole with one-second deadlines on headers and bodies.
async fn spawn_impatient(backend: Backend) -> TestApp {
    let database = TestDatabase::create(backend).await;
    let mut config = test_config(database.url(), Content::Empty);
    config.http.header_timeout = Duration::from_secs(1);
    config.http.body_timeout = Duration::from_secs(1);
    spawn_with(database, config).await
}

async fn connect(app: &TestApp) -> TcpStream {
    let address = app.address.trim_start_matches("http://");
    TcpStream::connect(address).await.expect("connects")
}

/// Everything the server sends until it closes the connection.
async fn read_to_close(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    let read = tokio::time::timeout(PATIENCE, async {
        let mut buffer = [0u8; 4096];
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => received.extend_from_slice(&buffer[..n]),
            }
        }
    })
    .await;
    assert!(read.is_ok(), "the server closed the connection in time");
    String::from_utf8_lossy(&received).into_owned()
}

/// A head that announces a body of `length` bytes.
fn head_of_post(path: &str, content_type: &str, length: usize) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n\
         Content-Length: {length}\r\n\r\n"
    )
}

/// The header lines of a raw response, lower-cased.
fn header_lines(response: &str) -> Vec<String> {
    let head = response.split("\r\n\r\n").next().unwrap_or_default();
    head.lines().skip(1).map(str::to_lowercase).collect()
}

fn assert_security_headers(lines: &[String]) {
    for name in [
        "content-security-policy:",
        "x-content-type-options: nosniff",
        "x-frame-options: deny",
        "referrer-policy:",
        "strict-transport-security:",
        "permissions-policy:",
        "cross-origin-opener-policy: same-origin",
        "cross-origin-resource-policy: same-origin",
    ] {
        assert!(
            lines.iter().any(|line| line.starts_with(name)),
            "{name} in {lines:?}"
        );
    }
}

fn assert_security_headers_of(response: &reqwest::Response) {
    let lines: Vec<String> = response
        .headers()
        .iter()
        .map(|(name, value)| format!("{name}: {}", value.to_str().unwrap()).to_lowercase())
        .collect();
    assert_security_headers(&lines);
}

async fn a_body_that_never_arrives_gets_a_french_408_page_with_security_headers(backend: Backend) {
    let app = spawn_impatient(backend).await;
    let mut stream = connect(&app).await;
    let head = head_of_post(
        "/mon-espace/connexion",
        "application/x-www-form-urlencoded",
        100,
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let response = read_to_close(&mut stream).await;
    assert!(response.starts_with("HTTP/1.1 408 "), "{response}");
    let lines = header_lines(&response);
    assert_security_headers(&lines);
    assert!(lines.contains(&"connection: close".to_owned()), "{lines:?}");
    assert!(
        lines.contains(&"content-type: text/html; charset=utf-8".to_owned()),
        "{lines:?}"
    );
    assert!(response.contains("Délai dépassé"), "{response}");
    assert!(response.contains("</html>"), "the whole page: {response}");

    let again = app.get("/healthz").await;
    assert_eq!(again.status(), 200, "the server carries on");
}

/// A slow loris: every byte comes before a per-read timeout would fire, the whole never
/// comes in time.
async fn a_body_sent_a_byte_at_a_time_gets_408_at_its_deadline(backend: Backend) {
    let app = spawn_impatient(backend).await;
    let stream = connect(&app).await;
    let (mut reading, mut writing) = stream.into_split();
    let head = head_of_post(
        "/mon-espace/connexion",
        "application/x-www-form-urlencoded",
        200,
    );
    writing.write_all(head.as_bytes()).await.unwrap();
    // At this pace the body would take 40 s.
    let trickle = tokio::spawn(async move {
        for _ in 0..200 {
            tokio::time::sleep(Duration::from_millis(200)).await;
            if writing.write_all(b"a").await.is_err() {
                break;
            }
        }
    });
    let mut received = Vec::new();
    tokio::time::timeout(PATIENCE, reading.read_to_end(&mut received))
        .await
        .expect("answered before the body could end")
        .ok();
    trickle.abort();
    let response = String::from_utf8_lossy(&received);
    assert!(response.starts_with("HTTP/1.1 408 "), "{response}");
    assert!(response.contains("Délai dépassé"));
}

async fn a_webhook_whose_body_never_arrives_gets_408_in_json(backend: Backend) {
    let app = spawn_impatient(backend).await;
    let mut stream = connect(&app).await;
    let head = head_of_post("/webhooks/stripe", "application/json", 500);
    stream.write_all(head.as_bytes()).await.unwrap();
    let response = read_to_close(&mut stream).await;
    assert!(response.starts_with("HTTP/1.1 408 "), "{response}");
    let lines = header_lines(&response);
    assert_security_headers(&lines);
    assert!(
        lines.contains(&"content-type: application/json".to_owned()),
        "{lines:?}"
    );
    let body = response.split("\r\n\r\n").nth(1).unwrap_or_default();
    let json: Value = serde_json::from_str(body).expect("a JSON body");
    assert_eq!(json["error"]["status"], 408);
}

/// hyper ends a connection whose request head does not arrive in time, without an answer
/// (it has no hook for one; see README).
async fn headers_that_never_end_close_the_connection(backend: Backend) {
    let app = spawn_impatient(backend).await;
    let mut stream = connect(&app).await;
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        .await
        .unwrap();
    let response = read_to_close(&mut stream).await;
    assert!(
        response.is_empty() || response.starts_with("HTTP/1.1 408 "),
        "closed, or answered 408: {response}"
    );

    // An idle keep-alive connection is closed by the same deadline.
    let mut idle = connect(&app).await;
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .unwrap();
    let response = read_to_close(&mut idle).await;
    assert!(response.starts_with("HTTP/1.1 200 "), "{response}");
}

async fn an_over_long_address_gets_a_french_414_page_with_security_headers(backend: Backend) {
    let app = spawn_impatient(backend).await;
    let long = "a".repeat(9_000);
    let response = app.get(&format!("/campagnes?q={long}")).await;
    assert_eq!(response.status(), 414);
    assert_security_headers_of(&response);
    assert_eq!(
        response.headers()["content-type"],
        "text/html; charset=utf-8"
    );
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("Adresse trop longue")
    );

    let response = app.get(&format!("/api/v1/campaigns?q={long}")).await;
    assert_eq!(response.status(), 414);
    assert_security_headers_of(&response);
    let json: Value = response.json().await.unwrap();
    assert_eq!(json["error"]["status"], 414);

    // An address of a usual length is served as before.
    assert_eq!(app.get("/?q=court").await.status(), 200);
}

async fn oversized_headers_get_a_french_431_page_with_security_headers(backend: Backend) {
    let app = spawn_impatient(backend).await;
    let response = app
        .client
        .get(app.url("/"))
        .header("x-padding", "a".repeat(20_000))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 431);
    assert_security_headers_of(&response);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("Requête trop volumineuse")
    );

    // Cookies count too: a browser carrying a cookie far too large hears the same.
    let response = app
        .client
        .get(app.url("/"))
        .header("cookie", format!("trop={}", "b".repeat(20_000)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 431);
}

/// With a cap of two, a third connection is not served while two others are open, and is
/// as soon as one of them closes.
async fn connections_beyond_the_cap_wait_until_one_closes(backend: Backend) {
    let database = TestDatabase::create(backend).await;
    let mut config = test_config(database.url(), Content::Empty);
    config.http.max_connections = 2;
    // Longer than the test: the two idle connections hold their places until dropped.
    config.http.header_timeout = Duration::from_secs(120);
    let app = spawn_with(database, config).await;

    let first = connect(&app).await;
    let second = connect(&app).await;
    let mut third = connect(&app).await;
    third
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut byte = [0u8; 1];
    let early = tokio::time::timeout(Duration::from_secs(1), third.read(&mut byte)).await;
    assert!(early.is_err(), "the third connection waits: {early:?}");

    drop(first);
    let response = read_to_close(&mut third).await;
    assert!(response.starts_with("HTTP/1.1 200 "), "{response}");

    drop(second);
    let fresh = reqwest::Client::new();
    for _ in 0..3 {
        let response = fresh.get(app.url("/healthz")).send().await.unwrap();
        assert_eq!(response.status(), 200, "the server stays responsive");
    }
}

/// A connection that sent nothing, or sits idle between requests, does not hold a restart.
async fn shutdown_does_not_wait_for_idle_connections(backend: Backend) {
    let database = TestDatabase::create(backend).await;
    let mut config = test_config(database.url(), Content::Empty);
    config.http.header_timeout = Duration::from_secs(120);
    let mut app = spawn_with(database, config).await;
    let _silent = connect(&app).await;
    let mut idle = connect(&app).await;
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .unwrap();
    let mut buffer = [0u8; 1024];
    let n = idle.read(&mut buffer).await.unwrap();
    assert!(buffer[..n].starts_with(b"HTTP/1.1 200 "));

    tokio::time::timeout(PATIENCE, app.restart())
        .await
        .expect("stopped without waiting for the idle connections");
    assert_eq!(app.get("/healthz").await.status(), 200);
}

/// A request hyper cannot parse never reaches the router: hyper answers it with a bare status
/// line and closes, and offers no hook to say more (README, « Behind a reverse proxy »). This
/// pins what it sends, so that a change of it is seen.
async fn what_only_hyper_can_refuse_gets_its_bare_answer(backend: Backend) {
    let app = spawn_impatient(backend).await;
    let mut stream = connect(&app).await;
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nnot a header\r\n\r\n")
        .await
        .unwrap();
    let response = read_to_close(&mut stream).await;
    assert!(response.starts_with("HTTP/1.1 400 "), "{response}");
    let mut names: Vec<String> = header_lines(&response)
        .iter()
        .filter_map(|line| line.split(':').next().map(str::to_owned))
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["connection", "content-length", "date"],
        "{response}"
    );
    assert!(response.ends_with("\r\n\r\n"), "no body: {response}");
}
