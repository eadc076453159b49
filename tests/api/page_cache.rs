//! The page cache (web/page_cache.rs) as visitors and shared caches meet it: a gift shows at
//! once on the instance that recorded it and within the bound everywhere else, validators
//! answer 304, and nothing that depends on its visitor is kept or shared.

use std::time::Duration;

use obole::config::Config;
use obole::db::Db;
use reqwest::header::{self, HeaderMap};

use crate::helpers::fixtures::{self, Gift};
use crate::helpers::{Backend, Content, TestApp, TestDatabase, spawn_app, spawn_with, test_config};

dual_backend_tests!(
    a_gift_recorded_here_shows_at_once,
    a_gift_recorded_by_another_instance_shows_within_the_bound,
    validators_answer_not_modified_until_the_page_changes,
    a_visitors_session_pages_are_neither_kept_nor_shared,
    the_form_reads_its_campaign_from_memory_but_a_gift_is_checked_afresh,
    the_job_worker_s_bookkeeping_keeps_pages_in_memory,
);

const SLUG: &str = "le-sport-pour-grandir";

/// A visitor who keeps no cookie: what the cache serves to everyone.
fn anonymous() -> reqwest::Client {
    reqwest::Client::new()
}

async fn get(
    client: &reqwest::Client,
    app: &TestApp,
    path: &str,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut request = client.get(app.url(path));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.expect("request sent")
}

/// `raised_cents` of the campaign in the public API, as an anonymous visitor reads it.
async fn raised(app: &TestApp) -> i64 {
    let response = get(&anonymous(), app, &format!("/api/v1/campaigns/{SLUG}"), &[]).await;
    assert_eq!(response.status(), 200);
    let json: serde_json::Value = response.json().await.expect("JSON");
    json["raised_cents"].as_i64().expect("raised_cents")
}

async fn campaign_page(app: &TestApp) -> String {
    let response = get(&anonymous(), app, &format!("/campagnes/{SLUG}"), &[]).await;
    assert_eq!(response.status(), 200);
    response.text().await.expect("HTML")
}

fn gift<'a>(campaign_id: i64, first_name: &'a str, amount_cents: i64) -> Gift<'a> {
    Gift {
        campaign_id,
        email: "cache@example.org",
        first_name,
        last_name: "Testeur",
        amount_cents,
        show_publicly: true,
    }
}

async fn a_gift_recorded_here_shows_at_once(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let before = raised(&app).await;
    assert!(!campaign_page(&app).await.contains("Anselme"));
    // Twice: the second answer comes from memory.
    assert_eq!(raised(&app).await, before);

    // A real gift: the form, the sandbox's checkout, the webhook applied by this instance.
    let (_, paid) = app
        .give(
            SLUG,
            &[("amount", "4200"), ("first_name", "Anselme")],
            "card",
        )
        .await;
    assert_eq!(paid.status(), 303);
    app.settle_webhooks().await;

    assert_eq!(raised(&app).await, before + 4_200, "no wait for the bound");
    assert!(campaign_page(&app).await.contains("Anselme"));
}

/// Obole with the cache's bound set to `seconds`, and a second connection pool on its
/// database: another instance, whose writes this one does not count.
async fn with_another_instance(backend: Backend, seconds: u64) -> (TestApp, Db, i64) {
    let database = TestDatabase::create(backend).await;
    let url = database.url().to_owned();
    let config = Config {
        page_cache_seconds: seconds,
        ..test_config(&url, Content::Demo)
    };
    let app = spawn_with(database, config).await;
    let other = Db::connect(&url).await.expect("a second connection pool");
    let campaign = fixtures::campaign_id(&other, SLUG).await;
    (app, other, campaign)
}

