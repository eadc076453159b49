//! Bad input and abuse of the donation flow: wrong amounts and identities, closed campaigns,
//! forged or unreadable posts, too many attempts, forged or odd webhooks, made-up thank-you
//! links. Whatever comes in, nothing is recorded that should not be, and no page is a 500.

use obole::domain::dates;
use obole::store::counters::{self, Totals};
use reqwest::header::HeaderValue;
use serde_json::Value;
use stripe_webhook::Webhook;

use crate::helpers::{
    Backend, Content, TestApp, TestDatabase, fixtures, plain, spawn_app, spawn_with, test_config,
};

dual_backend_tests!(
    refused_amounts_rerender_the_form_and_record_nothing,
    tampered_suggested_amounts_are_refused,
    amounts_in_french_and_english_habits_are_accepted,
    wrong_identity_fields_are_flagged_one_by_one,
    control_characters_in_text_fields_are_refused,
    unknown_and_draft_campaigns_answer_404,
    closed_and_ended_campaigns_answer_410,
    a_post_without_csrf_token_is_refused,
    a_post_with_a_wrong_csrf_token_is_refused,
    a_csrf_token_from_another_session_is_refused,
    viewing_the_form_writes_no_session_and_expired_tokens_are_refused,
    unreadable_form_bodies_answer_400,
    an_oversized_form_post_answers_413,
    an_unknown_frequency_is_refused,
    checkouts_beyond_the_rate_limit_answer_429_with_the_entries_kept,
    behind_a_proxy_the_limit_is_per_donor_not_per_proxy,
    webhook_without_signature_is_refused,
    webhook_with_a_malformed_signature_header_is_refused,
    webhook_signed_with_another_secret_is_refused,
    webhook_signature_over_another_body_is_refused,
    webhook_signed_outside_the_time_tolerance_is_refused,
    signed_webhook_that_is_not_an_event_is_refused,
    signed_webhook_over_one_mebibyte_is_refused,
    signed_event_of_an_unknown_type_is_recorded_once_and_ignored,
    checkout_event_the_typed_client_rejects_is_applied_from_its_json,
    invoice_event_the_typed_client_rejects_is_applied_from_its_json,
    signed_event_for_an_unknown_pledge_is_acknowledged_and_ignored,
    thank_you_page_for_unknown_sessions_is_404,
);

const SLUG: &str = "le-sport-pour-grandir";

/// What a refused request must leave untouched.
#[derive(Debug, PartialEq, Eq)]
struct Ledger {
    pledges: i64,
    donations: i64,
    stripe_events: i64,
    campaign: Totals,
    organisation: Totals,
}

async fn ledger(app: &TestApp) -> Ledger {
    let campaign_id = fixtures::campaign_id(&app.db, SLUG).await;
    Ledger {
        pledges: app.count("SELECT COUNT(*) FROM pledges").await,
        donations: app.count("SELECT COUNT(*) FROM donations").await,
        stripe_events: app.count("SELECT COUNT(*) FROM stripe_events").await,
        campaign: counters::campaign(app.db.pool(), campaign_id)
            .await
            .unwrap(),
        organisation: counters::organisation(app.db.pool()).await.unwrap(),
    }
}

/// The complete 30 € gift `TestApp::submit_gift` posts, as (field, value) pairs.
const DEFAULT_ENTRIES: [(&str, &str); 6] = [
    ("first_name", "Marie"),
    ("last_name", "Dupont"),
    ("email", "marie.dupont@example.org"),
    ("address_line1", "3 rue des Lilas"),
    ("postal_code", "69003"),
    ("city", "Lyon"),
];

/// Form fields to override, as (field, value).
type Entries<'a> = Vec<(&'a str, &'a str)>;

/// A complete, valid gift form with `token` (none: no token field) and `overrides`.
fn gift_form(token: Option<&str>, overrides: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut form: Vec<(String, String)> = [
        ("frequency", "once"),
        ("amount", "3000"),
        ("other_amount", ""),
        ("address_line2", ""),
        ("country", "FR"),
        ("dedication_kind", ""),
        ("dedication_name", ""),
    ]
    .iter()
    .chain(DEFAULT_ENTRIES.iter())
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    if let Some(token) = token {
        form.push(("csrf_token".to_owned(), token.to_owned()));
    }
    for (key, value) in overrides {
        form.retain(|(k, _)| k != key);
        form.push((key.to_string(), value.to_string()));
    }
    form
}

