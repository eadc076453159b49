//! « Mon espace », the rest of it: the profile (name and address, email preferences, a new
//! email confirmed by a link), the supporter's data downloaded or erased, a cancelled gift
//! taken up again, the link offered on the thank-you page, and what the dashboard says of
//! the projects supported. Real HTTP with a cookie jar, against the sandbox, on both
//! backends.

use std::time::Duration;

use obole::store::counters;

use crate::emails::{SLUG, give_by_card, read, spawn_sending_to};
use crate::helpers::{Backend, Content, TestApp, fixtures, plain, spawn_app};
use crate::smtp_sink::SmtpSink;
use crate::supporter_space::{Browser, DONOR, csrf, gift, gift_action, only_gift_id, signed_in};

dual_backend_tests!(
    a_supporter_edits_their_name_and_address_and_earlier_gifts_keep_theirs,
    email_preferences_are_saved_with_their_history,
    a_new_email_is_confirmed_by_a_link_sent_to_it,
    a_supporter_downloads_their_data_as_json_and_csv,
    erasing_an_account_stops_its_gifts_and_keeps_the_ledger,
    a_cancelled_gift_is_taken_up_again_as_a_new_one_linked_to_it,
    the_thank_you_page_sends_a_sign_in_link_to_the_gift_s_address,
    the_dashboard_tells_what_the_gifts_made_possible,
);

