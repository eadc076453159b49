//! « Mon espace » as a supporter meets it: a sign-in link by email (over SMTP), used once,
//! the session cycled; every bad link explained; requests limited without telling who
//! gives; then the space itself, only ever about its supporter.

use std::sync::Arc;
use std::time::Duration;

use obole::domain::dates;
use obole::domain::sign_in;
use obole::store::sign_in_tokens::{self, LinkKind};
use reqwest::cookie::{CookieStore, Jar};

use crate::emails::{SLUG, give_by_card, read, spawn_sending_to};
use crate::helpers::fixtures::{self, Gift};
use crate::helpers::{Backend, Content, TestApp, plain, spawn_app};
use crate::smtp_sink::SmtpSink;

dual_backend_tests!(
    a_supporter_signs_in_with_an_emailed_link_that_works_once,
    bad_links_and_forms_are_explained_and_change_nothing,
    sign_in_links_are_limited_per_email_whoever_asks,
    the_space_shows_its_supporter_s_gifts_newest_first_a_page_at_a_time,
    a_supporter_manages_a_monthly_gift_through_stripe,
    another_supporter_s_gift_is_not_found,
    a_pause_ends_by_itself_and_a_skipped_instalment_is_not_charged,
    a_monthly_gift_becomes_yearly_and_is_charged_at_once,
);

pub(crate) const DONOR: &str = "marie.dupont@example.org";

/// A browser: its own cookie jar, which the test can read.
pub(crate) struct Browser {
    pub(crate) client: reqwest::Client,
    jar: Arc<Jar>,
    pub(crate) base: String,
}

impl Browser {
    pub(crate) fn new(app: &TestApp) -> Browser {
        let jar = Arc::new(Jar::default());
        let client = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Browser {
            client,
            jar,
            base: app.address.clone(),
        }
    }

