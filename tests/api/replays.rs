//! A post that moves money, opens a checkout or changes who someone is takes effect once per
//! rendering of its page: the same post sent again (a double click, a reload that resends
//! it, the back button) changes nothing and leads where the first one did, never to an error
//! page. Entries changed before sending again are another post, which acts.

use obole::domain::staff::Role;

use crate::back_office::signed_in_staff;
use crate::emails::give_by_card;
use crate::helpers::{Backend, Content, plain, spawn_app};
use crate::supporter_space::{Browser, DONOR, csrf, link_for, only_gift_id};

dual_backend_tests!(
    a_gift_form_sent_again_opens_no_second_checkout,
    a_double_click_whose_first_answer_is_lost_still_leads_to_the_donor_s_checkout,
    the_monthly_offer_sent_again_opens_no_second_checkout,
    back_office_posts_sent_again_act_once,
    a_refund_sent_again_once_the_first_is_in_the_ledger_refunds_nothing_more,
    supporter_posts_sent_again_act_once,
    the_keys_of_expired_tokens_are_forgotten,
);

const SLUG: &str = "le-sport-pour-grandir";

/// The donation form's fields with `token`, for `amount` cents.
fn gift_fields(token: &str, amount: &str) -> Vec<(&'static str, String)> {
    [
        ("csrf_token", token),
        ("frequency", "once"),
        ("amount", amount),
        ("other_amount", ""),
        ("first_name", "Léonie"),
        ("last_name", "Martin"),
        ("email", "leonie.martin@example.org"),
        ("address_line1", "3 rue des Lilas"),
        ("address_line2", ""),
        ("postal_code", "69003"),
        ("city", "Lyon"),
        ("country", "FR"),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_owned()))
    .collect()
}

/// Where a response sends the browser.
fn location(response: &reqwest::Response) -> String {
    assert_eq!(response.status(), 303, "a redirect");
    response.headers()["location"].to_str().unwrap().to_owned()
}