/// Opens a campaign's form with `client` (starting its session) and returns the CSRF token.
async fn csrf_token(app: &TestApp, client: &reqwest::Client, slug: &str) -> String {
    let response = client
        .get(app.url(&format!("/campagnes/{slug}/don")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "the form of {slug} opens");
    let html = response.text().await.unwrap();
    html.split("name=\"csrf_token\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the form carries a CSRF token")
        .to_owned()
}

async fn post_form(
    app: &TestApp,
    client: &reqwest::Client,
    slug: &str,
    form: &[(String, String)],
) -> reqwest::Response {
    client
        .post(app.url(&format!("/campagnes/{slug}/don")))
        .form(form)
        .send()
        .await
        .unwrap()
}

/// `form` as a browser encodes it.
fn urlencoded(form: &[(String, String)]) -> String {
    form.iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                url::form_urlencoded::byte_serialize(k.as_bytes()).collect::<String>(),
                url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>()
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// A second visitor, with cookies of its own.
fn another_client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Text as the page shows it: entities decoded, no-break spaces made plain.
fn unescape(html: &str) -> String {
    plain(html)
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The form's error paragraphs, as (id, text); the id is empty for a paragraph without one.
fn field_errors(html: &str) -> Vec<(String, String)> {
    html.split("<p class=\"field-error\"")
        .skip(1)
        .map(|rest| {
            let (attributes, after) = rest.split_once('>').unwrap();
            let id = attributes
                .split("id=\"")
                .nth(1)
                .and_then(|s| s.split('"').next())
                .unwrap_or("");
            let text = after.split("</p>").next().unwrap();
            (id.to_owned(), unescape(text))
        })
        .collect()
}

/// A 422 re-rendering of the form whose only error is `message`, next to `field`.
async fn assert_refused_field(response: reqwest::Response, field: &str, message: &str) -> String {
    assert_eq!(response.status(), 422, "{field}: {message}");
    let html = response.text().await.unwrap();
    assert!(
        html.contains("name=\"csrf_token\""),
        "the form itself, again"
    );
    assert!(
        unescape(&html).contains("Votre don n’est pas encore parti"),
        "the form says why nothing happened"
    );
    assert_eq!(
        field_errors(&html),
        vec![(format!("{field}-error"), message.to_owned())],
        "one message, next to {field}"
    );
    assert!(
        html.contains(&format!("aria-describedby=\"{field}-error\""))
            || html.contains(&format!(" {field}-error\"")),
        "the {field} control points at its message"
    );
    html
}

fn assert_kept(html: &str, value: &str) {
    assert!(
        html.contains(&format!("value=\"{value}\"")),
        "entry {value:?} kept"
    );
}

/// An error page of ours (not axum's plain text) with `status`, saying `words`.
async fn assert_error_page(response: reqwest::Response, status: u16, words: &str) {
    assert_eq!(response.status(), status);
    let content_type = response.headers()["content-type"].to_str().unwrap();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    let html = unescape(&response.text().await.unwrap());
    assert!(html.contains(&format!("Erreur {status}")), "{html}");
    assert!(html.contains(words), "{words:?} in {html}");
}

async fn post_webhook(
    app: &TestApp,
    body: impl Into<reqwest::Body>,
    signature: Option<HeaderValue>,
) -> reqwest::Response {
    let mut request = app
        .client
        .post(app.url("/webhooks/stripe"))
        .header("content-type", "application/json")
        .body(body);
    if let Some(signature) = signature {
        request = request.header("stripe-signature", signature);
    }
    request.send().await.expect("webhook posted")
}

fn header(value: &str) -> Option<HeaderValue> {
    Some(HeaderValue::from_str(value).unwrap())
}

/// Signed as Stripe does, with the webhook secret Obole shares with the sandbox.
fn signed(app: &TestApp, payload: &str) -> Option<HeaderValue> {
    header(&app.sandbox().sign(payload, dates::now()))
}

/// Every event of a gift, generated by the sandbox but not delivered.
async fn undelivered_events(app: &TestApp, fields: &[(&str, &str)]) -> Vec<Value> {
    app.sandbox().set_auto_deliver(false);
    let already = app.sandbox().events().len();
    let (_, paid) = app.give(SLUG, fields, "card").await;
    assert_eq!(paid.status(), 303, "paid on the sandbox");
    app.sandbox().events().split_off(already)
}

fn event_of_type(events: &[Value], event_type: &str) -> Value {
    events
        .iter()
        .find(|e| e["type"] == event_type)
        .unwrap_or_else(|| panic!("a {event_type} event"))
        .clone()
}

/// The `checkout.session.completed` of a 30 € gift by card, not delivered yet.
async fn undelivered_checkout_event(app: &TestApp) -> Value {
    let events = undelivered_events(app, &[("email", "webhook@example.org")]).await;
    event_of_type(&events, "checkout.session.completed")
}

/// `payload` posted with `signature` is answered 400 and changes nothing at all.
async fn assert_webhook_refused(
    app: &TestApp,
    payload: impl Into<reqwest::Body>,
    signature: Option<HeaderValue>,
) {
    let before = ledger(app).await;
    let shown = format!("{signature:?}");
    let response = post_webhook(app, payload, signature).await;
    assert_eq!(response.status(), 400, "signature {shown}");
    let content_type = response.headers()["content-type"].to_str().unwrap();
    assert!(
        content_type.starts_with("application/json"),
        "Stripe gets JSON, not our HTML page"
    );
    assert_eq!(ledger(app).await, before, "signature {shown}");
    assert_eq!(app.count("SELECT COUNT(*) FROM stripe_events").await, 0);
}

/// The genuine event, properly signed, is applied: what was refused was only the forgery.
async fn assert_genuine_event_applies(app: &TestApp, event: &Value) {
    let before = ledger(app).await;
    assert_eq!(app.deliver(event).await, 200);
    let after = ledger(app).await;
    assert_eq!(after.stripe_events, before.stripe_events + 1);
    assert_eq!(after.donations, before.donations + 1);
    assert_eq!(
        after.campaign.raised_cents,
        before.campaign.raised_cents + 3000
    );
}

// ---------------------------------------------------------------------------------------
// Amounts

async fn refused_amounts_rerender_the_form_and_record_nothing(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let before = ledger(&app).await;
    let not_a_number = "Le montant doit être un nombre, par exemple 50 ou 12,50.";
    let minimum = "Le don minimum est de 5 €.";
    let maximum =
        "Le don en ligne est limité à 50 000 €. Pour un don plus important, contactez-nous.";
    let huge = "9".repeat(10_000);
    let cases: [(&str, &str); 9] = [
        ("-5", minimum),
        ("0", minimum),
        ("4,99", minimum),
        ("50000,01", maximum),
        ("abc", not_a_number),
        ("1e9", not_a_number),
        (
            "10,555",
            "Le montant ne peut pas avoir plus de deux chiffres après la virgule (pour mille euros, écrivez 1000 ou 1 000).",
        ),
        ("", "Indiquez le montant de votre don."),
        (&huge, maximum),
    ];
    for (typed, message) in cases {
        let response = app
            .submit_gift(
                SLUG,
                &[
                    ("amount", "other"),
                    ("other_amount", typed),
                    ("first_name", "Anaïs"),
                    ("email", "anais@example.org"),
                ],
            )
            .await;
        let html = assert_refused_field(response, "amount", message).await;
        assert_kept(&html, "Anaïs");
        assert_kept(&html, "anais@example.org");
        assert_kept(&html, "3 rue des Lilas");
        assert_kept(&html, typed);
        // No pledge, hence no Checkout Session: Obole records the pledge before calling Stripe.
        assert_eq!(ledger(&app).await, before, "{typed:?}: nothing recorded");
    }
}

async fn tampered_suggested_amounts_are_refused(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let before = ledger(&app).await;
    // Radio values are cents; a forged one is read, and judged, like a typed amount.
    for forged in [
        "-500",
        "0",
        "499",
        "5000001",
        "99999999999999999999",
        "3000.5",
    ] {
        let response = app
            .submit_gift(SLUG, &[("amount", forged), ("other_amount", "")])
            .await;
        assert_eq!(response.status(), 422, "{forged}");
        let errors = field_errors(&response.text().await.unwrap());
        assert_eq!(errors.len(), 1, "{forged}: {errors:?}");
        assert_eq!(errors[0].0, "amount-error", "{forged}");
        assert_eq!(ledger(&app).await, before, "{forged}");
    }
}

async fn amounts_in_french_and_english_habits_are_accepted(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let before = ledger(&app).await;
    let cases = [
        ("50", 5_000),
        ("50,00", 5_000),
        ("1 000", 100_000),
        ("12.5", 1_250),
    ];
    for (i, (typed, cents)) in cases.into_iter().enumerate() {
        let response = app
            .submit_gift(SLUG, &[("amount", "other"), ("other_amount", typed)])
            .await;
        assert_eq!(response.status(), 303, "{typed:?}");
        let location = response.headers()["location"].to_str().unwrap();
        assert!(location.contains("/sandbox/checkout/cs_"), "{location}");
        let amounts: Vec<i64> = sqlx::query_scalar("SELECT amount_cents FROM pledges ORDER BY id")
            .fetch_all(app.db.pool())
            .await
            .unwrap();
        assert_eq!(amounts.len(), i + 1, "{typed:?}: exactly one pledge");
        assert_eq!(amounts[i], cents, "{typed:?}");
    }
    let after = ledger(&app).await;
    assert_eq!(
        (after.donations, after.campaign, after.organisation),
        (before.donations, before.campaign, before.organisation),
        "nothing counted before Stripe says it is paid"
    );
}

// ---------------------------------------------------------------------------------------
// Identity

async fn wrong_identity_fields_are_flagged_one_by_one(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let before = ledger(&app).await;
    let too_long = "A".repeat(101);
    let cases: Vec<(Entries, &str, &str)> = vec![
        (
            vec![("email", "")],
            "email",
            "Indiquez votre adresse e-mail : nous y enverrons votre reçu.",
        ),
        (
            vec![("email", "marie@exemple")],
            "email",
            "Cette adresse e-mail ne semble pas valide (exemple : marie@exemple.fr).",
        ),
        (
            vec![("email", "marie dupont@example.org")],
            "email",
            "Cette adresse e-mail ne semble pas valide (exemple : marie@exemple.fr).",
        ),
        (
            vec![("first_name", "")],
            "first_name",
            "Indiquez votre prénom.",
        ),
        (
            vec![("first_name", &too_long)],
            "first_name",
            "Ce champ est limité à 100 caractères.",
        ),
        (
            vec![("last_name", "   ")],
            "last_name",
            "Indiquez votre nom.",
        ),
        (
            vec![("address_line1", "")],
            "address_line1",
            "Indiquez votre adresse.",
        ),
        (vec![("city", "")], "city", "Indiquez votre ville."),
        (
            vec![("postal_code", "6900")],
            "postal_code",
            "Le code postal doit compter 5 chiffres.",
        ),
        (
            vec![("postal_code", "69OO3")],
            "postal_code",
            "Le code postal doit compter 5 chiffres.",
        ),
        (
            vec![("postal_code", "")],
            "postal_code",
            "Indiquez votre code postal.",
        ),
        (
            vec![("country", "XX")],
            "country",
            "Choisissez votre pays dans la liste.",
        ),
        (
            vec![("dedication_kind", "memory"), ("dedication_name", "")],
            "dedication_name",
            "Indiquez le nom de la personne à qui vous dédiez ce don (100 caractères au plus).",
        ),
        (
            vec![
                ("dedication_kind", "birthday"),
                ("dedication_name", "Mamie"),
            ],
            "dedication_kind",
            "Choisissez une dédicace dans la liste.",
        ),
    ];
    for (overrides, field, message) in cases {
        let response = app.submit_gift(SLUG, &overrides).await;
        let html = assert_refused_field(response, field, message).await;
        for (name, value) in DEFAULT_ENTRIES {
            if !overrides.iter().any(|(k, _)| *k == name) {
                assert_kept(&html, value);
            }
        }
        for (name, value) in &overrides {
            if !value.trim().is_empty() && !["country", "dedication_kind"].contains(name) {
                assert_kept(&html, value);
            }
        }
        assert_eq!(ledger(&app).await, before, "{field}: nothing recorded");
    }
}

async fn control_characters_in_text_fields_are_refused(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let before = ledger(&app).await;
    // A NUL cannot even be stored by PostgreSQL; none of them belongs on a tax receipt.
    for field in [
        "first_name",
        "last_name",
        "address_line1",
        "address_line2",
        "city",
        "dedication_name",
    ] {
        for control in ["\u{0}", "\u{7}", "\u{1b}[2J"] {
            let value = format!("Jean{control}ne");
            let overrides = [
                ("dedication_kind", "honour"),
                ("dedication_name", "Mamie Jeanne"),
                (field, value.as_str()),
            ];
            let response = app.submit_gift(SLUG, &overrides).await;
            assert_eq!(response.status(), 422, "{field} with {control:?}");
            let errors = field_errors(&response.text().await.unwrap());
            assert_eq!(
                errors,
                vec![(
                    format!("{field}-error"),
                    "Ce champ contient des caractères non autorisés.".to_owned()
                )],
                "{field} with {control:?}"
            );
            assert_eq!(ledger(&app).await, before, "{field} with {control:?}");
        }
    }
}

// ---------------------------------------------------------------------------------------
// Campaigns

async fn unknown_and_draft_campaigns_answer_404(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let project = fixtures::insert_project(&app.db, "projet-brouillon", "Projet").await;
    fixtures::insert_campaign(&app.db, project, "en-preparation", "draft", 100_000, 30).await;
    let token = csrf_token(&app, &app.client, SLUG).await;
    let before = ledger(&app).await;
    for slug in ["inexistante", "en-preparation", "Pas%20un%20slug", "%00"] {
        let path = format!("/campagnes/{slug}/don");
        assert_error_page(app.get(&path).await, 404, "Page introuvable").await;
        let posted = post_form(&app, &app.client, slug, &gift_form(Some(&token), &[])).await;
        assert_error_page(posted, 404, "Page introuvable").await;
    }
    assert_eq!(ledger(&app).await, before);
}

async fn closed_and_ended_campaigns_answer_410(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let project = fixtures::insert_project(&app.db, "projet-passe", "Projet passé").await;
    fixtures::insert_campaign(&app.db, project, "close", "closed", 100_000, 30).await;
    fixtures::insert_campaign(&app.db, project, "echue", "published", 100_000, -1).await;
    let token = csrf_token(&app, &app.client, SLUG).await;
    let before = ledger(&app).await;
    for slug in ["close", "echue"] {
        let form_page = app.get(&format!("/campagnes/{slug}/don")).await;
        assert_error_page(form_page, 410, "est terminée").await;
        let posted = post_form(&app, &app.client, slug, &gift_form(Some(&token), &[])).await;
        assert_error_page(posted, 410, "est terminée").await;
    }
    assert_eq!(
        ledger(&app).await,
        before,
        "no pledge for a closed campaign"
    );
}

// ---------------------------------------------------------------------------------------
// CSRF

const CSRF_REFUSED: &str = "Votre session a expiré ou ce formulaire ne vient pas de notre site";

async fn a_post_without_csrf_token_is_refused(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    csrf_token(&app, &app.client, SLUG).await;
    let before = ledger(&app).await;
    let posted = post_form(&app, &app.client, SLUG, &gift_form(None, &[])).await;
    assert_error_page(posted, 403, CSRF_REFUSED).await;
    assert_eq!(ledger(&app).await, before);
}

async fn a_post_with_a_wrong_csrf_token_is_refused(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let token = csrf_token(&app, &app.client, SLUG).await;
    let before = ledger(&app).await;
    let mut wrong = token.clone();
    wrong.replace_range(..1, if token.starts_with('0') { "1" } else { "0" });
    for forged in [wrong.as_str(), "", "null", &format!("{token} ")] {
        let posted = post_form(&app, &app.client, SLUG, &gift_form(Some(forged), &[])).await;
        assert_error_page(posted, 403, CSRF_REFUSED).await;
    }
    // The right token, in a post the browser says comes from another site's page.
    let cross_site = app
        .client
        .post(app.url(&format!("/campagnes/{SLUG}/don")))
        .header("sec-fetch-site", "cross-site")
        .form(&gift_form(Some(&token), &[]))
        .send()
        .await
        .unwrap();
    assert_error_page(cross_site, 403, CSRF_REFUSED).await;
    // And in a post whose `Origin` is another site (a browser without `Sec-Fetch-Site`).
    for origin in ["https://evil.example", "http://127.0.0.1.evil.example"] {
        let elsewhere = app
            .client
            .post(app.url(&format!("/campagnes/{SLUG}/don")))
            .header("origin", origin)
            .form(&gift_form(Some(&token), &[]))
            .send()
            .await
            .unwrap();
        assert_error_page(elsewhere, 403, CSRF_REFUSED).await;
    }
    // A visitor without a session has no token to match, not even an empty one.
    let stranger = another_client();
    let posted = post_form(&app, &stranger, SLUG, &gift_form(Some(""), &[])).await;
    assert_error_page(posted, 403, CSRF_REFUSED).await;
    assert_eq!(ledger(&app).await, before);
    // From our own origin, the same token goes through.
    let ours = app
        .client
        .post(app.url(&format!("/campagnes/{SLUG}/don")))
        .header("origin", &app.address)
        .form(&gift_form(Some(&token), &[]))
        .send()
        .await
        .unwrap();
    assert_eq!(ours.status(), 303, "{}", ours.text().await.unwrap());
}

async fn a_csrf_token_from_another_session_is_refused(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let victim_token = csrf_token(&app, &app.client, SLUG).await;
    let attacker = another_client();
    let attacker_token = csrf_token(&app, &attacker, SLUG).await;
    assert_ne!(attacker_token, victim_token, "one token per session");
    let before = ledger(&app).await;

    let posted = post_form(
        &app,
        &app.client,
        SLUG,
        &gift_form(Some(&attacker_token), &[]),
    )
    .await;
    assert_error_page(posted, 403, CSRF_REFUSED).await;
    let posted = post_form(
        &app,
        &another_client(),
        SLUG,
        &gift_form(Some(&victim_token), &[]),
    )
    .await;
    assert_error_page(posted, 403, CSRF_REFUSED).await;
    assert_eq!(ledger(&app).await, before);

    // The same form with the session's own token goes through.
    let posted = post_form(
        &app,
        &app.client,
        SLUG,
        &gift_form(Some(&victim_token), &[]),
    )
    .await;
    assert_eq!(posted.status(), 303);
    assert_eq!(ledger(&app).await.pledges, before.pledges + 1);
}

async fn viewing_the_form_writes_no_session_and_expired_tokens_are_refused(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let sessions = match backend {
        Backend::Sqlite => "SELECT COUNT(*) FROM tower_sessions",
        Backend::Postgres => "SELECT COUNT(*) FROM tower_sessions.session",
    };
    let before = app.count(sessions).await;
    let mut visitors = Vec::new();
    for _ in 0..50 {
        let visitor = another_client();
        let token = csrf_token(&app, &visitor, SLUG).await;
        visitors.push((visitor, token));
    }
    assert_eq!(
        app.count(sessions).await,
        before,
        "50 views of the form leave no session row"
    );

    // The form still goes through, and only then is a session (the draft) written.
    let (visitor, token) = &visitors[17];
    let pledges = ledger(&app).await.pledges;
    let posted = post_form(&app, visitor, SLUG, &gift_form(Some(token), &[])).await;
    assert_eq!(posted.status(), 303);
    assert_eq!(ledger(&app).await.pledges, pledges + 1);
    assert_eq!(app.count(sessions).await, before + 1);

    // Tokens signed with the server's key for a browser's cookie: refused once expired.
    let key = obole::web::csrf::FormKey::load(&app.db, 0).await.unwrap();
    let nonce = "00112233445566778899aabbccddeeff";
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let post = |token: String| {
        browser
            .post(app.url(&format!("/campagnes/{SLUG}/don")))
            .header("cookie", format!("obole_form={nonce}"))
            .form(&gift_form(Some(&token), &[]))
            .send()
    };
    let before = ledger(&app).await;
    let expired = key.token(nonce, "0123456789abcdef", dates::now() - 1);
    assert_error_page(post(expired).await.unwrap(), 403, CSRF_REFUSED).await;
    let another_browsers = key.token(
        "ffeeddccbbaa99887766554433221100",
        "0123456789abcdef",
        dates::now() + 60,
    );
    assert_error_page(post(another_browsers).await.unwrap(), 403, CSRF_REFUSED).await;
    assert_eq!(ledger(&app).await, before);
    let valid = key.token(nonce, "0123456789abcdef", dates::now() + 60);
    assert_eq!(post(valid).await.unwrap().status(), 303);
}

// ---------------------------------------------------------------------------------------
// Malformed posts

async fn unreadable_form_bodies_answer_400(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let token = csrf_token(&app, &app.client, SLUG).await;
    let valid = urlencoded(&gift_form(Some(&token), &[]));
    let before = ledger(&app).await;
    let url = app.url(&format!("/campagnes/{SLUG}/don"));
    let json: Value = gift_form(Some(&token), &[])
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect::<serde_json::Map<_, _>>()
        .into();

    let bodies: Vec<(&str, Option<&str>, Vec<u8>)> = vec![
        (
            "JSON",
            Some("application/json"),
            json.to_string().into_bytes(),
        ),
        ("no content type", None, valid.clone().into_bytes()),
        (
            "multipart",
            Some("multipart/form-data; boundary=x"),
            valid.clone().into_bytes(),
        ),
        (
            "invalid UTF-8 percent-encoding",
            Some("application/x-www-form-urlencoded"),
            valid
                .replace("first_name=Marie", "first_name=Mar%FF%FEie")
                .into_bytes(),
        ),
        (
            "invalid UTF-8 bytes",
            Some("application/x-www-form-urlencoded"),
            [valid.as_bytes(), b"&city=Ly\xffon"].concat(),
        ),
    ];
    for (what, content_type, body) in bodies {
        let mut request = app.client.post(&url).body(body);
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 400, "{what}");
        assert_error_page(response, 400, "Le formulaire envoyé n'est pas lisible.").await;
        assert_eq!(ledger(&app).await, before, "{what}");
    }

    // The readable version of the same post goes through.
    let response = app
        .client
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(valid)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
}

async fn an_oversized_form_post_answers_413(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let before = ledger(&app).await;
    let padding = "x".repeat(100 * 1024);
    let response = app
        .submit_gift(SLUG, &[("address_line2", padding.as_str())])
        .await;
    assert_error_page(response, 413, "Envoi trop volumineux").await;
    assert_eq!(ledger(&app).await, before);
}

async fn an_unknown_frequency_is_refused(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let before = ledger(&app).await;
    for frequency in ["weekly", "ONCE", "once "] {
        let response = app.submit_gift(SLUG, &[("frequency", frequency)]).await;
        if frequency == "once " {
            // Surrounding spaces are forgiven, as in every other field.
            assert_eq!(response.status(), 303);
            continue;
        }
        assert_eq!(response.status(), 422, "{frequency}");
        let errors = field_errors(&response.text().await.unwrap());
        assert_eq!(
            errors
                .iter()
                .map(|(_, text)| text.as_str())
                .collect::<Vec<_>>(),
            vec!["Choisissez la fréquence de votre don."],
            "{frequency}"
        );
        assert_eq!(ledger(&app).await, before, "{frequency}");
    }
}

// ---------------------------------------------------------------------------------------
// Rate limit

async fn checkouts_beyond_the_rate_limit_answer_429_with_the_entries_kept(backend: Backend) {
    let database = TestDatabase::create(backend).await;
    let mut config = test_config(database.url(), Content::Demo);
    config.checkout_rate_per_minute = 3;
    let app = spawn_with(database, config).await;

    // Mistakes never count: a donor fixing a typo is not held back.
    for attempt in 1..=5 {
        let response = app
            .submit_gift(SLUG, &[("amount", "other"), ("other_amount", "abc")])
            .await;
        assert_eq!(response.status(), 422, "mistake {attempt}");
    }
    for attempt in 1..=3 {
        let response = app.submit_gift(SLUG, &[]).await;
        assert_eq!(response.status(), 303, "checkout {attempt} starts");
    }
    let before = ledger(&app).await;
    let refused = app.submit_gift(SLUG, &[("first_name", "Capucine")]).await;
    assert_eq!(refused.status(), 429, "the 4th checkout in a minute");
    let wait = refused
        .headers()
        .get("retry-after")
        .expect("the answer says how long to wait");
    let seconds: u64 = wait.to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&seconds), "{seconds} s");
    let html = unescape(&refused.text().await.unwrap());
    assert!(html.contains("Trop de tentatives"), "{html}");
    assert!(
        html.contains("name=\"csrf_token\""),
        "the form itself, to try again"
    );
    assert_kept(&html, "Capucine");
    assert_eq!(
        ledger(&app).await,
        before,
        "a valid gift, refused all the same"
    );

    // Per address, not per session: a fresh visitor from the same IP waits too.
    let stranger = another_client();
    let token = csrf_token(&app, &stranger, SLUG).await;
    let posted = post_form(&app, &stranger, SLUG, &gift_form(Some(&token), &[])).await;
    assert_eq!(posted.status(), 429);

    // Reading the form is never limited.
    for _ in 0..10 {
        app.page(&format!("/campagnes/{SLUG}/don")).await;
    }
    assert_eq!(ledger(&app).await, before);
}

