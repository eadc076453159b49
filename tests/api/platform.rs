//! What every response shares: health check, security headers, compression, static files,
//! and French error pages for bad requests.

use std::io::Read;

use serde_json::Value;

use crate::helpers::{Backend, Content, spawn_app};

dual_backend_tests!(
    liveness_and_readiness,
    pages_carry_security_headers_and_compress,
    static_files_are_embedded_and_cached,
    static_files_are_served_compressed_ahead_of_time,
    malformed_requests_get_french_400_and_405_pages,
    a_nul_in_an_address_or_a_form_is_refused_before_any_query,
);

/// `/healthz` answers whenever the process does; `/readyz` checks the database, the
/// migrations and the job worker, and says which one fails.
async fn liveness_and_readiness(backend: Backend) {
    let app = spawn_app(backend, Content::Empty).await;
    let live = app.get("/healthz").await;
    assert_eq!(live.status(), 200);
    assert_eq!(live.json::<Value>().await.unwrap()["status"], "ok");
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 200);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["ready"], true, "{body}");
    assert_eq!(body["draining"], false, "{body}");
    assert_eq!(body["checks"]["database"], "ok", "{body}");
    assert_eq!(body["checks"]["migrations"], "ok", "{body}");
    assert_eq!(
        body["checks"]["worker"], "ok",
        "the test's instance runs one: {body}"
    );

    // A migration this binary carries, not applied: not ready.
    sqlx::query("UPDATE _sqlx_migrations SET success = FALSE WHERE version = 1")
        .execute(app.db.pool())
        .await
        .unwrap();
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 503);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["checks"]["migrations"], "pending", "{body}");
    assert_eq!(body["checks"]["database"], "ok", "{body}");

    app.db.close().await;
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 503, "a closed pool is reported");
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["ready"], false, "{body}");
    assert_eq!(body["checks"]["database"], "unreachable", "{body}");
    assert_eq!(app.get("/healthz").await.status(), 200, "still alive");
}

async fn pages_carry_security_headers_and_compress(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let response = app.get("/").await;
    let headers = response.headers();
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'"));
    // The test reaches Obole at 127.0.0.1 while its public address says localhost: a form
    // may still lead there (the demo's sandbox checkout), or « Payer » would do nothing.
    let port = app.address.rsplit(':').next().unwrap();
    let form_action = csp
        .split(';')
        .find(|directive| directive.trim().starts_with("form-action"))
        .unwrap();
    assert!(
        form_action.contains(&format!(" http://localhost:{port} ")),
        "{form_action}"
    );
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(
        headers["referrer-policy"],
        "strict-origin-when-cross-origin"
    );
    assert_eq!(headers["x-frame-options"], "DENY");
    assert!(
        headers["permissions-policy"]
            .to_str()
            .unwrap()
            .contains("camera=()")
    );
    assert_eq!(headers["cross-origin-opener-policy"], "same-origin");
    assert_eq!(headers["cross-origin-resource-policy"], "same-origin");

    let html = response.text().await.unwrap();
    assert!(
        !html.contains("<script>") && !html.contains("style=\""),
        "nothing inline for the CSP to block"
    );

    let plain_page = app.page("/campagnes/le-sport-pour-grandir").await;
    for encoding in ["gzip", "br"] {
        let compressed = app
            .client
            .get(app.url("/campagnes/le-sport-pour-grandir"))
            .header("accept-encoding", encoding)
            .send()
            .await
            .unwrap();
        assert_eq!(compressed.status(), 200);
        assert_eq!(compressed.headers()["content-encoding"], encoding);
        let body = compressed.bytes().await.unwrap();
        assert!(body.len() < plain_page.len() / 2, "{encoding} shrinks HTML");
        let html = String::from_utf8(decode(encoding, &body)).unwrap();
        assert!(html.contains("<h1>Le sport pour grandir</h1>"), "{html}");
    }
}

/// `body` decoded from the `Content-Encoding` `encoding` (the test client decodes nothing).
fn decode(encoding: &str, body: &[u8]) -> Vec<u8> {
    let mut decoded = Vec::new();
    match encoding {
        "gzip" => flate2::read::GzDecoder::new(body)
            .read_to_end(&mut decoded)
            .unwrap(),
        "br" => brotli::Decompressor::new(body, 4096)
            .read_to_end(&mut decoded)
            .unwrap(),
        other => panic!("unexpected encoding {other}"),
    };
    decoded
}