async fn a_gift_form_sent_again_opens_no_second_checkout(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let url = app.url(&format!("/campagnes/{SLUG}/don"));
    let post = |fields: Vec<(&'static str, String)>| app.client.post(&url).form(&fields).send();
    let pledges = || app.count("SELECT COUNT(*) FROM pledges");
    let before = pledges().await;

    // Sent, then sent again (a reload that resends it): one checkout, the same one.
    let (_, first_token) = app.donation_form(SLUG, "").await;
    let first = location(&post(gift_fields(&first_token, "3000")).await.unwrap());
    let again = location(&post(gift_fields(&first_token, "3000")).await.unwrap());
    assert_eq!(again, first, "the first checkout");
    assert!(first.contains("/sandbox/checkout/cs_"), "{first}");
    assert_eq!(pledges().await, before + 1);

    // Sent twice at once (a double click): one checkout, both answers lead to it.
    let (_, token) = app.donation_form(SLUG, "").await;
    let (one, two) = tokio::join!(
        post(gift_fields(&token, "5000")),
        post(gift_fields(&token, "5000"))
    );
    let (one, two) = (location(&one.unwrap()), location(&two.unwrap()));
    assert_eq!(one, two);
    assert_ne!(one, first);
    assert_eq!(pledges().await, before + 2);

    // Back to the form, another amount: another gift, another checkout.
    let other = location(&post(gift_fields(&token, "10000")).await.unwrap());
    assert_ne!(other, one);
    assert_eq!(pledges().await, before + 3);
    let amounts: Vec<i64> =
        sqlx::query_scalar("SELECT amount_cents FROM pledges ORDER BY id DESC LIMIT 3")
            .fetch_all(app.db.pool())
            .await
            .unwrap();
    assert_eq!(amounts, [10_000, 5_000, 3_000]);

    // Paid, then the form sent again (the back button): its thank-you page, no checkout.
    let paid = app
        .client
        .post(&first)
        .form(&[("outcome", "card")])
        .send()
        .await
        .unwrap();
    assert_eq!(paid.status(), 303);
    app.settle_webhooks().await;
    let session = first.rsplit('/').next().unwrap();
    let after_paying = location(&post(gift_fields(&first_token, "3000")).await.unwrap());
    assert_eq!(after_paying, format!("/merci?session_id={session}"));
    assert!(app.page(&after_paying).await.contains("Don confirmé"));
    assert_eq!(pledges().await, before + 3);
    assert_eq!(
        app.donations_of("leonie.martin@example.org").await.len(),
        1,
        "one gift"
    );
}

/// A double click: the browser drops the first request and keeps the second answer, which
/// may come without the session cookie the first one set. The checkout is remembered in the
/// session of the answer the browser keeps, so its thank-you page is still the donor's.
async fn a_double_click_whose_first_answer_is_lost_still_leads_to_the_donor_s_checkout(
    backend: Backend,
) {
    let app = spawn_app(backend, Content::Demo).await;
    // Cookies by hand: what the browser keeps is up to the test.
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let form = browser
        .get(app.url(&format!("/campagnes/{SLUG}/don")))
        .send()
        .await
        .unwrap();
    let form_cookie = cookie(&form, "obole_form");
    let token = csrf(&form.text().await.unwrap());
    let send = || {
        browser
            .post(app.url(&format!("/campagnes/{SLUG}/don")))
            .header("cookie", &form_cookie)
            .form(&gift_fields(&token, "3000"))
            .send()
    };
    let lost = send().await.unwrap();
    let kept = send().await.unwrap();
    assert_eq!(location(&kept), location(&lost));
    let checkout = location(&kept);
    let session_id = checkout.rsplit('/').next().unwrap();
    let session_cookie = cookie(&kept, "obole_session");
    let thanks = browser
        .get(app.url(&format!("/merci?session_id={session_id}")))
        .header("cookie", format!("{form_cookie}; {session_cookie}"))
        .send()
        .await
        .unwrap();
    assert_eq!(thanks.status(), 200);
    let thanks = thanks.text().await.unwrap();
    assert!(thanks.contains("Reprendre le paiement"), "{thanks}");
    assert!(thanks.contains(&checkout), "{thanks}");
    // With it, the form taken up again is the donor's.
    let resumed = browser
        .get(app.url(&format!("/campagnes/{SLUG}/don?reprendre={session_id}")))
        .header("cookie", format!("{form_cookie}; {session_cookie}"))
        .send()
        .await
        .unwrap();
    assert!(resumed.text().await.unwrap().contains("value=\"Léonie\""));
}

/// The `name=value` of the cookie `name` a response sets.
fn cookie(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .filter_map(|value| value.split(';').next())
        .find(|pair| pair.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("a {name} cookie"))
        .to_owned()
}

async fn the_monthly_offer_sent_again_opens_no_second_checkout(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let (session_id, _) = app.give(SLUG, &[("amount", "6000")], "card").await;
    app.settle_webhooks().await;
    let page = app.page(&format!("/merci?session_id={session_id}")).await;
    let pledges = app.count("SELECT COUNT(*) FROM pledges").await;
    let offer = [("csrf_token", csrf(&page)), ("session_id", session_id)];
    let send = || {
        app.client
            .post(app.url("/merci/mensuel"))
            .form(&offer)
            .send()
    };
    let (one, two) = tokio::join!(send(), send());
    let checkout = location(&one.unwrap());
    assert_eq!(location(&two.unwrap()), checkout);
    assert_eq!(location(&send().await.unwrap()), checkout);
    assert_eq!(app.count("SELECT COUNT(*) FROM pledges").await, pledges + 1);
}

/// An offline gift, its refund, a news emailed to supporters, a staff account: each page
/// sent again does nothing more and shows the first one's result.
async fn back_office_posts_sent_again_act_once(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let admin = signed_in_staff(&app, "admin@example.org", Role::Admin).await;
    let campaign = crate::helpers::fixtures::campaign_id(&app.db, SLUG)
        .await
        .to_string();

    // An offline gift, sent three times.
    let (_, page) = admin.get("/admin/dons/hors-ligne").await;
    let token = csrf(&page);
    let cheque = [
        ("csrf_token", token.as_str()),
        ("campaign", campaign.as_str()),
        ("amount", "150"),
        ("date", "2026-11-20"),
        ("method", "cheque"),
        ("reference", "Chèque n° 77"),
        ("email", "jeanne@example.org"),
        ("first_name", "Jeanne"),
        ("last_name", "Valjean"),
        ("address_line1", "3 rue Plumet"),
        ("address_line2", ""),
        ("postal_code", "75007"),
        ("city", "Paris"),
        ("country", "FR"),
    ];
    let offline = async || {
        app.count(
            "SELECT COUNT(*) FROM donations d JOIN supporters s ON s.id = d.supporter_id \
             WHERE s.email = 'jeanne@example.org'",
        )
        .await
    };
    let first = location(&admin.post("/admin/dons/hors-ligne", &cheque).await);
    for _ in 0..2 {
        let again = admin.post("/admin/dons/hors-ligne", &cheque).await;
        assert_eq!(location(&again), first, "the first gift's page");
    }
    assert_eq!(offline().await, 1);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'donation.offline'")
            .await,
        1
    );
    let (status, shown) = admin.get(&first).await;
    assert_eq!(status, 200);
    assert!(plain(&shown).contains("Le don est enregistré"), "{shown}");
    // The same page, the entries of another cheque (the back button): another gift.
    let mut second_cheque = cheque;
    second_cheque[5] = ("reference", "Chèque n° 78");
    let second = location(&admin.post("/admin/dons/hors-ligne", &second_cheque).await);
    assert_ne!(second, first);
    assert_eq!(offline().await, 2);

    // Its refund (a cheque: at once), sent twice.
    let id = first
        .trim_start_matches("/admin/dons/")
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let (_, page) = admin.get(&format!("/admin/dons/{id}")).await;
    let refund = [("csrf_token", csrf(&page)), ("amount", "50".to_owned())];
    let path = format!("/admin/dons/{id}/remboursement");
    let refund = refund
        .iter()
        .map(|(k, v)| (*k, v.as_str()))
        .collect::<Vec<_>>();
    let refunded = location(&admin.post(&path, &refund).await);
    assert_eq!(location(&admin.post(&path, &refund).await), refunded);
    let cents: i64 = sqlx::query_scalar("SELECT refunded_cents FROM donations WHERE id = $1")
        .bind(id.parse::<i64>().unwrap())
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(cents, 5_000, "refunded once");

    // A news emailed to the project's supporters, sent twice: posted and emailed once.
    let project: String =
        sqlx::query_scalar("SELECT CAST(project_id AS TEXT) FROM campaigns WHERE slug = $1")
            .bind(SLUG)
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    let news_before = app.count("SELECT COUNT(*) FROM news_posts").await;
    let (_, page) = admin.get("/admin/nouvelles").await;
    let token = csrf(&page);
    let news = [
        ("csrf_token", token.as_str()),
        ("project", project.as_str()),
        ("campaign", ""),
        ("title", "Un tournoi de plus"),
        ("body", "Les enfants ont joué."),
        ("date", ""),
        ("notify", "1"),
    ];
    let (one, two) = tokio::join!(
        admin.post("/admin/nouvelles", &news),
        admin.post("/admin/nouvelles", &news)
    );
    assert_eq!(location(&one), location(&two));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM news_posts").await,
        news_before + 1
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM jobs WHERE kind = 'news_fan_out'")
            .await,
        1,
        "emailed once"
    );

    // A staff account, sent twice: created once, and no « déjà un compte » for the second.
    let (_, page) = admin.get("/admin/equipe").await;
    let token = csrf(&page);
    let account = [
        ("csrf_token", token.as_str()),
        ("email", "benevole@example.org"),
        ("role", "viewer"),
        ("password", "une phrase de passe assez longue"),
    ];
    let created = location(&admin.post("/admin/equipe", &account).await);
    assert_eq!(
        location(&admin.post("/admin/equipe", &account).await),
        created
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM staff WHERE email = 'benevole@example.org'")
            .await,
        1
    );
}

