//! A Checkout Session id is a secret of the browser that started the checkout: its
//! thank-you page, and what that page offers (resuming the payment, a monthly gift, a sign-in
//! link), answer it alone. Any other browser holding the id (a shared link, a screenshot)
//! gets a page that says nothing of the gift, and its forms are refused alike whether the
//! gift exists or not.

use crate::helpers::{Backend, Content, TestApp, plain, spawn_app};
use crate::supporter_space::csrf;

dual_backend_tests!(
    another_browser_sees_nothing_of_a_gift_on_its_thank_you_page,
    another_browser_cannot_resume_a_gift_offer_it_monthly_or_ask_for_its_sign_in_link,
    the_donor_s_own_browser_keeps_every_way_forward,
);

const SLUG: &str = "le-sport-pour-grandir";
const CAMPAIGN: &str = "Le sport pour grandir";
const EMAIL: &str = "zephyrine.quintal@example.org";
/// The donor's entries: a name and an amount no page shows otherwise.
const GIFT: [(&str, &str); 5] = [
    ("first_name", "Zéphyrine"),
    ("last_name", "Quintal"),
    ("email", EMAIL),
    ("amount", "other"),
    ("other_amount", "73,50"),
];

/// Another browser: its own cookie jar, redirects not followed.
fn stranger() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn get(app: &TestApp, client: &reqwest::Client, path: &str) -> (u16, String) {
    let response = client.get(app.url(path)).send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// Nothing of the gift: not the donor, the amount, the campaign, the way to pay or to
/// come back to it.
fn assert_says_nothing_of_the_gift(html: &str, session_id: &str) {
    let text = plain(html);
    for secret in [
        "Zéphyrine",
        "Quintal",
        "zephyrine",
        "z••",
        "73,50",
        CAMPAIGN,
        session_id,
        "/sandbox/checkout/",
        "reprendre=",
        "/merci/mensuel",
        "lien-apres-don",
    ] {
        assert!(!text.contains(secret), "« {secret} » shown: {text}");
    }
}

async fn count(app: &TestApp, table: &str) -> i64 {
    app.count(&format!("SELECT COUNT(*) FROM {table}")).await
}

async fn another_browser_sees_nothing_of_a_gift_on_its_thank_you_page(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let (session_id, paid) = app.give(SLUG, &GIFT, "card").await;
    assert_eq!(paid.status(), 303);
    app.settle_webhooks().await;
    let thanks = format!("/merci?session_id={session_id}");
    let own = plain(&app.page(&thanks).await);
    assert!(own.contains("Merci Zéphyrine !"), "{own}");
    assert!(own.contains("73,50 €") && own.contains(CAMPAIGN), "{own}");

    let sessions = match backend {
        Backend::Sqlite => "tower_sessions",
        Backend::Postgres => "tower_sessions.session",
    };
    let sessions_before = count(&app, sessions).await;
    let other = stranger();
    let response = other.get(app.url(&thanks)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert!(response.headers().get("set-cookie").is_none());
    let elsewhere = response.text().await.unwrap();
    assert!(elsewhere.contains("Merci !"), "{elsewhere}");
    assert!(
        elsewhere.contains("Si vous venez de faire un don"),
        "{elsewhere}"
    );
    assert!(elsewhere.contains("href=\"/mon-espace\""), "{elsewhere}");
    assert_says_nothing_of_the_gift(&elsewhere, &session_id);
    // Word for word the page of an id that is nobody's: it does not tell which ids are real.
    let (status, nobody) = get(&app, &other, "/merci?session_id=cs_test_a1b2c3d4e5f6").await;
    assert_eq!(status, 200);
    assert_eq!(nobody, elsewhere);
    // Its self-refreshing address and a looked-up session are no way in either.
    let (_, refreshed) = get(&app, &other, &format!("{thanks}&essai=3")).await;
    assert_eq!(refreshed, elsewhere);
    assert_eq!(
        count(&app, sessions).await,
        sessions_before,
        "nothing written"
    );

    // A checkout started but not paid: its donor may go back to it, nobody else.
    let submitted = app.submit_gift(SLUG, &GIFT).await;
    let checkout = submitted.headers()["location"].to_str().unwrap().to_owned();
    let open = checkout.rsplit('/').next().unwrap().to_owned();
    let own = app.page(&format!("/merci?session_id={open}")).await;
    assert!(own.contains("Reprendre le paiement") && own.contains(&checkout));
    let (status, elsewhere) = get(&app, &other, &format!("/merci?session_id={open}")).await;
    assert_eq!(status, 200);
    assert_says_nothing_of_the_gift(&elsewhere, &open);
    assert!(!elsewhere.contains("Reprendre"), "{elsewhere}");
    // The sandbox's own checkout page, which anyone holding the id can open, shows the
    // email in part only.
    let (_, sandbox_page) = get(&app, &other, &format!("/sandbox/checkout/{open}")).await;
    assert!(!sandbox_page.contains(EMAIL), "{sandbox_page}");
    assert!(sandbox_page.contains("ze…@example.org"), "{sandbox_page}");
}

async fn another_browser_cannot_resume_a_gift_offer_it_monthly_or_ask_for_its_sign_in_link(
    backend: Backend,
) {
    let app = spawn_app(backend, Content::Demo).await;
    let (session_id, _) = app.give(SLUG, &GIFT, "card").await;
    app.settle_webhooks().await;
    let other = stranger();

    // « Reprendre mon don »: a new, empty form.
    let resume = format!("/campagnes/{SLUG}/don?frequence=once&reprendre={session_id}");
    let (status, form) = get(&app, &other, &resume).await;
    assert_eq!(status, 200);
    let text = plain(&form);
    for secret in ["Zéphyrine", "Quintal", "zephyrine", "73,50"] {
        assert!(!text.contains(secret), "« {secret} » shown: {text}");
    }
    let token = csrf(&form);

    let pledges = count(&app, "pledges").await;
    let links = count(&app, "sign_in_tokens").await;
    let jobs = count(&app, "jobs").await;
    let post = |path: &'static str, session: String| {
        other
            .post(app.url(path))
            .form(&[("csrf_token", token.clone()), ("session_id", session)])
            .send()
    };
    for path in ["/merci/mensuel", "/mon-espace/lien-apres-don"] {
        // With a genuine token of its own: the gift is still not its to act on.
        let refused = post(path, session_id.clone()).await.unwrap();
        assert_eq!(refused.status(), 403, "{path}");
        assert!(refused.headers().get("location").is_none(), "{path}");
        let refused = refused.text().await.unwrap();
        assert!(
            refused.contains("Nous ne retrouvons pas ce don dans ce navigateur"),
            "{path}: {refused}"
        );
        assert_says_nothing_of_the_gift(&refused, &session_id);
        // Said alike of an id that is nobody's.
        let nobody = post(path, "cs_test_a1b2c3d4e5f6".to_owned()).await.unwrap();
        assert_eq!(nobody.status(), 403);
        assert_eq!(nobody.text().await.unwrap(), refused, "{path}");
    }
    assert_eq!(count(&app, "pledges").await, pledges, "no checkout opened");
    assert_eq!(count(&app, "sign_in_tokens").await, links, "no link made");
    assert_eq!(count(&app, "jobs").await, jobs, "no email sent");
}

/// The donor's browser keeps all it had: the page, its polling, the monthly gift (whose own
/// thank-you page it then sees), the resumed form with its entries, the sign-in link.
async fn the_donor_s_own_browser_keeps_every_way_forward(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let (session_id, _) = app.give(SLUG, &GIFT, "card").await;
    app.settle_webhooks().await;
    let thanks = format!("/merci?session_id={session_id}");
    let page = app.page(&thanks).await;
    assert!(plain(&page).contains("Merci Zéphyrine !"));
    assert!(
        plain(&app.page(&format!("{thanks}&essai=2")).await).contains("Merci Zéphyrine !"),
        "the address thanks.js asks again"
    );
    let resumed = app
        .page(&format!("/campagnes/{SLUG}/don?reprendre={session_id}"))
        .await;
    assert!(resumed.contains("value=\"Zéphyrine\"") && resumed.contains(EMAIL));

    let sent = app
        .client
        .post(app.url("/mon-espace/lien-apres-don"))
        .form(&[
            ("csrf_token", csrf(&page)),
            ("session_id", session_id.clone()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), 200);

    let monthly = app
        .client
        .post(app.url("/merci/mensuel"))
        .form(&[
            ("csrf_token", csrf(&page)),
            ("session_id", session_id.clone()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(monthly.status(), 303);
    let checkout = monthly.headers()["location"].to_str().unwrap().to_owned();
    let paid = app
        .client
        .post(&checkout)
        .form(&[("outcome", "card")])
        .send()
        .await
        .unwrap();
    assert_eq!(paid.status(), 303);
    let success = paid.headers()["location"].to_str().unwrap().to_owned();
    let monthly_session = checkout.rsplit('/').next().unwrap().to_owned();
    assert!(success.ends_with(&format!("/merci?session_id={monthly_session}")));
    app.settle_webhooks().await;
    let monthly_page = plain(
        &app.page(&format!("/merci?session_id={monthly_session}"))
            .await,
    );
    assert!(monthly_page.contains("Merci Zéphyrine !"), "{monthly_page}");
    assert!(monthly_page.contains("par mois"), "{monthly_page}");
    let (_, elsewhere) = get(
        &app,
        &stranger(),
        &format!("/merci?session_id={monthly_session}"),
    )
    .await;
    assert_says_nothing_of_the_gift(&elsewhere, &monthly_session);
}