/// The path of the first link to `prefix` in an email's text.
fn link_in(text: &str, prefix: &str) -> String {
    let start = text.find(prefix).expect("the link");
    text[start..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect()
}

async fn supporter_row(app: &TestApp, email: &str) -> (String, String, String, String) {
    sqlx::query_as(
        "SELECT first_name, last_name, address_line1, postal_code FROM supporters WHERE email = $1",
    )
    .bind(email)
    .fetch_one(app.db.pool())
    .await
    .unwrap()
}

const ADDRESS: [(&str, &str); 7] = [
    ("first_name", "Marie-Anne"),
    ("last_name", "Dupont"),
    ("address_line1", "12 avenue Jean Jaurès"),
    ("address_line2", ""),
    ("postal_code", "69007"),
    ("city", "Lyon"),
    ("country", "FR"),
];

async fn a_supporter_edits_their_name_and_address_and_earlier_gifts_keep_theirs(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    give_by_card(&app, &[("amount", "6000")]).await;
    let before = supporter_row(&app, DONOR).await;
    let browser = signed_in(&app, DONOR).await;
    let (status, page) = browser.get("/mon-espace/profil").await;
    assert_eq!(status, 200);
    assert!(page.contains(&format!("value=\"{}\"", before.0)), "{page}");

    // Wrong fields: each explained, nothing saved.
    let mut wrong = ADDRESS.to_vec();
    wrong[4] = ("postal_code", "6900");
    wrong[0] = ("first_name", " ");
    let refused = browser
        .submit("/mon-espace/profil", "/mon-espace/profil", &wrong)
        .await;
    assert_eq!(refused.status(), 422);
    let html = plain(&refused.text().await.unwrap());
    assert!(html.contains("Indiquez votre prénom"), "{html}");
    assert!(
        html.contains("12 avenue Jean Jaurès"),
        "what was typed stays: {html}"
    );
    assert_eq!(supporter_row(&app, DONOR).await, before);

    let saved = browser
        .submit("/mon-espace/profil", "/mon-espace/profil", &ADDRESS)
        .await;
    assert_eq!(saved.status(), 303);
    assert_eq!(
        supporter_row(&app, DONOR).await,
        (
            "Marie-Anne".to_owned(),
            "Dupont".to_owned(),
            "12 avenue Jean Jaurès".to_owned(),
            "69007".to_owned()
        )
    );
    let (_, page) = browser.get("/mon-espace/profil?fait=identite").await;
    assert!(
        plain(&page).contains("vos prochains reçus fiscaux"),
        "{page}"
    );
    // The gift keeps the identity it was given with.
    let pledge: (String, String) =
        sqlx::query_as("SELECT first_name, address_line1 FROM pledges WHERE status = 'completed'")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(pledge, (before.0.clone(), before.2.clone()));
}

async fn consents(app: &TestApp) -> Vec<(String, i64, String)> {
    sqlx::query_as("SELECT topic, granted, source FROM consent_changes ORDER BY id")
        .fetch_all(app.db.pool())
        .await
        .unwrap()
}

async fn email_preferences_are_saved_with_their_history(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    give_by_card(&app, &[("amount", "6000")]).await;
    let browser = signed_in(&app, DONOR).await;
    let both = [("news", "1"), ("instalments", "1")];
    let saved = browser
        .submit("/mon-espace/profil", "/mon-espace/preferences", &both)
        .await;
    assert_eq!(saved.status(), 303);
    let flags: (i64, i64) =
        sqlx::query_as("SELECT news_consent, instalment_emails FROM supporters WHERE email = $1")
            .bind(DONOR)
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(flags, (1, 1));
    // The same choice again records nothing; unticking both records two withdrawals.
    browser
        .submit("/mon-espace/profil", "/mon-espace/preferences", &both)
        .await;
    browser
        .submit("/mon-espace/profil", "/mon-espace/preferences", &[])
        .await;
    let space = |topic: &str, granted| (topic.to_owned(), granted, "space".to_owned());
    assert_eq!(
        consents(&app).await,
        [
            space("news", 1),
            space("instalments", 1),
            space("news", 0),
            space("instalments", 0)
        ]
    );
    let (_, page) = browser.get("/mon-espace/profil").await;
    assert!(!page.contains(" checked>"), "both unticked: {page}");
    // Without its token, the form changes nothing.
    let forged = browser
        .post("/mon-espace/preferences", &[("news", "1")])
        .await;
    assert_eq!(forged.status(), 403);
    assert_eq!(consents(&app).await.len(), 4);
}

async fn a_new_email_is_confirmed_by_a_link_sent_to_it(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = spawn_sending_to(backend, &sink).await;
    give_by_card(&app, &[("amount", "6000")]).await;
    sink.wait_for(1).await;
    let campaign = fixtures::campaign_id(&app.db, SLUG).await;
    fixtures::give(&app.db, gift(campaign, "deja@example.org", 1_000)).await;
    let browser = signed_in(&app, DONOR).await;

    for (typed, status, says) in [
        ("", 422, "Indiquez votre nouvelle adresse"),
        ("pas-une-adresse", 422, "ne semble pas valide"),
        (DONOR, 422, "déjà votre adresse"),
    ] {
        let response = browser
            .submit(
                "/mon-espace/profil",
                "/mon-espace/adresse",
                &[("email", typed)],
            )
            .await;
        assert_eq!(response.status(), status, "{typed}");
        assert!(response.text().await.unwrap().contains(says), "{typed}");
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM sign_in_tokens").await,
        1,
        "only the sign-in"
    );

    let new = "marie.nouvelle@example.org";
    let asked = browser
        .submit(
            "/mon-espace/profil",
            "/mon-espace/adresse",
            &[("email", new)],
        )
        .await;
    assert_eq!(asked.status(), 200);
    assert!(
        asked
            .text()
            .await
            .unwrap()
            .contains("Un lien vient d’être envoyé")
    );
    // Nothing changes until the link is opened.
    assert_eq!(
        app.count("SELECT COUNT(*) FROM supporters WHERE email = 'marie.nouvelle@example.org'")
            .await,
        0
    );
    let received = sink.wait_for(2).await;
    let message = received.last().unwrap();
    assert_eq!(message.recipients, [new], "sent to the new address");
    let (subject, text, _) = read(message);
    assert_eq!(subject, "Confirmez votre nouvelle adresse e-mail");
    let link = link_in(&text, "/mon-espace/adresse/");

    // The link does not sign anyone in, and a sign-in link does not change an address.
    let as_sign_in = link.replace("/mon-espace/adresse/", "/mon-espace/connexion/");
    assert_eq!(Browser::new(&app).get(&as_sign_in).await.0, 404);

    // Opened in another browser (the new mailbox may be read elsewhere).
    let elsewhere = Browser::new(&app);
    let (status, page) = elsewhere.get(&link).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains(new), "{page}");
    let confirmed = elsewhere.post(&link, &[("csrf_token", &csrf(&page))]).await;
    assert_eq!(confirmed.status(), 200);
    assert!(plain(&confirmed.text().await.unwrap()).contains("Votre adresse est maintenant"));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM supporters WHERE email = 'marie.nouvelle@example.org'")
            .await,
        1
    );
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM supporters WHERE email = '{DONOR}'"
        ))
        .await,
        0
    );
    // « Confirmer » pressed twice: said to be done, nothing more happens.
    let twice = elsewhere.post(&link, &[("csrf_token", &csrf(&page))]).await;
    assert_eq!(twice.status(), 200);
    assert!(
        plain(&twice.text().await.unwrap()).contains("C’est déjà pris en compte"),
        "the same post, sent again"
    );
    // Used once only: from a page loaded afresh, the link is spent.
    let (_, fresh) = elsewhere.get("/mon-espace").await;
    let again = elsewhere
        .post(&link, &[("csrf_token", &csrf(&fresh))])
        .await;
    assert_eq!(again.status(), 410);

    // Another supporter's address: refused when the link is opened, nothing changes.
    browser
        .submit(
            "/mon-espace/profil",
            "/mon-espace/adresse",
            &[("email", "deja@example.org")],
        )
        .await;
    let received = sink.wait_for(3).await;
    let (_, text, _) = read(received.last().unwrap());
    let link = link_in(&text, "/mon-espace/adresse/");
    let (_, page) = elsewhere.get(&link).await;
    let taken = elsewhere.post(&link, &[("csrf_token", &csrf(&page))]).await;
    assert_eq!(taken.status(), 409);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM supporters WHERE email = 'marie.nouvelle@example.org'")
            .await,
        1
    );
}