/// A visitor whose requests reach Obole through our reverse proxy, which says who they are.
fn client_behind_proxy(forwarded_for: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("x-forwarded-for", forwarded_for.parse().unwrap());
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(headers)
        .build()
        .unwrap()
}

async fn behind_a_proxy_the_limit_is_per_donor_not_per_proxy(backend: Backend) {
    let database = TestDatabase::create(backend).await;
    let mut config = test_config(database.url(), Content::Demo);
    config.checkout_rate_per_minute = 2;
    config.trusted_proxies = 1;
    let app = spawn_with(database, config).await;
    let gift = |token: &str| gift_form(Some(token), &[]);

    let first = client_behind_proxy("203.0.113.1");
    for attempt in 1..=2 {
        // A form loaded afresh each time: the same post sent again is no new checkout.
        let token = csrf_token(&app, &first, SLUG).await;
        let response = post_form(&app, &first, SLUG, &gift(&token)).await;
        assert_eq!(response.status(), 303, "checkout {attempt}");
    }
    let token = csrf_token(&app, &first, SLUG).await;
    let refused = post_form(&app, &first, SLUG, &gift(&token)).await;
    assert_eq!(refused.status(), 429, "the same donor, a third time");

    // Another donor through the same proxy is not held back by the first.
    let second = client_behind_proxy("203.0.113.2");
    let token = csrf_token(&app, &second, SLUG).await;
    let response = post_form(&app, &second, SLUG, &gift(&token)).await;
    assert_eq!(response.status(), 303);

    // Forging an address in front of the proxy's own entry changes nothing.
    let forger = client_behind_proxy("198.51.100.7, 203.0.113.1");
    let token = csrf_token(&app, &forger, SLUG).await;
    let response = post_form(&app, &forger, SLUG, &gift(&token)).await;
    assert_eq!(response.status(), 429);
}

