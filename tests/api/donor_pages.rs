//! What donors read and choose on the form and the thank-you page: the amount charged is the
//! one ticked, entries survive every detour, and every state of a gift says where it stands.

use obole::domain::dates::{self, DAY};
use obole::domain::tax::TaxReduction;

use crate::helpers::fixtures::{self, Gift};
use crate::helpers::{
    Backend, Content, TestApp, TestDatabase, plain, spawn_app, spawn_with, test_config,
};
use crate::supporter_space::csrf;

dual_backend_tests!(
    a_suggestion_ticked_beside_a_typed_amount_is_asked_about,
    the_frequency_and_its_suggestions_are_chosen_in_the_form,
    the_cost_after_reduction_shows_from_the_first_visit_without_javascript,
    the_confirming_page_stops_refreshing_after_a_minute,
    a_refunded_gift_says_so_on_the_thank_you_page,
    a_failed_or_abandoned_gift_leads_back_to_the_filled_form,
    the_tax_wording_follows_the_configuration,
    a_gift_dated_ahead_by_the_sandbox_clock_shows_as_today_s,
    a_one_off_gift_can_go_on_each_month_in_one_click,
);

const SLUG: &str = "le-sport-pour-grandir";

/// The amount of the last pledge started, in cents.
async fn last_pledge_amount(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT amount_cents FROM pledges ORDER BY id DESC LIMIT 1")
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

async fn a_suggestion_ticked_beside_a_typed_amount_is_asked_about(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let pledges = app.count("SELECT COUNT(*) FROM pledges").await;
    // 30 € ticked, 50 typed earlier (a browser without JavaScript cannot clear it).
    let conflict = app
        .submit_gift(SLUG, &[("amount", "3000"), ("other_amount", "50")])
        .await;
    assert_eq!(conflict.status(), 422);
    let html = plain(&conflict.text().await.unwrap());
    assert!(html.contains("Autre montant"), "{html}");
    assert!(html.contains("value=\"50\""), "the typed amount is kept");
    assert_eq!(app.count("SELECT COUNT(*) FROM pledges").await, pledges);

    // The free amount counts once « Autre montant » is ticked; the suggestion when it is.
    let free = [("amount", "other"), ("other_amount", "50")];
    assert_eq!(app.submit_gift(SLUG, &free).await.status(), 303);
    assert_eq!(last_pledge_amount(&app).await, 5_000);
    let suggested = [("amount", "3000"), ("other_amount", "")];
    assert_eq!(app.submit_gift(SLUG, &suggested).await.status(), 303);
    assert_eq!(last_pledge_amount(&app).await, 3_000);
}

async fn the_frequency_and_its_suggestions_are_chosen_in_the_form(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let form = app
        .page(&format!("/campagnes/{SLUG}/don?frequence=monthly"))
        .await;
    for frequency in ["once", "monthly", "yearly"] {
        assert!(
            form.contains(&format!("name=\"amount_{frequency}\"")),
            "the {frequency} suggestions are on the page"
        );
    }
    assert!(form.contains("name=\"frequency\" value=\"monthly\""));
    assert!(
        form.contains(" checked>\n          Chaque mois"),
        "monthly is ticked"
    );

    // Ticking « Chaque mois » counts the monthly group, whatever the others hold.
    let monthly = [
        ("frequency", "monthly"),
        ("amount", ""),
        ("amount_once", "5000"),
        ("amount_monthly", "1500"),
        ("other_amount", ""),
    ];
    assert_eq!(app.submit_gift(SLUG, &monthly).await.status(), 303);
    assert_eq!(last_pledge_amount(&app).await, 1_500);
    let frequency: String =
        sqlx::query_scalar("SELECT frequency FROM pledges ORDER BY id DESC LIMIT 1")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(frequency, "monthly");
}

async fn the_cost_after_reduction_shows_from_the_first_visit_without_javascript(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let first = plain(&app.page(&format!("/campagnes/{SLUG}/don")).await);
    assert!(
        first.contains("soit 20,40 € après réduction d’impôt"),
        "each suggestion shows its cost: {first}"
    );
    assert!(
        !first.contains("\" checked data-default"),
        "nothing ticked for the donor"
    );
    assert!(
        first.contains("data-default"),
        "the script knows what to tick"
    );
    assert!(first.contains("66 % de votre don ouvre droit à une réduction d’impôt"));
    // Without the script nothing is ticked, so a free amount typed counts at once.
    let typed = [("amount", ""), ("other_amount", "45")];
    assert_eq!(app.submit_gift(SLUG, &typed).await.status(), 303);
    // A link with an amount no suggestion has: it is the free amount, and its cost is shown.
    let linked = plain(
        &app.page(&format!("/campagnes/{SLUG}/don?montant=4550"))
            .await,
    );
    assert!(linked.contains("name=\"other_amount\" inputmode=\"decimal\" value=\"45,50\""));
    assert!(linked.contains("name=\"amount_once\" value=\"other\" checked"));
    assert!(
        linked.contains("ne vous coûtera que <strong>15,47 €</strong>."),
        "{linked}"
    );
}

/// The Checkout Session of a gift paid in the sandbox whose webhooks were not delivered.
async fn paid_without_webhooks(app: &TestApp, fields: &[(&str, &str)]) -> String {
    app.sandbox().set_auto_deliver(false);
    let (session_id, paid) = app.give(SLUG, fields, "card").await;
    assert_eq!(paid.status(), 303);
    session_id
}

async fn the_confirming_page_stops_refreshing_after_a_minute(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let session_id = paid_without_webhooks(&app, &[]).await;
    let first = app.page(&format!("/merci?session_id={session_id}")).await;
    assert!(
        first.contains(&format!(
            "href=\"/merci?session_id={session_id}&#38;essai=1\" data-poll"
        )),
        "{first}"
    );
    let last = app
        .page(&format!("/merci?session_id={session_id}&essai=15"))
        .await;
    assert!(
        !last.contains("data-poll") && !last.contains("thanks.js"),
        "{last}"
    );
    assert!(plain(&last).contains("votre don sera enregistré dès qu’elle arrivera"));
}

async fn a_refunded_gift_says_so_on_the_thank_you_page(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let (session_id, _) = app
        .give(SLUG, &[("email", "rendu@example.org")], "card")
        .await;
    app.settle_webhooks().await;
    let payment_intent: String = sqlx::query_scalar(
        "SELECT stripe_payment_intent_id FROM donations WHERE stripe_checkout_session_id = $1",
    )
    .bind(&session_id)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    let thanks_url = format!("/merci?session_id={session_id}");

    // 10 € of the 30 € given back: the rest is still a gift, and its cost is on 20 €.
    app.refund(&payment_intent, Some(1_000)).await;
    app.settle_webhooks().await;
    let partly = plain(&app.page(&thanks_url).await);
    assert!(partly.contains("Don confirmé"), "{partly}");
    assert!(partly.contains("10 € vous ont été remboursés"));
    assert!(
        partly.contains("<strong>6,80 €</strong>"),
        "66 % off 20 €: {partly}"
    );

    app.refund(&payment_intent, None).await;
    app.settle_webhooks().await;
    let all = plain(&app.page(&thanks_url).await);
    assert!(all.contains("Don remboursé"), "{all}");
    assert!(!all.contains("Don confirmé"));
    assert!(!all.contains("reçu fiscal vous sera envoyé"));

    // A monthly gift whose only instalment was given back.
    let monthly = [
        ("frequency", "monthly"),
        ("amount", "2500"),
        ("email", "rendu-mensuel@example.org"),
    ];
    let (session_id, _) = app.give(SLUG, &monthly, "card").await;
    app.settle_webhooks().await;
    let invoice: String = sqlx::query_scalar(
        "SELECT d.stripe_invoice_id FROM donations d JOIN supporters s ON s.id = d.supporter_id \
         WHERE s.email = 'rendu-mensuel@example.org'",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    let instalment = app.payment_intent_of_invoice(&invoice).await;
    app.refund(&instalment, None).await;
    app.settle_webhooks().await;
    let monthly_page = plain(&app.page(&format!("/merci?session_id={session_id}")).await);
    assert!(monthly_page.contains("Don remboursé"), "{monthly_page}");
}

/// The link of the page's main button.
fn button_link(html: &str) -> String {
    html.split("<a class=\"button\" href=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a button")
        .replace("&#38;", "&")
}

async fn a_failed_or_abandoned_gift_leads_back_to_the_filled_form(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let fields = [("first_name", "Ysaline"), ("email", "ysaline@example.org")];

    // A SEPA debit the bank rejected: « Réessayer » opens the form as it was.
    let (session_id, _) = app.give(SLUG, &fields, "sepa_fails").await;
    app.settle_webhooks().await;
    app.sandbox().advance_clock(3 * 24 * 3600).await;
    app.settle_webhooks().await;
    let failed = app.page(&format!("/merci?session_id={session_id}")).await;
    let retry = button_link(&failed);
    assert!(
        retry.contains(&format!("reprendre={session_id}")),
        "{retry}"
    );
    // Another gift started since in this browser does not take its place.
    let other = [
        ("first_name", "Octave"),
        ("frequency", "monthly"),
        ("amount", "other"),
        ("other_amount", "47"),
    ];
    assert_eq!(app.submit_gift(SLUG, &other).await.status(), 303);
    let form = app.page(&retry).await;
    assert!(form.contains("value=\"Ysaline\""), "the gift retried");
    assert!(!form.contains("Octave"));
    // From another browser: a new form, nothing of the gift (see `checkout_secrets`).
    let stranger = reqwest::Client::new();
    let elsewhere = stranger.get(app.url(&retry)).send().await.unwrap();
    assert_eq!(elsewhere.status(), 200);
    let elsewhere = elsewhere.text().await.unwrap();
    assert!(
        !elsewhere.contains("Ysaline"),
        "no identity for whoever has the link"
    );
    assert!(
        !elsewhere.contains("name=\"other_amount\" inputmode=\"decimal\" value=\"30\""),
        "nor the amount: {elsewhere}"
    );

    // A checkout left until it expired: no dead link to it, the form instead.
    let submitted = app.submit_gift(SLUG, &fields).await;
    let checkout = submitted.headers()["location"].to_str().unwrap().to_owned();
    let session_id = checkout.rsplit('/').next().unwrap().to_owned();
    let open = app.page(&format!("/merci?session_id={session_id}")).await;
    assert_eq!(
        button_link(&open),
        checkout,
        "while open, back to the checkout"
    );
    app.sandbox().advance_clock(2 * 24 * 3600).await;
    app.settle_webhooks().await;
    let expired = app.page(&format!("/merci?session_id={session_id}")).await;
    let resume = button_link(&expired);
    assert!(
        resume.starts_with(&format!("/campagnes/{SLUG}/don")),
        "{resume}"
    );
    assert!(app.page(&resume).await.contains("value=\"Ysaline\""));
}

async fn the_tax_wording_follows_the_configuration(backend: Backend) {
    let database = TestDatabase::create(backend).await;
    let mut config = test_config(database.url(), Content::Demo);
    config.tax_reduction = TaxReduction {
        rate_percent: 75,
        ceiling_cents: Some(100_000),
        base_rate_percent: 66,
    };
    let app = spawn_with(database, config).await;
    let campaign = plain(&app.page(&format!("/campagnes/{SLUG}")).await);
    assert!(
        campaign.contains("75 % de votre don, jusqu’à 1 000 €"),
        "{campaign}"
    );
    assert!(campaign.contains("un don de 50 € ne vous coûte que 12,50 €"));
    assert!(!campaign.contains("déductible"));

    // 2 000 € once: 75 % of 1 000 € and 66 % of the rest, as the live preview computes too.
    let form = app
        .submit_gift(
            SLUG,
            &[
                ("amount", "other"),
                ("other_amount", "2000"),
                ("email", "x"),
            ],
        )
        .await;
    let html = plain(&form.text().await.unwrap());
    assert!(
        html.contains("ne vous coûtera que <strong>590 €</strong>."),
        "{html}"
    );
    assert!(html.contains("data-tax-ceiling=\"100000\""));
}

/// The demo's sandbox clock, moved ahead to show renewals, dates their gifts in the future:
/// the campaign page's donors never read a date after today.
async fn a_gift_dated_ahead_by_the_sandbox_clock_shows_as_today_s(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let campaign = fixtures::campaign_id(&app.db, SLUG).await;
    let gift = Gift {
        campaign_id: campaign,
        email: "avance@example.org",
        first_name: "Zélie",
        last_name: "Avance",
        amount_cents: 2_000,
        show_publicly: true,
    };
    let id = fixtures::give(&app.db, gift).await;
    let ahead = dates::now() + 40 * DAY;
    sqlx::query("UPDATE donations SET donated_at = $1 WHERE id = $2")
        .bind(ahead)
        .bind(id)
        .execute(app.db.pool())
        .await
        .unwrap();
    let page = plain(&app.page(&format!("/campagnes/{SLUG}")).await);
    let entry = &page[page.find("Zélie A.").expect("listed")..];
    let entry = &entry[..entry.len().min(200)];
    assert!(entry.contains(&dates::french_date(dates::now())), "{entry}");
    assert!(!entry.contains(&dates::french_date(ahead)), "{entry}");
}

/// After a one-off gift of 60 €, the thank-you page offers 5 € a month (a twelfth), and one
/// click opens a new checkout for it, with the same donor; nothing is offered after a
/// monthly gift.
async fn a_one_off_gift_can_go_on_each_month_in_one_click(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let fields = [("amount", "6000"), ("email", "chaque-mois@example.org")];
    let (session_id, paid) = app.give(SLUG, &fields, "card").await;
    assert_eq!(paid.status(), 303);
    app.settle_webhooks().await;
    let page = app.page(&format!("/merci?session_id={session_id}")).await;
    let text = plain(&page);
    assert!(
        text.contains("5 € par mois, c’est 60 € sur une année"),
        "{text}"
    );
    let refused = app
        .client
        .post(app.url("/merci/mensuel"))
        .form(&[("session_id", session_id.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403, "no token, no checkout");
    let accepted = app
        .client
        .post(app.url("/merci/mensuel"))
        .form(&[
            ("csrf_token", csrf(&page).as_str()),
            ("session_id", session_id.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), 303);
    let checkout = accepted.headers()["location"].to_str().unwrap();
    assert!(
        !checkout.ends_with(&session_id),
        "a new checkout: {checkout}"
    );
    let pledge: (String, i64, String, Option<String>) = sqlx::query_as(
        "SELECT frequency, amount_cents, email, utm_source FROM pledges ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(
        pledge,
        (
            "monthly".to_owned(),
            500,
            "chaque-mois@example.org".to_owned(),
            Some("page-merci".to_owned())
        )
    );

    let monthly = [("frequency", "monthly"), ("amount", "1500")];
    let (monthly_session, _) = app.give(SLUG, &monthly, "card").await;
    app.settle_webhooks().await;
    let page = app
        .page(&format!("/merci?session_id={monthly_session}"))
        .await;
    assert!(!page.contains("/merci/mensuel"), "already monthly");
}