async fn a_supporter_downloads_their_data_as_json_and_csv(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = spawn_sending_to(backend, &sink).await;
    give_by_card(
        &app,
        &[
            ("amount", "6000"),
            ("last_name", "=1+1"),
            ("news_consent", "1"),
        ],
    )
    .await;
    sink.wait_for(1).await;
    // The thank-you's record is written with its job's outcome.
    for _ in 0..100 {
        if app.count("SELECT COUNT(*) FROM emails_sent").await == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let browser = signed_in(&app, DONOR).await;

    let response = browser
        .client
        .get(format!("{}/mon-espace/donnees.json", browser.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    let data: serde_json::Value = response.json().await.unwrap();
    assert_eq!(data["profile"]["email"], DONOR);
    assert_eq!(data["profile"]["last_name"], "=1+1");
    assert_eq!(data["profile"]["news_emails"], true);
    assert_eq!(data["donations"].as_array().unwrap().len(), 1);
    assert_eq!(data["donations"][0]["amount_cents"], 6000);
    assert_eq!(data["donations"][0]["status"], "paid");
    assert_eq!(data["consents"][0]["topic"], "news");
    assert_eq!(data["consents"][0]["source"], "form");
    let emails = data["emails_sent"].as_array().unwrap();
    assert!(
        emails.iter().any(|e| e["subject"]
            .as_str()
            .unwrap()
            .starts_with("Merci pour votre don")),
        "{emails:?}"
    );

    let response = browser
        .client
        .get(format!("{}/mon-espace/donnees.csv", browser.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/csv; charset=utf-8"
    );
    let csv = response.text().await.unwrap();
    assert!(csv.starts_with('\u{feff}'), "a byte-order mark for Excel");
    assert!(
        csv.contains("Nom;'=1+1\n"),
        "a formula is neutralised: {csv}"
    );
    assert!(csv.contains("Mes dons\n"), "{csv}");
    assert!(csv.contains(";60,00;0,00;EUR;once;card;paid;"), "{csv}");
    assert!(csv.contains("Mes consentements\n"), "{csv}");
    assert!(csv.contains("Emails envoyés\n"), "{csv}");

    // Nobody else's: not signed in, the space's sign-in form.
    let stranger = Browser::new(&app);
    let response = stranger
        .client
        .get(format!("{}/mon-espace/donnees.csv", stranger.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
}

async fn totals(app: &TestApp) -> (counters::Totals, counters::Totals) {
    let campaign = fixtures::campaign_id(&app.db, SLUG).await;
    (
        counters::campaign(app.db.pool(), campaign).await.unwrap(),
        counters::organisation(app.db.pool()).await.unwrap(),
    )
}

async fn erasing_an_account_stops_its_gifts_and_keeps_the_ledger(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = spawn_sending_to(backend, &sink).await;
    give_by_card(&app, &[("frequency", "monthly"), ("amount", "2000")]).await;
    give_by_card(&app, &[("amount", "6000"), ("show_publicly", "1")]).await;
    let sent_before = sink.wait_for(2).await.len();
    let before = totals(&app).await;
    let donations_before = app.donations_of(DONOR).await;
    let browser = signed_in(&app, DONOR).await;
    let gift_id = only_gift_id(&app).await;
    let supporter_id: i64 = sqlx::query_scalar("SELECT id FROM supporters WHERE email = $1")
        .bind(DONOR)
        .fetch_one(app.db.pool())
        .await
        .unwrap();

    let (status, page) = browser.get("/mon-espace/suppression").await;
    assert_eq!(status, 200);
    assert!(
        plain(&page).contains("20 € par mois pour"),
        "the gift to stop: {page}"
    );
    // Not confirmed: nothing happens.
    let refused = browser
        .submit("/mon-espace/suppression", "/mon-espace/suppression", &[])
        .await;
    assert_eq!(refused.status(), 422);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM supporters WHERE erased_at IS NOT NULL")
            .await,
        0
    );

    let erased = browser
        .submit(
            "/mon-espace/suppression",
            "/mon-espace/suppression",
            &[("confirm", "oui")],
        )
        .await;
    assert_eq!(erased.status(), 200);
    assert!(plain(&erased.text().await.unwrap()).contains("Votre compte est supprimé"));
    app.settle_webhooks().await;

    // The gift is stopped at Stripe, and here once its event came.
    let status: String = sqlx::query_scalar("SELECT status FROM recurring_gifts WHERE id = $1")
        .bind(gift_id)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(status, "canceled");
    // No identity left: not on the supporter, its pledges or its donations.
    let erased = format!("WHERE supporter_id = {supporter_id}");
    for sql in [
        format!(
            "SELECT COUNT(*) FROM supporters WHERE id = {supporter_id} AND (erased_at IS NULL \
             OR email LIKE '%dupont%' OR first_name <> '' OR last_name <> '' \
             OR address_line1 <> '' OR postal_code <> '' OR city <> '')"
        ),
        format!(
            "SELECT COUNT(*) FROM pledges {erased} AND (email LIKE '%dupont%' \
             OR first_name <> '' OR last_name <> '' OR address_line1 <> '' OR city <> '')"
        ),
        "SELECT COUNT(*) FROM pledges WHERE email LIKE '%dupont%'".to_owned(),
        format!(
            "SELECT COUNT(*) FROM donations {erased} AND (public_name IS NOT NULL OR show_publicly = 1)"
        ),
        format!("SELECT COUNT(*) FROM sign_in_tokens {erased}"),
        format!("SELECT COUNT(*) FROM emails_sent {erased}"),
    ] {
        assert_eq!(app.count(&sql).await, 0, "{sql}");
    }
    assert_eq!(
        app.count(&format!("SELECT COUNT(*) FROM pledges {erased}"))
            .await,
        2
    );
    // The ledger stays: the same donations, the same totals, still equal to a recount.
    let kept: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT status, amount_cents, refunded_cents FROM donations WHERE supporter_id = $1 \
         ORDER BY id",
    )
    .bind(supporter_id)
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    assert_eq!(kept, donations_before);
    assert_eq!(totals(&app).await, before);
    let report = counters::recount(&app.db).await.unwrap();
    assert!(report.all_exact());

    // Signed out, and the address opens nothing any more.
    assert!(
        browser
            .get("/mon-espace")
            .await
            .1
            .contains("name=\"email\"")
    );
    let (status, _) = browser.ask_link(DONOR).await;
    assert_eq!(status, 200);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        sink.received().len(),
        sent_before,
        "nothing sent after erasure: no cancellation email, no sign-in link"
    );
}

async fn a_cancelled_gift_is_taken_up_again_as_a_new_one_linked_to_it(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    give_by_card(&app, &[("frequency", "monthly"), ("amount", "2000")]).await;
    let old = only_gift_id(&app).await;
    let browser = signed_in(&app, DONOR).await;
    let path = format!("/mon-espace/dons-reguliers/{old}");
    // Running: nothing to take up again.
    let running = browser
        .submit(&path, &format!("{path}/recommencer"), &[])
        .await;
    assert_eq!(running.status(), 410);
    gift_action(&browser, &path, "arret", &[("when", "maintenant")]).await;
    app.settle_webhooks().await;
    let (_, page) = browser.get(&path).await;
    assert!(page.contains("Reprendre ce don"), "{page}");

    // Someone else cannot take it up.
    let campaign = fixtures::campaign_id(&app.db, SLUG).await;
    fixtures::give(&app.db, gift(campaign, "autre@example.org", 1_000)).await;
    let other = signed_in(&app, "autre@example.org").await;
    let (_, other_space) = other.get("/mon-espace").await;
    let refused = other
        .post(
            &format!("{path}/recommencer"),
            &[("csrf_token", &csrf(&other_space))],
        )
        .await;
    assert_eq!(refused.status(), 404);

    let restarted = browser
        .submit(&path, &format!("{path}/recommencer"), &[])
        .await;
    assert_eq!(restarted.status(), 303);
    let checkout = restarted.headers()["location"].to_str().unwrap().to_owned();
    let paid = browser
        .client
        .post(&checkout)
        .form(&[("outcome", "card")])
        .send()
        .await
        .unwrap();
    assert_eq!(paid.status(), 303);
    app.settle_webhooks().await;

    let gifts: Vec<(i64, String, i64, String)> = sqlx::query_as(
        "SELECT id, status, amount_cents, frequency FROM recurring_gifts ORDER BY id",
    )
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    assert_eq!(gifts.len(), 2, "{gifts:?}");
    let new = gifts[1].0;
    assert_eq!(gifts[1].1, "active");
    assert_eq!((gifts[1].2, gifts[1].3.as_str()), (2000, "monthly"));
    let restarts: Option<i64> = sqlx::query_scalar(
        "SELECT p.restarts_gift_id FROM recurring_gifts g JOIN pledges p ON p.id = g.pledge_id WHERE g.id = $1",
    )
    .bind(new)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(restarts, Some(old));
    let (_, old_page) = browser.get(&path).await;
    assert!(
        old_page.contains(&format!(
            "/mon-espace/dons-reguliers/{new}\">voir le nouveau don"
        )),
        "{old_page}"
    );
    let (_, new_page) = browser
        .get(&format!("/mon-espace/dons-reguliers/{new}"))
        .await;
    assert!(
        new_page.contains(&format!("/mon-espace/dons-reguliers/{old}\">un don arrêté")),
        "{new_page}"
    );
    assert_eq!(
        app.donations_of(DONOR).await.len(),
        2,
        "the first instalment of each"
    );
}

async fn the_thank_you_page_sends_a_sign_in_link_to_the_gift_s_address(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = spawn_sending_to(backend, &sink).await;
    let (session_id, _) = app.give(SLUG, &[("amount", "6000")], "card").await;
    app.settle_webhooks().await;
    sink.wait_for(1).await;
    // From the donor's own browser, the one that gave (another is refused: see
    // `checkout_secrets`).
    let page = app.page(&format!("/merci?session_id={session_id}")).await;
    assert!(page.contains("Recevoir mon lien de connexion"), "{page}");
    let post = |form: [(&'static str, String); 2]| {
        app.client
            .post(app.url("/mon-espace/lien-apres-don"))
            .form(&form)
            .send()
    };
    let sent = post([
        ("csrf_token", csrf(&page)),
        ("session_id", session_id.clone()),
    ])
    .await
    .unwrap();
    assert_eq!(sent.status(), 200);
    let html = sent.text().await.unwrap();
    assert!(
        html.contains("m•••••••••••@example.org"),
        "the address in part only: {html}"
    );
    assert!(!html.contains(DONOR));
    let received = sink.wait_for(2).await;
    assert_eq!(received[1].recipients, [DONOR]);
    let (subject, _, _) = read(&received[1]);
    assert_eq!(subject, "Votre lien de connexion à « Mon espace »");
    // Not a session this browser started (nor one of ours at all): nothing sent.
    let unknown = post([
        ("csrf_token", csrf(&page)),
        ("session_id", "cs_test_unknown".to_owned()),
    ])
    .await
    .unwrap();
    assert_eq!(unknown.status(), 403);
    let bad = post([
        ("csrf_token", csrf(&page)),
        ("session_id", "cs_\u{0}x".to_owned()),
    ])
    .await
    .unwrap();
    assert_eq!(bad.status(), 404);
}

async fn the_dashboard_tells_what_the_gifts_made_possible(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    give_by_card(&app, &[("amount", "other"), ("other_amount", "350")]).await;
    let browser = signed_in(&app, DONOR).await;
    let (status, page) = browser.get("/mon-espace").await;
    assert_eq!(status, 200);
    let text = plain(&page);
    assert!(
        text.contains("Ce que vos dons ont rendu possible"),
        "{text}"
    );
    // 350 € to PEPS: two holiday sports camps (150 €), the dearest of its tiers paid for
    // twice or more.
    assert!(
        text.contains("Grâce à vous : 2 × une semaine de stage sportif"),
        "{text}"
    );
    assert!(text.contains("Les campagnes que vous soutenez"), "{text}");
    assert!(text.contains("Le sport pour grandir"), "{text}");
    assert!(page.contains("<progress"), "{page}");
    assert!(text.contains("Les dernières nouvelles"), "{text}");

    // 600 €: two children for a year, in the project's own count.
    give_by_card(&app, &[("amount", "other"), ("other_amount", "250")]).await;
    let text = plain(&browser.get("/mon-espace").await.1);
    assert!(
        text.contains("Grâce à vous : 2 enfants accompagnés pendant un an"),
        "{text}"
    );
}