// ---------------------------------------------------------------------------------------
// Webhooks

async fn webhook_without_signature_is_refused(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let event = undelivered_checkout_event(&app).await;
    assert_webhook_refused(&app, event.to_string(), None).await;
    assert_webhook_refused(&app, event.to_string(), header("")).await;
    assert_genuine_event_applies(&app, &event).await;
}

async fn webhook_with_a_malformed_signature_header_is_refused(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let event = undelivered_checkout_event(&app).await;
    let payload = event.to_string();
    let good = app.sandbox().sign(&payload, dates::now());
    let (t, v1) = good.split_once(',').unwrap();
    let malformed = [
        "garbage".to_owned(),
        t.to_owned(),
        v1.to_owned(),
        format!("t=abc,{v1}"),
        format!("{t},v1=not-hex"),
        format!("{t},v0={}", &v1[3..]),
        format!("{t};{v1}"),
    ];
    for value in &malformed {
        assert_webhook_refused(&app, payload.clone(), header(value)).await;
    }
    // Bytes that are not even text.
    let binary = HeaderValue::from_bytes(format!("{t},v1=\u{e9}").as_bytes()).unwrap();
    assert_webhook_refused(&app, payload, Some(binary)).await;
    assert_genuine_event_applies(&app, &event).await;
}