async fn static_files_are_served_compressed_ahead_of_time(backend: Backend) {
    let app = spawn_app(backend, Content::Empty).await;
    for path in [
        "/static/app.css",
        "/static/donate.js",
        "/static/img/peps.svg",
    ] {
        let plain = app.get(path).await;
        assert_eq!(plain.status(), 200);
        assert!(
            plain.headers().get("content-encoding").is_none(),
            "{path} plain to a client that accepts no encoding"
        );
        assert_eq!(plain.headers()["vary"], "accept-encoding");
        let plain_etag = plain.headers()["etag"].clone();
        let original = plain.bytes().await.unwrap();

        for (accept, encoding) in [("br", "br"), ("gzip", "gzip"), ("gzip, deflate, br", "br")] {
            let response = app
                .client
                .get(app.url(path))
                .header("accept-encoding", accept)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            let headers = response.headers().clone();
            let encodings: Vec<_> = headers.get_all("content-encoding").iter().collect();
            assert_eq!(encodings, [encoding], "{path} for {accept}: encoded once");
            assert_eq!(headers["vary"], "accept-encoding");
            assert_ne!(
                headers["etag"], plain_etag,
                "each encoding has its validator"
            );
            let body = response.bytes().await.unwrap();
            assert!(body.len() < original.len(), "{path} {encoding} is smaller");
            assert_eq!(
                decode(encoding, &body),
                original,
                "{path} {encoding} decodes"
            );

            let revalidated = app
                .client
                .get(app.url(path))
                .header("accept-encoding", accept)
                .header("if-none-match", &headers["etag"])
                .send()
                .await
                .unwrap();
            assert_eq!(revalidated.status(), 304, "{path} {encoding}");
        }
    }
}

async fn static_files_are_embedded_and_cached(backend: Backend) {
    let app = spawn_app(backend, Content::Empty).await;
    let home = app.page("/").await;
    let href = home
        .split("rel=\"stylesheet\" href=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("stylesheet link")
        .to_owned();
    assert!(href.starts_with("/static/app.css?v="), "{href}");

    let css = app.get(&href).await;
    assert_eq!(css.status(), 200);
    assert!(
        css.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    assert_eq!(
        css.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    let etag = css.headers()["etag"].to_str().unwrap().to_owned();
    assert!(css.text().await.unwrap().contains("--brand"));

    let revalidated = app
        .client
        .get(app.url("/static/app.css"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(revalidated.status(), 304);
    assert_eq!(
        revalidated.headers()["cache-control"],
        "public, max-age=3600"
    );

    let svg = app.get("/static/img/peps.svg").await;
    assert_eq!(svg.headers()["content-type"], "image/svg+xml");
    assert_eq!(app.get("/static/absent.css").await.status(), 404);
    assert_eq!(app.get("/static/../Cargo.toml").await.status(), 404);
}

async fn malformed_requests_get_french_400_and_405_pages(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let response = app.get("/campagnes/%FF%FE").await;
    assert_eq!(response.status(), 400);
    let html = response.text().await.unwrap();
    assert!(
        html.contains("Requête invalide")
            && html.contains("L&#39;adresse demandée n&#39;est pas valide.")
    );

    let response = app
        .client
        .post(app.url("/campagnes/le-sport-pour-grandir"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    assert!(
        response.headers().contains_key("allow"),
        "405 keeps its Allow header"
    );
    assert!(response.text().await.unwrap().contains("Action impossible"));
}

/// PostgreSQL refuses a NUL in text (a 500 where SQLite said 200, seen from outside with
/// `?reprendre=%00`): no address of ours can carry one, so every route answers the French
/// 404 page before a handler reads it; a form field holding one is refused by its form. On
/// both backends, never a 500, nothing written.
async fn a_nul_in_an_address_or_a_form_is_refused_before_any_query(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let pledges = app.count("SELECT COUNT(*) FROM pledges").await;
    let supporters = app.count("SELECT COUNT(*) FROM supporters").await;
    for path in [
        "/campagnes/le-sport-pour-grandir/don?reprendre=%00",
        "/campagnes/le-sport-pour-grandir/don?frequence=once&utm_source=a%00b",
        "/campagnes/le-sport-pour-grandir?montant=30%00",
        "/campagnes/le-sport-%00pour-grandir",
        "/projets/peps?x=%00",
        "/merci?session_id=cs_%00",
        "/mon-espace/recus?page=%00",
        "/admin/dons?q=martin%00",
        "/api/v1/campaigns?status=%00",
        "/sandbox?x=%00",
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 404, "{path}");
    }
    let html = app
        .get("/merci?session_id=cs_%00")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Page introuvable"), "the French page: {html}");
    for (path, fields) in [
        (
            "/campagnes/le-sport-pour-grandir/don",
            vec![("first_name", "Ma\u{0}rie"), ("email", "marie@example.org")],
        ),
        (
            "/mon-espace/connexion",
            vec![("email", "marie\u{0}@example.org")],
        ),
        ("/merci/mensuel", vec![("session_id", "cs_\u{0}")]),
        (
            "/admin/connexion",
            vec![("email", "a\u{0}@example.org"), ("password", "x")],
        ),
    ] {
        let response = app
            .client
            .post(app.url(path))
            .form(&fields)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        assert!((400..500).contains(&status), "{path}: {status}");
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM pledges").await,
        pledges,
        "nothing written"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM supporters").await,
        supporters
    );
}