    pub(crate) async fn get(&self, path: &str) -> (u16, String) {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    pub(crate) async fn post(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(format!("{}{path}", self.base))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// Sends a form of the page at `page_path` to `action`, with that page's CSRF token, as
    /// a browser does when someone fills it in.
    pub(crate) async fn submit(
        &self,
        page_path: &str,
        action: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let (_, page) = self.get(page_path).await;
        let token = csrf(&page);
        let mut form = vec![("csrf_token", token.as_str())];
        form.extend_from_slice(fields);
        self.post(action, &form).await
    }

    /// Sends a file as the upload form of the page at `page_path` does (multipart, with the
    /// page's CSRF token unless `token` is false).
    pub(crate) async fn upload(
        &self,
        page_path: &str,
        action: &str,
        file: Vec<u8>,
        token: bool,
    ) -> reqwest::Response {
        self.try_upload(page_path, action, file, token)
            .await
            .unwrap()
    }

    /// Like [`Browser::upload`]; a server that answers before reading a body past its limit
    /// may close the connection while the file is still going: an error here.
    pub(crate) async fn try_upload(
        &self,
        page_path: &str,
        action: &str,
        file: Vec<u8>,
        token: bool,
    ) -> reqwest::Result<reqwest::Response> {
        let mut form = reqwest::multipart::Form::new();
        if token {
            let (_, page) = self.get(page_path).await;
            form = form.text("csrf_token", csrf(&page));
        }
        let part = reqwest::multipart::Part::bytes(file)
            .file_name("image.png")
            .mime_str("image/png")
            .unwrap();
        self.client
            .post(format!("{}{action}", self.base))
            .multipart(form.part("image", part))
            .send()
            .await
    }

    /// The session cookie's value, if the browser has one.
    pub(crate) fn session(&self) -> Option<String> {
        let url = self.base.parse().unwrap();
        let cookies = self.jar.cookies(&url)?;
        cookies
            .to_str()
            .unwrap()
            .split("; ")
            .find_map(|pair| pair.strip_prefix("obole_session="))
            .map(str::to_owned)
    }

    /// Asks for a sign-in link for `email`, as the sign-in form does.
    pub(crate) async fn ask_link(&self, email: &str) -> (u16, String) {
        let (_, page) = self.get("/mon-espace").await;
        let response = self
            .post(
                "/mon-espace/connexion",
                &[("csrf_token", &csrf(&page)), ("email", email)],
            )
            .await;
        (response.status().as_u16(), response.text().await.unwrap())
    }

    /// Opens a sign-in link: its page, then its button.
    pub(crate) async fn open_link(&self, path: &str) -> reqwest::Response {
        let (status, page) = self.get(path).await;
        assert_eq!(status, 200, "{page}");
        assert!(page.contains("Ouvrir mon espace"), "{page}");
        self.post(path, &[("csrf_token", &csrf(&page))]).await
    }
}

/// The CSRF token of a page's form.
pub(crate) fn csrf(html: &str) -> String {
    html.split("name=\"csrf_token\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a form with a CSRF token")
        .to_owned()
}

/// A link for the supporter with `email`, made as the sign-in request makes it (the tests of
/// the email itself are above): its path.
pub(crate) async fn link_for(app: &TestApp, email: &str, expires_in: i64) -> String {
    let supporter: i64 = sqlx::query_scalar("SELECT id FROM supporters WHERE email = $1")
        .bind(email)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    let token = sign_in::new_token();
    let now = dates::now();
    let mut tx = app.db.begin_write().await.unwrap();
    sign_in_tokens::create(
        &mut tx,
        supporter,
        LinkKind::SignIn,
        &sign_in::hash(&token),
        now,
        now + expires_in,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    format!("/mon-espace/connexion/{token}")
}

async fn a_supporter_signs_in_with_an_emailed_link_that_works_once(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = spawn_sending_to(backend, &sink).await;
    give_by_card(&app, &[("amount", "6000")]).await;
    sink.wait_for(1).await;
    let browser = Browser::new(&app);

    let (status, asked) = browser.ask_link(DONOR).await;
    assert_eq!(status, 200);
    assert!(asked.contains("Vérifiez votre boîte mail"), "{asked}");
    // Someone who never gave reads the same, and gets no email.
    let (status, unknown) = browser.ask_link("inconnu@example.org").await;
    assert_eq!(status, 200);
    assert_eq!(
        unknown.replace("inconnu@example.org", DONOR),
        asked,
        "the answer does not tell who gives"
    );

    let received = sink.wait_for(2).await;
    let (subject, text, _) = read(&received[1]);
    assert_eq!(received[1].recipients, [DONOR]);
    assert_eq!(subject, "Votre lien de connexion à « Mon espace »");
    assert!(plain(&text).contains("pendant 15 minutes"), "{text}");
    let start = text.find("/mon-espace/connexion/").expect("the link");
    let link: String = text[start..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    let token = link.rsplit('/').next().unwrap().to_owned();
    assert_eq!(token.len(), 64);

    // Only the token's hash is kept; once sent, the job no longer holds it either.
    for sql in [
        "SELECT COUNT(*) FROM sign_in_tokens WHERE token_hash = $1",
        "SELECT COUNT(*) FROM jobs WHERE payload LIKE '%' || $1 || '%' AND done_at IS NOT NULL",
    ] {
        let mut found = 1;
        for _ in 0..40 {
            found = sqlx::query_scalar::<_, i64>(sql)
                .bind(&token)
                .fetch_one(app.db.pool())
                .await
                .unwrap();
            if found == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(found, 0, "{sql}");
    }

    // A session this browser had before (a gift started on the form, left at the checkout).
    let (_, form) = browser.get(&format!("/campagnes/{SLUG}/don")).await;
    let started = browser
        .post(
            &format!("/campagnes/{SLUG}/don"),
            &[
                ("csrf_token", csrf(&form).as_str()),
                ("frequency", "once"),
                ("amount", "3000"),
                ("first_name", "Marie"),
                ("last_name", "Dupont"),
                ("email", DONOR),
                ("address_line1", "3 rue des Lilas"),
                ("postal_code", "69003"),
                ("city", "Lyon"),
                ("country", "FR"),
            ],
        )
        .await;
    assert_eq!(started.status(), 303);
    // Opening the link shows a button; the space opens with it, under a new session id.
    let before = browser.session().expect("the form's session");
    let opened = browser.open_link(&link).await;
    assert_eq!(opened.status(), 303);
    assert_eq!(opened.headers()["location"], "/mon-espace");
    let after = browser.session().expect("a session");
    assert_ne!(after, before, "the session id is cycled at sign-in");
    let (status, space) = browser.get("/mon-espace").await;
    assert_eq!(status, 200);
    let space = plain(&space);
    assert!(space.contains("Grâce à vous, Marie"), "{space}");
    assert!(space.contains("60 €"), "{space}");
    assert!(
        space.contains("20,40 €"),
        "cost after the tax reduction: {space}"
    );
    assert!(space.contains("Reçu"), "{space}");

    // The link works once.
    let again = Browser::new(&app);
    let (status, page) = again.get(&link).await;
    assert_eq!(status, 410);
    assert!(page.contains("Ce lien a déjà servi"), "{page}");
    assert!(page.contains("Recevoir un nouveau lien"), "{page}");

    // Signing out ends the session, under yet another id.
    let (_, space) = browser.get("/mon-espace").await;
    let out = browser
        .post("/mon-espace/deconnexion", &[("csrf_token", &csrf(&space))])
        .await;
    assert_eq!(out.status(), 200);
    assert!(out.text().await.unwrap().contains("Vous êtes déconnecté"));
    assert_ne!(browser.session(), Some(after));
    let (_, page) = browser.get("/mon-espace").await;
    assert!(page.contains("Recevoir mon lien de connexion"), "{page}");
}

async fn bad_links_and_forms_are_explained_and_change_nothing(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let campaign = fixtures::campaign_id(&app.db, SLUG).await;
    fixtures::give(&app.db, gift(campaign, DONOR, 2_500)).await;
    let browser = Browser::new(&app);

    let forged = format!("/mon-espace/connexion/{}", sign_in::new_token());
    for path in [
        forged.as_str(),
        "/mon-espace/connexion/abc",
        "/mon-espace/connexion/%00",
    ] {
        let (status, page) = browser.get(path).await;
        assert_eq!(status, 404, "{path}");
        assert!(page.contains("Ce lien n’est pas valable"), "{path}: {page}");
    }
    let expired = link_for(&app, DONOR, -1).await;
    let (status, page) = browser.get(&expired).await;
    assert_eq!(status, 410);
    assert!(page.contains("Ce lien a expiré"), "{page}");

    // A valid link posted without the page's CSRF token (from another site) is refused,
    // and stays unused.
    let valid = link_for(&app, DONOR, 900).await;
    let refused = browser.post(&valid, &[("csrf_token", "faux")]).await;
    assert_eq!(refused.status(), 403);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM sign_in_tokens WHERE used_at IS NOT NULL")
            .await,
        0
    );
    assert_eq!(browser.open_link(&valid).await.status(), 303);

    // The request form: an address that is none, an empty one, no token.
    let (_, page) = browser.get("/mon-espace").await;
    let token = csrf(&page);
    for (email, says) in [
        ("pas-une-adresse", "n’est pas valable"),
        ("", "Indiquez l’adresse e-mail"),
    ] {
        let response = browser
            .post(
                "/mon-espace/connexion",
                &[("csrf_token", &token), ("email", email)],
            )
            .await;
        assert_eq!(response.status(), 422);
        assert!(response.text().await.unwrap().contains(says), "{email}");
    }
    let no_token = browser
        .post("/mon-espace/connexion", &[("email", DONOR)])
        .await;
    assert_eq!(no_token.status(), 403);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM sign_in_tokens").await,
        2,
        "only the links this test made"
    );
}

async fn sign_in_links_are_limited_per_email_whoever_asks(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let campaign = fixtures::campaign_id(&app.db, SLUG).await;
    fixtures::give(&app.db, gift(campaign, DONOR, 2_500)).await;
    let browser = Browser::new(&app);
    for email in [DONOR, "inconnu@example.org"] {
        for _ in 0..3 {
            assert_eq!(browser.ask_link(email).await.0, 200, "{email}");
        }
        let (_, page) = browser.get("/mon-espace").await;
        let limited = browser
            .post(
                "/mon-espace/connexion",
                &[("csrf_token", &csrf(&page)), ("email", email)],
            )
            .await;
        assert_eq!(limited.status(), 429, "{email}");
        assert!(limited.headers().contains_key("retry-after"));
        assert!(
            limited
                .text()
                .await
                .unwrap()
                .contains("Plusieurs liens ont déjà été demandés")
        );
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM sign_in_tokens").await,
        3,
        "three links for the supporter, none for the stranger"
    );
}

pub(crate) fn gift(campaign_id: i64, email: &str, amount_cents: i64) -> Gift<'_> {
    Gift {
        campaign_id,
        email,
        first_name: "Marie",
        last_name: "Dupont",
        amount_cents,
        show_publicly: false,
    }
}

async fn the_space_shows_its_supporter_s_gifts_newest_first_a_page_at_a_time(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let campaign = fixtures::campaign_id(&app.db, SLUG).await;
    for cents in 1..=25 {
        fixtures::give(&app.db, gift(campaign, DONOR, 1_000 + cents)).await;
    }
    fixtures::give(&app.db, gift(campaign, "autre@example.org", 77_700)).await;
    // Newest first: the 25th gift was given last.
    sqlx::query("UPDATE donations SET donated_at = donated_at + amount_cents")
        .execute(app.db.pool())
        .await
        .unwrap();
    // A recurring gift whose payment failed, and an active one.
    let supporter: i64 = sqlx::query_scalar("SELECT id FROM supporters WHERE email = $1")
        .bind(DONOR)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    for (status, subscription) in [("active", "sub_actif"), ("past_due", "sub_echec")] {
        sqlx::query(
            "INSERT INTO recurring_gifts (supporter_id, campaign_id, amount_cents, currency, \
                 frequency, status, stripe_subscription_id, stripe_customer_id, created_at, updated_at) \
             VALUES ($1, $2, 1500, 'EUR', 'monthly', $3, $4, 'cus_test', 1, 1)",
        )
        .bind(supporter)
        .bind(campaign)
        .bind(status)
        .bind(subscription)
        .execute(app.db.pool())
        .await
        .unwrap();
    }

    let browser = Browser::new(&app);
    assert_eq!(
        browser
            .open_link(&link_for(&app, DONOR, 900).await)
            .await
            .status(),
        303
    );
    let (status, first) = browser.get("/mon-espace").await;
    assert_eq!(status, 200);
    assert_eq!(
        first.matches("<tr>").count(),
        1 + 20,
        "a header and 20 gifts"
    );
    let first_text = plain(&first);
    assert!(first_text.contains("10,25 €"), "the newest: {first_text}");
    assert!(!first_text.contains("10,05 €"), "on the second page");
    let donations_table = plain(&first[first.find("<table").expect("the donations")..]);
    assert!(
        !donations_table.contains("777"),
        "another supporter's gift: {donations_table}"
    );
    assert!(first_text.contains("Page 1 sur 2"), "{first_text}");
    // The gift that needs the supporter comes first, with its one-click fix.
    let failing = first.find("Paiement en échec").expect("the failed gift");
    let active = first.find("Actif").expect("the active gift");
    assert!(failing < active);
    assert!(first.contains("href=\"/paiement/"), "{first}");

    let (status, second) = browser.get("/mon-espace?page=2").await;
    assert_eq!(status, 200);
    assert_eq!(second.matches("<tr>").count(), 1 + 5);
    assert!(plain(&second).contains("10,01 €"));
    for (query, expected) in [("?page=0", 400), ("?page=3", 404), ("?page=deux", 400)] {
        assert_eq!(
            browser.get(&format!("/mon-espace{query}")).await.0,
            expected,
            "{query}"
        );
    }

    // Pages of the space are never kept by a cache.
    let response = browser
        .client
        .get(format!("{}/mon-espace", browser.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["cache-control"], "no-store");
}

/// The id of the only recurring gift.
pub(crate) async fn only_gift_id(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT id FROM recurring_gifts")
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

/// Signs `browser` in as the supporter with `email`.
pub(crate) async fn signed_in(app: &TestApp, email: &str) -> Browser {
    let browser = Browser::new(app);
    let opened = browser.open_link(&link_for(app, email, 900).await).await;
    assert_eq!(opened.status(), 303);
    browser
}

/// The state of the only recurring gift: (status, amount, cancel at period end, paused until).
async fn gift_state(app: &TestApp) -> (String, i64, i64, Option<i64>) {
    sqlx::query_as(
        "SELECT status, amount_cents, cancel_at_period_end, paused_until FROM recurring_gifts",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap()
}

async fn a_supporter_manages_a_monthly_gift_through_stripe(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = spawn_sending_to(backend, &sink).await;
    give_by_card(&app, &[("frequency", "monthly"), ("amount", "2000")]).await;
    sink.wait_for(1).await;
    let gift_id = only_gift_id(&app).await;
    let browser = signed_in(&app, DONOR).await;
    let path = format!("/mon-espace/dons-reguliers/{gift_id}");
    let (status, page) = browser.get(&path).await;
    assert_eq!(status, 200);
    assert!(plain(&page).contains("20 € par mois"), "{page}");

    // Each request goes to Stripe; the gift follows its webhook, and an email confirms.
    let mut sent = 1;
    let mut act = async |action: &str, form: &[(&str, &str)], done: &str, subject: &str| {
        let (_, page) = browser.get(&path).await;
        let mut fields = vec![("csrf_token", csrf(&page))];
        fields.extend(form.iter().map(|(k, v)| (*k, v.to_string())));
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let response = browser.post(&format!("{path}/{action}"), &fields).await;
        assert_eq!(response.status(), 303, "{action}");
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        assert_eq!(location, format!("{path}?fait={done}"));
        let (_, confirmed) = browser.get(&location).await;
        assert!(confirmed.contains("C’est noté"), "{action}: {confirmed}");
        app.settle_webhooks().await;
        sent += 1;
        let received = sink.wait_for(sent).await;
        assert_eq!(read(&received[sent - 1]).0, subject, "after {action}");
    };

    act(
        "montant",
        &[("amount", "25")],
        "montant",
        "Votre don régulier a été modifié",
    )
    .await;
    assert_eq!(gift_state(&app).await.1, 2_500);
    act(
        "pause",
        &[("months", "2")],
        "pause",
        "Votre don régulier est en pause",
    )
    .await;
    assert_eq!(gift_state(&app).await.0, "paused");
    act("reprise", &[], "reprise", "Votre don régulier reprend").await;
    assert_eq!(gift_state(&app).await.0, "active");
    act(
        "arret",
        &[
            ("when", "fin"),
            ("reason", "too_expensive"),
            ("comment", "Merci pour tout"),
        ],
        "arret-fin",
        "Votre don régulier prendra fin",
    )
    .await;
    assert_eq!(gift_state(&app).await.2, 1);
    // Changed their mind: nothing to tell by email, the page says it.
    let (_, page) = browser.get(&path).await;
    let kept = browser
        .post(&format!("{path}/maintien"), &[("csrf_token", &csrf(&page))])
        .await;
    assert_eq!(kept.status(), 303);
    app.settle_webhooks().await;
    assert_eq!(gift_state(&app).await.2, 0);
    act(
        "arret",
        &[("when", "maintenant")],
        "arret",
        "Votre don régulier est arrêté",
    )
    .await;
    assert_eq!(gift_state(&app).await.0, "canceled");

    // Stripe holds what the supporter said.
    let subscription: serde_json::Value = app
        .client
        .get(app.url(&format!(
            "/sandbox/stripe/v1/subscriptions/{}",
            sqlx::query_scalar::<_, String>("SELECT stripe_subscription_id FROM recurring_gifts")
                .fetch_one(app.db.pool())
                .await
                .unwrap()
        )))
        .bearer_auth(app.sandbox().secret_key())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(subscription["status"], "canceled");

    // An ended gift cannot be changed any more.
    let (_, page) = browser.get(&path).await;
    assert!(!page.contains("Changer le montant"), "{page}");
    let (_, space) = browser.get("/mon-espace").await;
    let refused = browser
        .post(
            &format!("{path}/montant"),
            &[("csrf_token", &csrf(&space)), ("amount", "30")],
        )
        .await;
    assert_eq!(refused.status(), 410);
}

async fn another_supporter_s_gift_is_not_found(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    give_by_card(&app, &[("frequency", "monthly"), ("amount", "2000")]).await;
    let gift_id = only_gift_id(&app).await;
    let campaign = fixtures::campaign_id(&app.db, SLUG).await;
    fixtures::give(&app.db, gift(campaign, "autre@example.org", 1_000)).await;
    let other = signed_in(&app, "autre@example.org").await;
    let path = format!("/mon-espace/dons-reguliers/{gift_id}");
    assert_eq!(other.get(&path).await.0, 404);
    assert_eq!(other.get(&format!("{path}/arret")).await.0, 404);
    let (_, space) = other.get("/mon-espace").await;
    for action in ["montant", "pause", "reprise", "arret", "maintien"] {
        let response = other
            .post(
                &format!("{path}/{action}"),
                &[
                    ("csrf_token", &csrf(&space)),
                    ("amount", "5"),
                    ("when", "maintenant"),
                ],
            )
            .await;
        assert_eq!(response.status(), 404, "{action}");
    }
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM recurring_gifts WHERE status = 'active' AND amount_cents = 2000"
        )
        .await,
        1,
        "the gift is untouched"
    );
    // Not signed in: to the sign-in form.
    let stranger = Browser::new(&app);
    let response = stranger
        .client
        .get(format!("{}{path}", stranger.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/mon-espace");
}

/// Posts a gift action from its page, signed in as `browser`.
pub(crate) async fn gift_action(
    browser: &Browser,
    path: &str,
    action: &str,
    form: &[(&str, &str)],
) {
    let (_, page) = browser.get(path).await;
    let token = csrf(&page);
    let mut fields = vec![("csrf_token", token.as_str())];
    fields.extend_from_slice(form);
    let response = browser.post(&format!("{path}/{action}"), &fields).await;
    assert_eq!(response.status(), 303, "{action}");
}

async fn a_pause_ends_by_itself_and_a_skipped_instalment_is_not_charged(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    give_by_card(&app, &[("frequency", "monthly"), ("amount", "2000")]).await;
    let gift_id = only_gift_id(&app).await;
    let browser = signed_in(&app, DONOR).await;
    let path = format!("/mon-espace/dons-reguliers/{gift_id}");
    let instalments = async || app.donations_of(DONOR).await.len();
    assert_eq!(instalments().await, 1);

    // Skip the next instalment: the renewal passes without a charge, the one after is paid.
    gift_action(&browser, &path, "sauter", &[]).await;
    app.settle_webhooks().await;
    assert_eq!(gift_state(&app).await.0, "paused");
    app.sandbox().advance_clock(32 * 86_400).await;
    app.settle_webhooks().await;
    assert_eq!(instalments().await, 1, "the skipped instalment");
    assert_eq!(gift_state(&app).await.0, "active", "resumed by itself");
    app.sandbox().advance_clock(31 * 86_400).await;
    app.settle_webhooks().await;
    assert_eq!(instalments().await, 2);

    // A pause of two months: shown with its end, then over by itself.
    gift_action(&browser, &path, "pause", &[("months", "2")]).await;
    app.settle_webhooks().await;
    let (status, _, _, until) = gift_state(&app).await;
    assert_eq!(status, "paused");
    let until = until.expect("the pause's end");
    let (_, page) = browser.get(&path).await;
    assert!(
        plain(&page).contains(&format!("En pause jusqu’au {}", dates::french_date(until))),
        "{page}"
    );
    app.sandbox().advance_clock(66 * 86_400).await;
    app.settle_webhooks().await;
    assert_eq!(gift_state(&app).await.0, "active");
    assert_eq!(instalments().await, 2, "two instalments skipped");
    app.sandbox().advance_clock(31 * 86_400).await;
    app.settle_webhooks().await;
    assert_eq!(instalments().await, 3, "charged again after the pause");
}

async fn a_monthly_gift_becomes_yearly_and_is_charged_at_once(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = spawn_sending_to(backend, &sink).await;
    give_by_card(&app, &[("frequency", "monthly"), ("amount", "2000")]).await;
    sink.wait_for(1).await;
    let gift_id = only_gift_id(&app).await;
    let browser = signed_in(&app, DONOR).await;
    let path = format!("/mon-espace/dons-reguliers/{gift_id}");
    gift_action(
        &browser,
        &path,
        "montant",
        &[("amount", "240"), ("frequency", "yearly")],
    )
    .await;
    app.settle_webhooks().await;
    let (frequency, amount): (String, i64) =
        sqlx::query_as("SELECT frequency, amount_cents FROM recurring_gifts")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!((frequency.as_str(), amount), ("yearly", 24_000));
    let donations = app.donations_of(DONOR).await;
    assert_eq!(donations.len(), 2, "{donations:?}");
    assert_eq!(
        donations[1],
        ("paid".to_owned(), 24_000, 0),
        "charged at once"
    );
    // The new invoice is a yearly one, though its event came before the subscription's.
    let frequencies: Vec<String> = sqlx::query_scalar(
        "SELECT frequency FROM donations WHERE recurring_gift_id IS NOT NULL ORDER BY id",
    )
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    assert_eq!(frequencies, ["monthly", "yearly"]);
    let received = sink.wait_for(2).await;
    let (subject, text, _) = read(&received[1]);
    assert_eq!(subject, "Votre don régulier a été modifié");
    let text = plain(&text);
    assert!(
        text.contains("passe de 20 € par mois à 240 € par an"),
        "{text}"
    );
    // A frequency that is not a recurring one is refused, and changes nothing.
    let (_, page) = browser.get(&path).await;
    let refused = browser
        .post(
            &format!("{path}/montant"),
            &[
                ("csrf_token", &csrf(&page)),
                ("amount", "10"),
                ("frequency", "once"),
            ],
        )
        .await;
    assert_eq!(refused.status(), 400);
    assert_eq!(app.donations_of(DONOR).await.len(), 2);
}