async fn webhook_signed_with_another_secret_is_refused(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let event = undelivered_checkout_event(&app).await;
    let payload = event.to_string();
    let forged = Webhook::generate_test_header(&payload, "whsec_not_ours", Some(dates::now()));
    assert_webhook_refused(&app, payload, header(&forged)).await;
    assert_genuine_event_applies(&app, &event).await;
}

async fn webhook_signature_over_another_body_is_refused(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let event = undelivered_checkout_event(&app).await;
    let payload = event.to_string();
    let signature = signed(&app, &payload);
    let mut inflated = event.clone();
    inflated["data"]["object"]["amount_total"] = 3_000_000.into();
    assert_webhook_refused(&app, inflated.to_string(), signature.clone()).await;
    // Even a whitespace of difference.
    assert_webhook_refused(&app, format!("{payload} "), signature).await;
    assert_genuine_event_applies(&app, &event).await;
}

async fn webhook_signed_outside_the_time_tolerance_is_refused(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let event = undelivered_checkout_event(&app).await;
    let payload = event.to_string();
    let now = dates::now();
    let old = app.sandbox().sign(&payload, now - 301);
    assert_webhook_refused(&app, payload.clone(), header(&old)).await;
    // 302 s ahead: still more than 300 s if a second ticks before the server checks.
    let future = app.sandbox().sign(&payload, now + 302);
    assert_webhook_refused(&app, payload.clone(), header(&future)).await;

    let recent = app.sandbox().sign(&payload, dates::now() - 240);
    let response = post_webhook(&app, payload, header(&recent)).await;
    assert_eq!(response.status(), 200, "within the 5 minutes' tolerance");
    assert_eq!(app.count("SELECT COUNT(*) FROM stripe_events").await, 1);
}