/// Through Stripe, the ledger moves when `charge.refunded` comes back. Before, the same post
/// sent again asked Stripe for the same refund (same idempotency key); once the first was
/// in the ledger, it was a new refund. Now it is nothing, however late it comes.
async fn a_refund_sent_again_once_the_first_is_in_the_ledger_refunds_nothing_more(
    backend: Backend,
) {
    let app = spawn_app(backend, Content::Demo).await;
    give_by_card(&app, &[("amount", "6000"), ("email", "paul@example.org")]).await;
    let editor = signed_in_staff(&app, "edition@example.org", Role::Editor).await;
    let id: i64 = sqlx::query_scalar(
        "SELECT d.id FROM donations d JOIN supporters s ON s.id = d.supporter_id \
         WHERE s.email = 'paul@example.org'",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    let refunded = async || -> i64 {
        sqlx::query_scalar("SELECT refunded_cents FROM donations WHERE id = $1")
            .bind(id)
            .fetch_one(app.db.pool())
            .await
            .unwrap()
    };
    let page_path = format!("/admin/dons/{id}");
    let path = format!("{page_path}/remboursement");
    let (_, page) = editor.get(&page_path).await;
    let token = csrf(&page);
    let refund = [("csrf_token", token.as_str()), ("amount", "20")];
    let asked = location(&editor.post(&path, &refund).await);
    app.settle_webhooks().await;
    assert_eq!(refunded().await, 2_000);

    let again = editor.post(&path, &refund).await;
    assert_eq!(location(&again), asked, "the page of the first refund");
    app.settle_webhooks().await;
    assert_eq!(refunded().await, 2_000, "nothing more given back");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'donation.refund'")
            .await,
        1
    );

    // Asked again from the page as it is now: that is a second refund.
    let second = editor.submit(&page_path, &path, &[("amount", "20")]).await;
    assert_eq!(second.status(), 303);
    app.settle_webhooks().await;
    assert_eq!(refunded().await, 4_000);
}