async fn a_gift_recorded_by_another_instance_shows_within_the_bound(backend: Backend) {
    let (app, other, campaign) = with_another_instance(backend, 1).await;
    let before = raised(&app).await;
    assert!(!campaign_page(&app).await.contains("Bérénice"));
    fixtures::give(&other, gift(campaign, "Bérénice", 7_700)).await;

    // Within the bound the cached answers may still be served...
    let soon = raised(&app).await;
    assert!(soon == before || soon == before + 7_700, "{soon}");
    // ...and after it, never.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    assert_eq!(raised(&app).await, before + 7_700);
    assert!(campaign_page(&app).await.contains("Bérénice"));
    drop((app, other));

    // Turned off, every answer is read afresh.
    let (app, other, campaign) = with_another_instance(backend, 0).await;
    let before = raised(&app).await;
    fixtures::give(&other, gift(campaign, "Céleste", 1_100)).await;
    assert_eq!(raised(&app).await, before + 1_100);
}

async fn validators_answer_not_modified_until_the_page_changes(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let client = anonymous();
    let path = format!("/campagnes/{SLUG}");
    let first = get(&client, &app, &path, &[("accept-encoding", "gzip, br")]).await;
    assert_eq!(first.status(), 200);
    let headers: HeaderMap = first.headers().clone();
    assert_eq!(headers[header::CONTENT_ENCODING], "br");
    assert_eq!(headers[header::CACHE_CONTROL], "public, max-age=5");
    assert_eq!(headers[header::VARY], "accept-encoding");
    assert!(
        headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let etag = headers[header::ETAG].to_str().unwrap().to_owned();
    let modified = headers[header::LAST_MODIFIED].to_str().unwrap().to_owned();

    // Each coding is its own representation, with its own validator.
    let gzip = get(&client, &app, &path, &[("accept-encoding", "gzip")]).await;
    assert_eq!(gzip.headers()[header::CONTENT_ENCODING], "gzip");
    assert_ne!(gzip.headers()[header::ETAG], etag.as_str());
    let plain = get(&client, &app, &path, &[]).await;
    assert!(plain.headers().get(header::CONTENT_ENCODING).is_none());
    assert!(plain.text().await.unwrap().contains("<html"));

    for validator in [
        ("if-none-match", etag.as_str()),
        ("if-modified-since", modified.as_str()),
    ] {
        let again = get(
            &client,
            &app,
            &path,
            &[("accept-encoding", "gzip, br"), validator],
        )
        .await;
        assert_eq!(again.status(), 304, "{validator:?}");
        assert_eq!(again.headers()[header::ETAG], etag.as_str());
        assert!(again.bytes().await.unwrap().is_empty());
    }

    // A gift changes the page: the old validator no longer matches.
    let campaign = fixtures::campaign_id(&app.db, SLUG).await;
    fixtures::give(&app.db, gift(campaign, "Dorothée", 2_500)).await;
    let changed = get(
        &client,
        &app,
        &path,
        &[("accept-encoding", "gzip, br"), ("if-none-match", &etag)],
    )
    .await;
    assert_eq!(changed.status(), 200);
    assert_ne!(changed.headers()[header::ETAG], etag.as_str());

    // The API has validators too, and CORS headers on every answer, from memory or not.
    let api = format!("/api/v1/campaigns/{SLUG}");
    let origin = ("origin", "https://widget.example.org");
    let first = get(&client, &app, &api, &[origin]).await;
    assert_eq!(first.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
    let etag = first.headers()[header::ETAG].to_str().unwrap().to_owned();
    let again = get(&client, &app, &api, &[origin, ("if-none-match", &etag)]).await;
    assert_eq!(again.status(), 304);
    assert_eq!(again.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
}

async fn a_visitors_session_pages_are_neither_kept_nor_shared(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    // Alice starts a gift and leaves the checkout: her entries wait in her session.
    let submitted = app
        .submit_gift(
            SLUG,
            &[("first_name", "Alice"), ("last_name", "Martinelli")],
        )
        .await;
    assert_eq!(submitted.status(), 303);
    let resume = format!("/campagnes/{SLUG}/don?reprendre=1");
    let hers = app.client.get(app.url(&resume)).send().await.unwrap();
    assert_eq!(hers.headers()[header::CACHE_CONTROL], "no-store");
    assert!(hers.headers().get(header::ETAG).is_none());
    assert!(hers.text().await.unwrap().contains("Martinelli"));

    // Bob, at the same URL, gets a blank form and a token of his own, however often he asks.
    let bob = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let mut tokens = Vec::new();
    for _ in 0..2 {
        let response = bob.get(app.url(&resume)).send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
        let html = response.text().await.unwrap();
        assert!(!html.contains("Martinelli"));
        tokens.push(
            html.split("name=\"csrf_token\" value=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap()
                .to_owned(),
        );
    }
    let (_, alices_token) = app.donation_form(SLUG, "").await;
    assert!(!tokens.contains(&alices_token));

    // With her session cookie, Alice's public pages are rendered for her, not taken from
    // (or put in) the shared cache.
    let public = app
        .client
        .get(app.url(&format!("/campagnes/{SLUG}")))
        .send()
        .await
        .unwrap();
    assert_eq!(public.status(), 200);
    assert!(public.headers().get(header::ETAG).is_none());
    let shared = get(&anonymous(), &app, &format!("/campagnes/{SLUG}"), &[]).await;
    assert!(shared.headers().get(header::ETAG).is_some());
}

async fn the_form_reads_its_campaign_from_memory_but_a_gift_is_checked_afresh(backend: Backend) {
    let (app, other, campaign) = with_another_instance(backend, 1).await;
    let form = format!("/campagnes/{SLUG}/don");
    assert_eq!(app.get(&form).await.status(), 200);
    // Another instance closes the campaign.
    sqlx::query("UPDATE campaigns SET status = 'closed' WHERE id = $1")
        .bind(campaign)
        .execute(other.pool())
        .await
        .unwrap();
    // A gift sent now is refused at once: sending reads the campaign afresh.
    let sent = app.submit_gift(SLUG, &[]).await;
    assert_eq!(sent.status(), 410);
    // The form itself may show the campaign as read within the bound, never after it.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    assert_eq!(app.get(&form).await.status(), 410);
}

/// Sending an email writes to the jobs table, which no page shows: a worker draining its queue
/// must not make every page render afresh.
async fn the_job_worker_s_bookkeeping_keeps_pages_in_memory(backend: Backend) {
    let database = TestDatabase::create(backend).await;
    let config = Config {
        page_cache_seconds: 300,
        ..test_config(database.url(), Content::Demo)
    };
    let app = spawn_with(database, config).await;
    let campaign = fixtures::campaign_id(&app.db, SLUG).await;
    let donation = fixtures::give(&app.db, gift(campaign, "Bérénice", 2_500)).await;
    let seen = app.db.writes_committed();
    crate::emails::enqueue(
        &app.db,
        obole::jobs::email::Message::ThankYou {
            donation_id: donation,
        },
    )
    .await;
    assert_eq!(app.db.writes_committed(), seen + 1, "queuing is a write");
    let transactions = app.db.transactions_committed();
    let path = format!("/campagnes/{SLUG}");
    let first = get(&anonymous(), &app, &path, &[]).await;
    let rendered = first.headers()[header::LAST_MODIFIED].clone();
    for _ in 0..200 {
        let done: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE done_at IS NOT NULL")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
        if done == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        app.db.writes_committed(),
        seen + 1,
        "claiming and finishing are not"
    );
    assert!(
        app.db.transactions_committed() >= transactions + 2,
        "the worker claimed and finished the job"
    );

    // Past the second Last-Modified counts in: a page rendered again would show it.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let second = get(&anonymous(), &app, &path, &[]).await;
    assert_eq!(second.headers()[header::LAST_MODIFIED], rendered);
}