async fn signed_webhook_that_is_not_an_event_is_refused(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let event = undelivered_checkout_event(&app).await;
    for payload in [
        "pas du json",
        "",
        "{}",
        "[1, 2, 3]",
        r#"{"type": "checkout.session.completed"}"#,
        r#"{"id": "evt_sans_objet", "type": "checkout.session.completed", "data": {}}"#,
        r#"{"id": "evt_tronque", "type": "checkout.session.completed", "data": {"object": {"id": "cs_x""#,
    ] {
        assert_webhook_refused(&app, payload.to_owned(), signed(&app, payload)).await;
    }
    // A checkout event stripped of the session fields it is about.
    let mut hollow = event.clone();
    hollow["id"] = "evt_creux".into();
    hollow["data"]["object"] =
        serde_json::json!({ "metadata": event["data"]["object"]["metadata"] });
    let hollow = hollow.to_string();
    assert_webhook_refused(&app, hollow.clone(), signed(&app, &hollow)).await;
    assert_genuine_event_applies(&app, &event).await;
}

async fn signed_webhook_over_one_mebibyte_is_refused(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let event = undelivered_checkout_event(&app).await;
    let mut padded = event.clone();
    padded["padding"] = "x".repeat(1024 * 1024).into();
    let payload = padded.to_string();
    assert!(payload.len() > 1024 * 1024);
    assert_webhook_refused(&app, payload.clone(), signed(&app, &payload)).await;

    // Large but below the limit (well above the 64 KiB of forms): applied.
    padded["padding"] = "x".repeat(512 * 1024).into();
    let payload = padded.to_string();
    let response = post_webhook(&app, payload.clone(), signed(&app, &payload)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM donations WHERE pledge_id IS NOT NULL")
            .await,
        1
    );
}