/// Opening « Mon espace » from a link, stopping a monthly gift, changing one's name: pressed
/// twice, each acts once and the second press shows the first one's result, not « Ce lien a
/// déjà servi » or « Ce don régulier est arrêté ». A page sent again later (the back button)
/// does not put back a name changed since.
async fn supporter_posts_sent_again_act_once(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    give_by_card(&app, &[("frequency", "monthly"), ("amount", "2000")]).await;
    let gift_id = only_gift_id(&app).await;

    let browser = Browser::new(&app);
    let link = link_for(&app, DONOR, 900).await;
    let (_, page) = browser.get(&link).await;
    let open = [("csrf_token", csrf(&page))];
    let open = open
        .iter()
        .map(|(k, v)| (*k, v.as_str()))
        .collect::<Vec<_>>();
    assert_eq!(location(&browser.post(&link, &open).await), "/mon-espace");
    assert_eq!(location(&browser.post(&link, &open).await), "/mon-espace");
    let (status, space) = browser.get("/mon-espace").await;
    assert_eq!(status, 200);
    assert!(space.contains("deconnexion"), "signed in: {space}");

    // Stopping the gift now, pressed twice.
    let gift = format!("/mon-espace/dons-reguliers/{gift_id}");
    let (_, page) = browser.get(&format!("{gift}/arret")).await;
    let token = csrf(&page);
    let stop = [
        ("csrf_token", token.as_str()),
        ("when", "maintenant"),
        ("reason", ""),
        ("comment", ""),
    ];
    let stopped = location(&browser.post(&format!("{gift}/arret"), &stop).await);
    app.settle_webhooks().await;
    let status: String = sqlx::query_scalar("SELECT status FROM recurring_gifts")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(status, "canceled");
    let again = browser.post(&format!("{gift}/arret"), &stop).await;
    assert_eq!(
        location(&again),
        stopped,
        "not « il ne peut plus être modifié »"
    );
    let (status, shown) = browser.get(&stopped).await;
    assert_eq!(status, 200, "{shown}");

    // The name: changed to Lyon, then to Nantes; Lyon's page sent again changes nothing.
    let (_, lyon_page) = browser.get("/mon-espace/profil").await;
    let identity = |token: String, city: &str| {
        [
            ("csrf_token", token),
            ("first_name", "Marie".to_owned()),
            ("last_name", "Dupont".to_owned()),
            ("address_line1", "3 rue des Lilas".to_owned()),
            ("address_line2", String::new()),
            ("postal_code", "69003".to_owned()),
            ("city", city.to_owned()),
            ("country", "FR".to_owned()),
        ]
    };
    let save = async |fields: [(&'static str, String); 8]| {
        let fields = fields
            .iter()
            .map(|(k, v)| (*k, v.as_str()))
            .collect::<Vec<_>>();
        browser.post("/mon-espace/profil", &fields).await
    };
    let lyon = identity(csrf(&lyon_page), "Lyon");
    assert_eq!(save(lyon.clone()).await.status(), 303);
    let (_, nantes_page) = browser.get("/mon-espace/profil").await;
    assert_eq!(
        save(identity(csrf(&nantes_page), "Nantes")).await.status(),
        303
    );
    let resent = save(lyon).await;
    assert_eq!(location(&resent), "/mon-espace/profil?fait=identite");
    let city: String = sqlx::query_scalar("SELECT city FROM supporters WHERE email = $1")
        .bind(DONOR)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(city, "Nantes", "not put back");
}

/// Only hashes are kept, and only while the token could still be sent: past a day, a post
/// sent again is refused by its token anyway.
async fn the_keys_of_expired_tokens_are_forgotten(backend: Backend) {
    use obole::domain::dates::{self, DAY};
    use obole::store::form_submissions::{self, Claim};

    let app = spawn_app(backend, Content::Empty).await;
    let pool = app.db.pool();
    let now = dates::now();
    for (key, at) in [("old", now - DAY - 1), ("recent", now - DAY + 60)] {
        assert_eq!(
            form_submissions::claim(pool, key, at).await.unwrap(),
            Claim::First
        );
        form_submissions::complete(pool, key, "/fait")
            .await
            .unwrap();
    }
    assert_eq!(
        form_submissions::claim(pool, "old", now).await.unwrap(),
        Claim::Done("/fait".to_owned())
    );
    form_submissions::forget_expired(pool, now - DAY)
        .await
        .unwrap();
    let keys: Vec<String> = sqlx::query_scalar("SELECT key FROM form_submissions")
        .fetch_all(pool)
        .await
        .unwrap();
    assert_eq!(keys, ["recent"]);
    // A key let go (its post did not act) may be taken again; one done may not.
    assert_eq!(
        form_submissions::claim(pool, "running", now).await.unwrap(),
        Claim::First
    );
    assert_eq!(
        form_submissions::claim(pool, "running", now).await.unwrap(),
        Claim::Running
    );
    form_submissions::release(pool, "running").await.unwrap();
    form_submissions::release(pool, "recent").await.unwrap();
    assert_eq!(
        form_submissions::claim(pool, "running", now).await.unwrap(),
        Claim::First
    );
    assert_eq!(
        form_submissions::claim(pool, "recent", now).await.unwrap(),
        Claim::Done("/fait".to_owned())
    );
}