async fn signed_event_of_an_unknown_type_is_recorded_once_and_ignored(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let event = undelivered_checkout_event(&app).await;
    // A real session's payload under a type Obole does not know: nothing may be read into it.
    let mut unknown = event.clone();
    unknown["id"] = "evt_type_inconnu".into();
    unknown["type"] = "checkout.session.reviewed".into();
    let before = ledger(&app).await;
    for _ in 0..2 {
        assert_eq!(app.deliver(&unknown).await, 200);
    }
    let recorded: Vec<(String, String)> =
        sqlx::query_as("SELECT id, event_type FROM stripe_events")
            .fetch_all(app.db.pool())
            .await
            .unwrap();
    assert_eq!(
        recorded,
        vec![(
            "evt_type_inconnu".to_owned(),
            "checkout.session.reviewed".to_owned()
        )]
    );
    let after = ledger(&app).await;
    assert_eq!(
        after,
        Ledger {
            stripe_events: before.stripe_events + 1,
            ..before
        }
    );
    let pledge_status: String = sqlx::query_scalar("SELECT status FROM pledges")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(pledge_status, "open");
}

/// A change to an event's JSON.
type Mutation = fn(&mut Value);

/// `mutated` is refused by async-stripe's typed reading, which accepts `original`.
fn assert_typed_client_rejects(original: &Value, mutated: &Value) {
    assert!(
        Webhook::insecure(&original.to_string()).is_ok(),
        "the sandbox's event parses"
    );
    assert!(
        Webhook::insecure(&mutated.to_string()).is_err(),
        "the typed client refuses the mutated event"
    );
}

async fn checkout_event_the_typed_client_rejects_is_applied_from_its_json(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let mutations: [(&str, Mutation); 3] = [
        ("no automatic_tax", |e| {
            e["data"]["object"]
                .as_object_mut()
                .unwrap()
                .remove("automatic_tax");
        }),
        ("no created on the session", |e| {
            e["data"]["object"]
                .as_object_mut()
                .unwrap()
                .remove("created");
        }),
        ("livemode as a string", |e| e["livemode"] = "false".into()),
    ];
    for (i, (what, mutate)) in mutations.iter().enumerate() {
        let email = format!("repli{i}@example.org");
        let events = undelivered_events(&app, &[("email", email.as_str())]).await;
        let event = event_of_type(&events, "checkout.session.completed");
        let mut changed = event.clone();
        mutate(&mut changed);
        assert_typed_client_rejects(&event, &changed);

        let before = ledger(&app).await;
        assert_eq!(app.deliver(&changed).await, 200, "{what}");
        let after = ledger(&app).await;
        assert_eq!(after.stripe_events, before.stripe_events + 1, "{what}");
        assert_eq!(after.donations, before.donations + 1, "{what}: recorded");
        assert_eq!(
            (after.campaign.raised_cents, after.campaign.donors),
            (
                before.campaign.raised_cents + 3000,
                before.campaign.donors + 1
            ),
            "{what}: counted"
        );
        assert_eq!(
            after.organisation.raised_cents,
            before.organisation.raised_cents + 3000,
            "{what}"
        );
        let (status, amount): (String, i64) = sqlx::query_as(
            "SELECT d.status, d.amount_cents FROM donations d \
             JOIN supporters s ON s.id = d.supporter_id WHERE s.email = $1",
        )
        .bind(&email)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
        assert_eq!((status.as_str(), amount), ("paid", 3000), "{what}");
    }
}

async fn invoice_event_the_typed_client_rejects_is_applied_from_its_json(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let fields = [
        ("frequency", "monthly"),
        ("amount", "2500"),
        ("email", "mensuel@example.org"),
    ];
    let events = undelivered_events(&app, &fields).await;
    let before = ledger(&app).await;
    for event in &events {
        let mut event = event.clone();
        if event["type"] == "invoice.paid" {
            let original = event.clone();
            event["livemode"] = "false".into();
            event["data"]["object"]
                .as_object_mut()
                .unwrap()
                .remove("created");
            assert_typed_client_rejects(&original, &event);
        }
        assert_eq!(app.deliver(&event).await, 200, "{}", event["type"]);
    }
    let donations: Vec<(String, i64, String)> = sqlx::query_as(
        "SELECT status, amount_cents, frequency FROM donations \
         WHERE recurring_gift_id IS NOT NULL AND stripe_invoice_id IS NOT NULL",
    )
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    assert_eq!(
        donations,
        vec![("paid".to_owned(), 2500, "monthly".to_owned())]
    );
    let after = ledger(&app).await;
    assert_eq!(after.donations, before.donations + 1);
    assert_eq!(
        after.campaign.raised_cents,
        before.campaign.raised_cents + 2500
    );
    assert_eq!(after.stripe_events, events.len() as i64);
}

async fn signed_event_for_an_unknown_pledge_is_acknowledged_and_ignored(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let event = undelivered_checkout_event(&app).await;
    let mut stray = event.clone();
    stray["id"] = "evt_promesse_inconnue".into();
    stray["data"]["object"]["metadata"]["pledge_id"] = "999999".into();
    let mut unreadable = event.clone();
    unreadable["id"] = "evt_promesse_illisible".into();
    unreadable["data"]["object"]["metadata"]["pledge_id"] = "1 OR 1=1".into();
    let before = ledger(&app).await;

    for event in [&stray, &unreadable] {
        assert_eq!(app.deliver(event).await, 200);
    }
    assert_eq!(
        ledger(&app).await,
        Ledger {
            stripe_events: before.stripe_events + 2,
            ..before
        },
        "only the event ids are recorded"
    );
    let pledge_status: String = sqlx::query_scalar("SELECT status FROM pledges")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(pledge_status, "open", "the real pledge is untouched");
    assert_genuine_event_applies(&app, &event).await;
}

// ---------------------------------------------------------------------------------------
// Thank-you page

/// What cannot be a Checkout Session id is a 404; a well-formed id this browser did not
/// start (unknown, or another donor's: see `checkout_secrets`) the page that says nothing.
async fn thank_you_page_for_unknown_sessions_is_404(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    // A real pledge exists, so a lookup that matched anything would show it.
    app.submit_gift(SLUG, &[]).await;
    let unknown = app.get("/merci?session_id=cs_inconnu").await;
    assert_eq!(unknown.status(), 200);
    let unknown = unknown.text().await.unwrap();
    assert!(
        unknown.contains("Si vous venez de faire un don"),
        "{unknown}"
    );
    let section = unknown
        .split("class=\"wrap section thanks\"")
        .nth(1)
        .expect("the page's section");
    assert!(
        !section.contains("Marie") && !section.contains("30"),
        "{section}"
    );
    // Far longer than any id of Stripe's, within the address limit (beyond it: 414).
    let long = format!("/merci?session_id=cs_{}", "a".repeat(4_000));
    for path in [
        "/merci",
        "/merci?session_id=",
        "/merci?autre=cs_inconnu",
        "/merci?session_id=cs_%00",
        "/merci?session_id=%25",
        "/merci?session_id=cs_%FF",
        "/merci?session_id=%27%20OR%20%271%27=%271",
        long.as_str(),
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 404, "{}", &path[..path.len().min(60)]);
        assert!(response.text().await.unwrap().contains("Page introuvable"));
    }
}
