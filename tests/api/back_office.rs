//! The back-office: staff sign-in (lockout, sessions apart from the supporters'), roles, the
//! team page, the journal, and the dashboard's figures against hand-computed values. Real
//! HTTP with a cookie jar, on both backends.

use obole::accounts;
use obole::domain::dates::{self, DAY};
use obole::domain::email::Email;
use obole::domain::staff::Role;

use obole::store::counters;

use crate::emails::{SLUG, give_by_card};
use obole::config::Config;
use secrecy::SecretString;

use crate::emails::read;
use crate::helpers::{
    Backend, Content, TestApp, TestDatabase, fixtures, plain, spawn_app, spawn_with, test_config,
};
use crate::smtp_sink::SmtpSink;
use crate::supporter_space::{Browser, csrf, gift};

dual_backend_tests!(
    staff_sign_in_refuses_alike_and_locks_after_repeated_failures,
    each_role_reaches_what_it_may_and_no_more,
    every_admin_form_refuses_a_missing_token_and_a_role_below_its_need,
    admins_manage_the_team_and_every_change_is_journaled,
    signing_out_everywhere_ends_every_session,
    the_dashboard_figures_are_the_hand_computed_ones,
    the_donations_list_filters_pages_and_exports,
    editors_enter_offline_gifts_that_count_in_the_totals,
    a_refund_from_the_back_office_goes_through_stripe_and_the_ledger_follows,
    editors_create_publish_edit_and_close_a_campaign,
    the_donors_page_finds_new_returning_and_lapsed_donors,
    disputes_are_listed_to_follow_up_and_their_money_cannot_be_refunded,
    admins_describe_the_organisation_and_see_what_receipts_still_need,
    gifts_keep_where_they_came_from_and_the_way_to_them_is_counted,
    news_reach_the_project_s_supporters_who_asked_and_no_one_else,
);

const PASSWORD: &str = "une phrase de passe assez longue";

/// What a page says, without its tags, its spaces collapsed (no-break ones too).
pub(crate) fn words(html: &str) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => {
                in_tag = true;
                text.push(' ');
            }
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    plain(&text)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The alert a page shows.
fn alert(html: &str) -> String {
    const OPENING: &str = "role=\"alert\">";
    let start = html.find(OPENING).expect("an alert") + OPENING.len();
    words(&html[start..start + html[start..].find('<').unwrap_or(0)])
}

async fn staff(app: &TestApp, email: &str, role: Role) -> i64 {
    let email = Email::parse(email).unwrap();
    accounts::create_staff(
        &app.db,
        &email,
        role,
        PASSWORD.to_owned(),
        None,
        dates::now(),
    )
    .await
    .unwrap()
}

/// Posts the sign-in form; the response.
async fn sign_in_as(browser: &Browser, email: &str, password: &str) -> reqwest::Response {
    let (status, page) = browser.get("/admin/connexion").await;
    assert_eq!(status, 200);
    browser
        .post(
            "/admin/connexion",
            &[
                ("csrf_token", &csrf(&page)),
                ("email", email),
                ("password", password),
            ],
        )
        .await
}

pub(crate) async fn signed_in_staff(app: &TestApp, email: &str, role: Role) -> Browser {
    staff(app, email, role).await;
    let browser = Browser::new(app);
    let response = sign_in_as(&browser, email, PASSWORD).await;
    assert_eq!(response.status(), 303, "signed in as {email}");
    assert_eq!(response.headers()["location"], "/admin");
    browser
}

async fn staff_sign_in_refuses_alike_and_locks_after_repeated_failures(backend: Backend) {
    let app = spawn_app(backend, Content::Empty).await;
    staff(&app, "admin@example.org", Role::Admin).await;
    let browser = Browser::new(&app);
    // Not signed in: to the sign-in page.
    let response = browser
        .client
        .get(format!("{}/admin", browser.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/admin/connexion");

    let wrong = sign_in_as(&browser, "admin@example.org", "pas le bon mot de passe").await;
    assert_eq!(wrong.status(), 401);
    let wrong = alert(&wrong.text().await.unwrap());
    let unknown = sign_in_as(&browser, "inconnu@example.org", PASSWORD).await;
    assert_eq!(unknown.status(), 401);
    let unknown = alert(&unknown.text().await.unwrap());
    assert_eq!(unknown, wrong, "an unknown email reads as a wrong password");
    assert!(
        wrong.contains("Adresse e-mail ou mot de passe incorrect"),
        "{wrong}"
    );

    // Four more failures lock the account: then even the right password is refused, alike.
    for _ in 0..4 {
        sign_in_as(&browser, "admin@example.org", "encore une erreur de frappe").await;
    }
    let locked = sign_in_as(&browser, "admin@example.org", PASSWORD).await;
    assert_eq!(locked.status(), 401);
    assert_eq!(alert(&locked.text().await.unwrap()), wrong);
    // Once the lock has run out, the right password works, and the count starts again.
    sqlx::query("UPDATE staff SET locked_until = $1")
        .bind(dates::now() - 1)
        .execute(app.db.pool())
        .await
        .unwrap();
    let opened = sign_in_as(&browser, "admin@example.org", PASSWORD).await;
    assert_eq!(opened.status(), 303);
    let cookie = opened
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("obole_staff="))
        .expect("the back-office's own cookie");
    assert!(cookie.contains("Path=/admin"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert_eq!(
        app.count("SELECT failed_attempts FROM staff").await,
        0,
        "the count starts again"
    );
    let (status, dashboard) = browser.get("/admin").await;
    assert_eq!(status, 200);
    assert!(dashboard.contains("Tableau de bord"));
    // A staff session is not a supporter's: « Mon espace » still asks for a sign-in.
    assert!(
        browser
            .get("/mon-espace")
            .await
            .1
            .contains("name=\"email\"")
    );
}

async fn each_role_reaches_what_it_may_and_no_more(backend: Backend) {
    let app = spawn_app(backend, Content::Empty).await;
    for (email, role, team) in [
        ("lecture@example.org", Role::Viewer, 403),
        ("edition@example.org", Role::Editor, 403),
        ("admin@example.org", Role::Admin, 200),
    ] {
        let browser = signed_in_staff(&app, email, role).await;
        assert_eq!(browser.get("/admin").await.0, 200, "{email}");
        assert_eq!(browser.get("/admin/equipe").await.0, team, "{email}");
        assert_eq!(browser.get("/admin/journal").await.0, team, "{email}");
        let (_, dashboard) = browser.get("/admin").await;
        assert_eq!(
            dashboard.contains("href=\"/admin/equipe\""),
            team == 200,
            "the menu offers only what the role may open"
        );
    }
}

/// Every route of the back-office that changes something, the role it needs, and a form that
/// would pass its checks.
type Fields = &'static [(&'static str, &'static str)];
const CHANGES: &[(&str, Role, Fields)] = &[
    (
        "/admin/equipe",
        Role::Admin,
        &[
            ("email", "nouveau@example.org"),
            ("role", "viewer"),
            ("password", PASSWORD),
        ],
    ),
    (
        "/admin/equipe/{staff}/role",
        Role::Admin,
        &[("role", "editor")],
    ),
    (
        "/admin/equipe/{staff}/acces",
        Role::Admin,
        &[("access", "retirer")],
    ),
    (
        "/admin/dons/hors-ligne",
        Role::Editor,
        &[
            ("amount", "10"),
            ("method", "cash"),
            ("email", "x@example.org"),
        ],
    ),
    (
        "/admin/dons/{don}/remboursement",
        Role::Editor,
        &[("amount", "1")],
    ),
    (
        "/admin/campagnes/nouvelle",
        Role::Editor,
        &[("title", "Une campagne")],
    ),
    (
        "/admin/campagnes/{campagne}",
        Role::Editor,
        &[("title", "Un autre titre")],
    ),
    (
        "/admin/campagnes/{campagne}/statut",
        Role::Editor,
        &[("status", "closed")],
    ),
    (
        "/admin/nouvelles",
        Role::Editor,
        &[("title", "Une nouvelle"), ("body", "Un texte.")],
    ),
    ("/admin/campagnes/{campagne}/image", Role::Editor, &[]),
    (
        "/admin/projets/nouveau",
        Role::Editor,
        &[("name", "Un projet")],
    ),
    (
        "/admin/projets/{projet}",
        Role::Editor,
        &[("name", "Autre")],
    ),
    (
        "/admin/projets/{projet}/statut",
        Role::Editor,
        &[("status", "closed")],
    ),
    ("/admin/projets/{projet}/image", Role::Editor, &[]),
    ("/admin/organisation", Role::Admin, &[("name", "Autre nom")]),
    ("/admin/organisation/signature", Role::Admin, &[]),
    ("/admin/organisation/logo", Role::Admin, &[]),
    ("/admin/recus/annuels", Role::Editor, &[("year", "2025")]),
    (
        "/admin/recus/{recu}/annulation",
        Role::Editor,
        &[("reason", "Erreur de saisie")],
    ),
    ("/admin/deconnexion-partout", Role::Viewer, &[]),
    ("/admin/deconnexion", Role::Viewer, &[]),
];

async fn every_admin_form_refuses_a_missing_token_and_a_role_below_its_need(backend: Backend) {
    // The table above names every state-changing route of the router.
    let source = include_str!("../../src/web/admin/mod.rs");
    let posted: Vec<&str> = source
        .split(".route(")
        .skip(1)
        .filter(|route| route.contains("post("))
        .filter_map(|route| route.split('"').nth(1))
        .filter(|path| *path != "/admin/connexion")
        .collect();
    fn shape(path: &str) -> Vec<&str> {
        path.split('/')
            .map(|part| if part.starts_with('{') { "{}" } else { part })
            .collect()
    }
    let same_route = |listed: &str, path: &str| shape(listed) == shape(path);
    for path in &posted {
        assert!(
            CHANGES
                .iter()
                .any(|(listed, _, _)| same_route(listed, path)),
            "{path} changes something: add it to CHANGES"
        );
    }

    let app = spawn_app(backend, Content::Empty).await;
    let target = staff(&app, "cible@example.org", Role::Viewer).await;
    let project = fixtures::insert_project(&app.db, "peps", "PEPS").await;
    let campaign =
        fixtures::insert_campaign(&app.db, project, "ete", "published", 100_000, 10).await;
    let donation = fixtures::give(&app.db, gift(campaign, "marie@example.org", 1_000)).await;
    let donations = || app.count("SELECT COUNT(*) FROM donations WHERE refunded_cents = 0");
    let viewer = signed_in_staff(&app, "lecture@example.org", Role::Viewer).await;
    let editor = signed_in_staff(&app, "edition@example.org", Role::Editor).await;
    let admin = signed_in_staff(&app, "admin@example.org", Role::Admin).await;
    let journal = || app.count("SELECT COUNT(*) FROM audit_log");
    for (path, needed, form) in CHANGES {
        let path = path
            .replace("{staff}", &target.to_string())
            .replace("{don}", &donation.to_string())
            .replace("{campagne}", &campaign.to_string())
            .replace("{projet}", &project.to_string())
            .replace("{recu}", "1");
        // Without a token: refused, whoever asks.
        let before = (journal().await, donations().await);
        let response = admin.post(&path, form).await;
        assert_eq!(response.status(), 403, "{path} without a token");
        assert_eq!(
            (journal().await, donations().await),
            before,
            "{path}: nothing done"
        );
        // Below the role it needs: refused.
        for (browser, role) in [(&viewer, Role::Viewer), (&editor, Role::Editor)] {
            if role.allows(*needed) {
                continue;
            }
            // A picture goes as the upload form sends it; the rest as text forms.
            let response = if path.ends_with("/image") || path.ends_with("/signature") {
                let cover = include_bytes!("../fixtures/cover.png").to_vec();
                browser.upload("/admin", &path, cover, true).await
            } else {
                browser.submit("/admin", &path, form).await
            };
            assert_eq!(response.status(), 403, "{path} as {role}");
            assert_eq!(
                (journal().await, donations().await),
                before,
                "{path} as {role}: nothing done"
            );
        }
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM staff WHERE role = 'viewer' AND disabled_at IS NULL AND email = 'cible@example.org'")
            .await,
        1,
        "the target is untouched"
    );
}

async fn admins_manage_the_team_and_every_change_is_journaled(backend: Backend) {
    let app = spawn_app(backend, Content::Empty).await;
    let admin = signed_in_staff(&app, "admin@example.org", Role::Admin).await;
    let admin_id: i64 = sqlx::query_scalar("SELECT id FROM staff")
        .fetch_one(app.db.pool())
        .await
        .unwrap();

    // A new account: a short password and a taken address are explained, nothing created.
    for (fields, status, says) in [
        (
            [
                ("email", "nouveau@example.org"),
                ("role", "viewer"),
                ("password", "court"),
            ],
            422,
            "12 caractères",
        ),
        (
            [
                ("email", "admin@example.org"),
                ("role", "viewer"),
                ("password", PASSWORD),
            ],
            409,
            "déjà un compte",
        ),
        (
            [
                ("email", "nouveau@example.org"),
                ("role", "chef"),
                ("password", PASSWORD),
            ],
            422,
            "rôle dans la liste",
        ),
    ] {
        let response = admin
            .submit("/admin/equipe", "/admin/equipe", &fields)
            .await;
        assert_eq!(response.status(), status, "{fields:?}");
        assert!(plain(&response.text().await.unwrap()).contains(says));
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM staff").await, 1);
    let created = admin
        .submit(
            "/admin/equipe",
            "/admin/equipe",
            &[
                ("email", "nouveau@example.org"),
                ("role", "viewer"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(created.status(), 303);
    let new_id: i64 =
        sqlx::query_scalar("SELECT id FROM staff WHERE email = 'nouveau@example.org'")
            .fetch_one(app.db.pool())
            .await
            .unwrap();

    // The new member signs in; promoted, their next page shows it; disabled, they are out.
    let member = Browser::new(&app);
    assert_eq!(
        sign_in_as(&member, "nouveau@example.org", PASSWORD)
            .await
            .status(),
        303
    );
    assert_eq!(member.get("/admin/equipe").await.0, 403);
    let promoted = admin
        .submit(
            "/admin/equipe",
            &format!("/admin/equipe/{new_id}/role"),
            &[("role", "admin")],
        )
        .await;
    assert_eq!(promoted.status(), 303);
    assert_eq!(member.get("/admin/equipe").await.0, 200);
    let disabled = admin
        .submit(
            "/admin/equipe",
            &format!("/admin/equipe/{new_id}/acces"),
            &[("access", "retirer")],
        )
        .await;
    assert_eq!(disabled.status(), 303);
    assert_eq!(member.get("/admin").await.0, 303, "signed out at once");
    assert_eq!(
        sign_in_as(&member, "nouveau@example.org", PASSWORD)
            .await
            .status(),
        401,
        "a disabled account cannot sign in"
    );

    // The last active admin can be neither demoted nor disabled.
    for (action, field) in [
        ("role", ("role", "viewer")),
        ("acces", ("access", "retirer")),
    ] {
        let refused = admin
            .submit(
                "/admin/equipe",
                &format!("/admin/equipe/{admin_id}/{action}"),
                &[field],
            )
            .await;
        assert_eq!(refused.status(), 409, "{action}");
    }

    // Everything is in the journal, with before and after; the journal cannot be rewritten.
    let (status, journal) = admin.get("/admin/journal").await;
    assert_eq!(status, 200);
    let journal = words(&journal).replace("&#34;", "\"");
    for action in [
        "staff.create",
        "staff.role",
        "staff.disable",
        "staff.sign_in",
    ] {
        assert!(journal.contains(action), "{action}: {journal}");
    }
    assert!(
        journal.contains(r#"{"role":"viewer"} → {"role":"admin"}"#),
        "{journal}"
    );
    for sql in [
        "UPDATE audit_log SET action = 'rien'",
        "DELETE FROM audit_log",
    ] {
        assert!(
            sqlx::query(sql).execute(app.db.pool()).await.is_err(),
            "{sql} must be refused"
        );
    }
}

async fn signing_out_everywhere_ends_every_session(backend: Backend) {
    let app = spawn_app(backend, Content::Empty).await;
    let laptop = signed_in_staff(&app, "admin@example.org", Role::Admin).await;
    let phone = Browser::new(&app);
    assert_eq!(
        sign_in_as(&phone, "admin@example.org", PASSWORD)
            .await
            .status(),
        303
    );
    let out = laptop
        .submit("/admin", "/admin/deconnexion-partout", &[])
        .await;
    assert_eq!(out.status(), 200);
    assert_eq!(laptop.get("/admin").await.0, 303);
    assert_eq!(phone.get("/admin").await.0, 303, "the other device too");
    // Signing in again works at once.
    assert_eq!(
        sign_in_as(&phone, "admin@example.org", PASSWORD)
            .await
            .status(),
        303
    );
    assert_eq!(phone.get("/admin").await.0, 200);
}

async fn the_dashboard_figures_are_the_hand_computed_ones(backend: Backend) {
    let app = spawn_app(backend, Content::Empty).await;
    let project = fixtures::insert_project(&app.db, "peps", "PEPS").await;
    let campaign =
        fixtures::insert_campaign(&app.db, project, "ete", "published", 100_000, 10).await;
    let now = dates::now();
    // One-off gifts: 10 € now (5 € of it refunded), 20 € 3 days ago, 1 € a minute after the
    // 7 days' start and 2 € a minute before it (the day the period starts in is read from the
    // ledger, the whole days after it from their summary), 40 € 20 days ago, 80 € 40 days
    // ago, 160 € two years ago.
    for (cents, ago, refunded) in [
        (1_000, 0, 500),
        (2_000, 3 * DAY, 0),
        (100, 7 * DAY - 60, 0),
        (200, 7 * DAY + 60, 0),
        (4_000, 20 * DAY, 0),
        (8_000, 40 * DAY, 0),
        (16_000, 730 * DAY, 0),
    ] {
        let id = fixtures::give(&app.db, gift(campaign, "marie@example.org", cents)).await;
        sqlx::query("UPDATE donations SET donated_at = $1, refunded_cents = $2 WHERE id = $3")
            .bind(now - ago)
            .bind(refunded)
            .bind(id)
            .execute(app.db.pool())
            .await
            .unwrap();
    }
    // A monthly instalment of 15 € two days ago, from an active monthly gift; an active
    // yearly gift of 120 €; one past due (30 € a month); one cancelled.
    let supporter: i64 = sqlx::query_scalar("SELECT id FROM supporters")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    for (amount, frequency, status) in [
        (1_500, "monthly", "active"),
        (12_000, "yearly", "active"),
        (3_000, "monthly", "past_due"),
        (9_900, "monthly", "canceled"),
    ] {
        sqlx::query(
            "INSERT INTO recurring_gifts (supporter_id, campaign_id, amount_cents, currency, \
                 frequency, status, created_at, updated_at, canceled_at) \
             VALUES ($1, $2, $3, 'EUR', $4, $5, $6, $6, \
                 CASE WHEN $5 = 'canceled' THEN $6 ELSE NULL END)",
        )
        .bind(supporter)
        .bind(campaign)
        .bind(amount)
        .bind(frequency)
        .bind(status)
        .bind(now)
        .execute(app.db.pool())
        .await
        .unwrap();
    }
    let instalment = fixtures::give(&app.db, gift(campaign, "marie@example.org", 1_500)).await;
    sqlx::query("UPDATE donations SET donated_at = $1, frequency = 'monthly' WHERE id = $2")
        .bind(now - 2 * DAY)
        .bind(instalment)
        .execute(app.db.pool())
        .await
        .unwrap();

    // The history above was written by hand: the counters and summaries follow it as
    // `obole recount` makes them.
    counters::recount(&app.db).await.unwrap();

    let admin = signed_in_staff(&app, "admin@example.org", Role::Viewer).await;
    let (status, page) = admin.get("/admin").await;
    assert_eq!(status, 200);
    let text = words(&page);
    // Today 5 €; 7 days 26 € + 15 €; 30 days 68 € + 15 €.
    for expected in [
        "Aujourd’hui 5 € 0 € 5 €",
        "7 derniers jours 26 € 15 € 41 €",
        "30 derniers jours 68 € 15 € 83 €",
    ] {
        assert!(text.contains(expected), "{expected}: {text}");
    }
    // This year: the gifts above, unless the year began less than 40 days ago.
    if dates::year_of(now - 40 * DAY) == dates::year_of(now) {
        assert!(
            text.contains("Depuis le 1er janvier 148 € 15 € 163 €"),
            "{text}"
        );
    }
    // 15 € a month + 120 € a year (10 € a month); the past-due and the cancelled do not count.
    assert!(text.contains("dons réguliers actifs 2"), "{text}");
    assert!(
        text.contains("revenu mensuel récurrent des dons actifs 25 €"),
        "{text}"
    );
    // This month: four gifts started, one stopped; three still running (the failing one
    // too), bringing 15 + 10 + 30 € a month; none ran at the month's start (no churn).
    let month = dates::french_date(now)
        .split_once(' ')
        .map(|(_, month)| month.to_owned())
        .unwrap();
    assert!(
        text.contains(&format!("{month} 4 1 3 55 € —")),
        "{month}: {text}"
    );
    assert_eq!(
        page.matches("<svg class=\"chart\"").count(),
        2,
        "two charts"
    );
    assert!(page.contains("role=\"img\""));
    assert!(text.contains("en échec de paiement 1"), "{text}");
    assert!(
        text.contains("30 € par mois"),
        "the past-due gift listed: {text}"
    );
    // The campaign: 1 000 € to raise, 323 € kept, 10 days left: 67,70 € a day.
    assert!(text.contains("Campagne ete"), "{text}");
    assert!(
        text.contains("il faut 67,70 € par jour pour atteindre l’objectif"),
        "{text}"
    );
}

/// Records a one-off gift of `cents` by `email` (`last_name`), `days_ago`; its id.
async fn gift_on(
    app: &TestApp,
    campaign: i64,
    email: &str,
    last_name: &str,
    cents: i64,
    days_ago: i64,
) -> i64 {
    let mut gift = gift(campaign, email, cents);
    gift.last_name = last_name;
    let id = fixtures::give(&app.db, gift).await;
    sqlx::query("UPDATE donations SET donated_at = $1 WHERE id = $2")
        // Ten seconds apart by id: the clock's tick between two inserts (a loaded machine)
        // cannot put a later gift before an earlier one.
        .bind(dates::now() - days_ago * DAY - id * 10)
        .bind(id)
        .execute(app.db.pool())
        .await
        .unwrap();
    id
}

/// The donation numbers a list page shows, in order.
fn numbers(html: &str) -> Vec<i64> {
    html.split("n° ")
        .skip(1)
        .filter_map(|rest| rest.split('<').next()?.trim().parse().ok())
        .collect()
}

async fn the_donations_list_filters_pages_and_exports(backend: Backend) {
    let app = spawn_app(backend, Content::Empty).await;
    let project = fixtures::insert_project(&app.db, "peps", "PEPS").await;
    let summer = fixtures::insert_campaign(&app.db, project, "ete", "published", 100_000, 10).await;
    let winter =
        fixtures::insert_campaign(&app.db, project, "hiver", "published", 100_000, 10).await;
    let alice = gift_on(&app, summer, "alice@example.org", "Martin", 1_250, 1).await;
    let bob = gift_on(
        &app,
        winter,
        "bob@example.org",
        "=HYPERLINK(\"x\")",
        9_000,
        40,
    )
    .await;
    let mut many = Vec::new();
    for i in 0..55 {
        many.push(gift_on(&app, summer, "carla@example.org", "Durand", 2_000 + i, 5).await);
    }
    let viewer = signed_in_staff(&app, "lecture@example.org", Role::Viewer).await;

    // Newest first, 50 a page, and the next page picks up where the first ended.
    let (status, first) = viewer.get("/admin/dons").await;
    assert_eq!(status, 200);
    let first_numbers = numbers(&first);
    assert_eq!(first_numbers.len(), 50);
    assert_eq!(first_numbers[0], alice);
    let next = first
        .split("href=\"")
        .filter_map(|rest| rest.split('"').next())
        .find(|href| href.contains("apres="))
        .expect("a next page")
        .replace("&amp;", "&");
    let (_, second) = viewer.get(&next).await;
    let second_numbers = numbers(&second);
    assert_eq!(second_numbers.len(), 7, "57 in all");
    assert!(second_numbers.contains(&bob));
    assert!(second_numbers.iter().all(|n| !first_numbers.contains(n)));

    // Filters, alone and together.
    for (query, expected) in [
        (format!("campagne={winter}"), vec![bob]),
        ("q=ALI".to_owned(), vec![alice]),
        ("q=durand&min=20,50".to_owned(), many[50..].to_vec()),
        ("max=12,50".to_owned(), vec![alice]),
        ("frequence=monthly".to_owned(), vec![]),
        ("etat=refunded".to_owned(), vec![]),
        ("moyen=card&min=90".to_owned(), vec![bob]),
        ("q=%25".to_owned(), vec![]),
        // The start of a last name or an email, any case; never the middle of one.
        ("q=MART".to_owned(), vec![alice]),
        ("q=alice%40".to_owned(), vec![alice]),
        ("q=+Bob%40Example.org+".to_owned(), vec![bob]),
        ("q=artin".to_owned(), vec![]),
    ] {
        let (status, page) = viewer.get(&format!("/admin/dons?{query}")).await;
        assert_eq!(status, 200, "{query}");
        assert_eq!(numbers(&page), expected, "{query}");
    }
    // Dates are whole days, the last one included: alice gave a day ago.
    let today = time::OffsetDateTime::now_utc().date();
    let two_days_ago = today.previous_day().unwrap().previous_day().unwrap();
    let yesterday = today.previous_day().unwrap();
    let (_, page) = viewer
        .get(&format!("/admin/dons?du={two_days_ago}&au={yesterday}"))
        .await;
    assert_eq!(numbers(&page), [alice]);
    // What cannot be read is explained.
    for (query, says) in [
        ("du=2026-13-01", "n’est pas valide"),
        ("min=abc", "n’est pas un nombre"),
        ("etat=perdu", "un état dans la liste"),
        ("campagne=x", "la campagne dans la liste"),
        ("apres=x", "n’existe pas"),
    ] {
        let (status, page) = viewer.get(&format!("/admin/dons?{query}")).await;
        assert_eq!(status, 422, "{query}");
        assert!(page.contains(says), "{query}: {page}");
    }

    // The CSV: for French spreadsheets, every row of the selection, formulas neutralised.
    let response = viewer
        .client
        .get(format!("{}/admin/dons.csv?campagne={winter}", viewer.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/csv; charset=utf-8"
    );
    let csv = response.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(
        lines[0].starts_with("\u{feff}Date;N° du don;Prénom;Nom;"),
        "{csv}"
    );
    assert_eq!(lines.len(), 2, "{csv}");
    assert!(
        lines[1].contains(&format!(";{bob};Marie;\"'=HYPERLINK(\"\"x\"\")\";bob@example.org;Campagne hiver;90,00;0,00;EUR;Ponctuel;Carte;Reçu")),
        "{csv}"
    );
    let all = viewer
        .client
        .get(format!("{}/admin/dons.csv", viewer.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(all.lines().count(), 1 + 57);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'donations.export'")
            .await,
        2,
        "each export is in the journal"
    );
    // Compressed, as browsers ask for it, the file arrives whole.
    let response = viewer
        .client
        .get(format!("{}/admin/dons.csv", viewer.base))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-encoding"], "gzip");
    let compressed = response.bytes().await.expect("the whole file");
    let mut csv = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&compressed[..]), &mut csv)
        .unwrap();
    assert_eq!(csv, all, "the same file, compressed");

    // A donor's page: their donations only; an unknown id is a 404.
    let carla: i64 =
        sqlx::query_scalar("SELECT id FROM supporters WHERE email = 'carla@example.org'")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    let (status, donor) = viewer.get(&format!("/admin/donateurs/{carla}")).await;
    assert_eq!(status, 200);
    assert!(donor.contains("carla@example.org"));
    assert_eq!(donor.matches("<tr>").count(), 1 + 50, "a page of 50");
    assert_eq!(viewer.get("/admin/donateurs/999999").await.0, 404);
    // Not signed in: none of it.
    let stranger = Browser::new(&app);
    for path in [
        "/admin/dons",
        "/admin/dons.csv",
        &format!("/admin/donateurs/{carla}"),
    ] {
        let response = stranger
            .client
            .get(format!("{}{path}", stranger.base))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 303, "{path}");
    }
}

async fn campaign_raised(app: &TestApp, campaign: i64) -> i64 {
    counters::campaign(app.db.pool(), campaign)
        .await
        .unwrap()
        .raised_cents
}

async fn assert_counters_match_ledger(app: &TestApp) {
    let report = counters::recount(&app.db).await.unwrap();
    assert!(report.all_exact());
}

async fn editors_enter_offline_gifts_that_count_in_the_totals(backend: Backend) {
    let app = spawn_app(backend, Content::Empty).await;
    let project = fixtures::insert_project(&app.db, "peps", "PEPS").await;
    let campaign =
        fixtures::insert_campaign(&app.db, project, "ete", "published", 100_000, 10).await;
    let editor = signed_in_staff(&app, "edition@example.org", Role::Editor).await;
    let viewer = signed_in_staff(&app, "lecture@example.org", Role::Viewer).await;
    assert_eq!(viewer.get("/admin/dons/hors-ligne").await.0, 403);
    let campaign_field = campaign.to_string();
    let good = [
        ("campaign", campaign_field.as_str()),
        ("amount", "150"),
        ("date", "2026-11-20"),
        ("method", "cheque"),
        ("reference", "Chèque n° 0012345"),
        ("email", "jean@example.org"),
        ("first_name", "Jean"),
        ("last_name", "Valjean"),
        ("address_line1", "3 rue Plumet"),
        ("address_line2", ""),
        ("postal_code", "75007"),
        ("city", "Paris"),
        ("country", "FR"),
    ];
    let refused = viewer
        .submit("/admin", "/admin/dons/hors-ligne", &good)
        .await;
    assert_eq!(refused.status(), 403);

    // Wrong fields: each explained, nothing recorded.
    let mut wrong = good.to_vec();
    wrong[1] = ("amount", "0");
    wrong[2] = ("date", "2999-01-01");
    wrong[3] = ("method", "card");
    wrong[5] = ("email", "pas-une-adresse");
    let response = editor
        .submit("/admin/dons/hors-ligne", "/admin/dons/hors-ligne", &wrong)
        .await;
    assert_eq!(response.status(), 422);
    let html = plain(&response.text().await.unwrap());
    for says in [
        "aujourd’hui au plus tard",
        "chèque, virement ou espèces",
        "ne semble pas valide",
        "Valjean",
    ] {
        assert!(html.contains(says), "{says}: {html}");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM donations").await, 0);

    let recorded = editor
        .submit("/admin/dons/hors-ligne", "/admin/dons/hors-ligne", &good)
        .await;
    assert_eq!(recorded.status(), 303);
    let location = recorded.headers()["location"].to_str().unwrap().to_owned();
    let (status, page) = editor.get(&location).await;
    assert_eq!(status, 200);
    let text = words(&page);
    assert!(
        text.contains("Chèque — référence Chèque n° 0012345"),
        "{text}"
    );
    assert!(text.contains("20 novembre 2026"), "{text}");
    assert_eq!(campaign_raised(&app, campaign).await, 15_000);
    assert_counters_match_ledger(&app).await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM supporters WHERE email = 'jean@example.org' AND last_name = 'Valjean'").await,
        1
    );

    // Refunded in part, here and now (no Stripe for a cheque): the totals follow at once.
    let id: i64 = sqlx::query_scalar("SELECT id FROM donations")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    let path = format!("/admin/dons/{id}");
    let too_much = editor
        .submit(
            &path,
            &format!("{path}/remboursement"),
            &[("amount", "200")],
        )
        .await;
    assert_eq!(too_much.status(), 422);
    let refunded = editor
        .submit(&path, &format!("{path}/remboursement"), &[("amount", "50")])
        .await;
    assert_eq!(refunded.status(), 303);
    assert_eq!(campaign_raised(&app, campaign).await, 10_000);
    assert_counters_match_ledger(&app).await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM jobs WHERE kind = 'email' AND payload LIKE '%refunded%'")
            .await,
        1,
        "the donor is told"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM jobs WHERE kind = 'receipt_correction'")
            .await,
        1,
        "a receipt that counts the gift is corrected"
    );
    for action in ["donation.offline", "donation.refund"] {
        assert_eq!(
            app.count(&format!(
                "SELECT COUNT(*) FROM audit_log WHERE action = '{action}'"
            ))
            .await,
            1,
            "{action}"
        );
    }
    // A viewer can read the page, not refund.
    let (status, page) = viewer.get(&path).await;
    assert_eq!(status, 200);
    assert!(!page.contains("/remboursement"));
    let refused = viewer
        .submit(&path, &format!("{path}/remboursement"), &[("amount", "10")])
        .await;
    assert_eq!(refused.status(), 403);
}

async fn a_refund_from_the_back_office_goes_through_stripe_and_the_ledger_follows(
    backend: Backend,
) {
    let app = spawn_app(backend, Content::Demo).await;
    give_by_card(&app, &[("amount", "6000"), ("email", "paul@example.org")]).await;
    give_by_card(
        &app,
        &[
            ("frequency", "monthly"),
            ("amount", "2000"),
            ("email", "lea@example.org"),
        ],
    )
    .await;
    let campaign = fixtures::campaign_id(&app.db, SLUG).await;
    let before = campaign_raised(&app, campaign).await;
    let editor = signed_in_staff(&app, "edition@example.org", Role::Editor).await;
    for (email, amount, refunded) in [
        ("paul@example.org", "20", 2_000),
        ("lea@example.org", "20", 2_000),
    ] {
        let id: i64 = sqlx::query_scalar(
            "SELECT d.id FROM donations d JOIN supporters s ON s.id = d.supporter_id WHERE s.email = $1",
        )
        .bind(email)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
        let path = format!("/admin/dons/{id}");
        let asked = editor
            .submit(
                &path,
                &format!("{path}/remboursement"),
                &[("amount", amount)],
            )
            .await;
        assert_eq!(asked.status(), 303, "{email}");
        // Nothing moves until Stripe says so.
        app.settle_webhooks().await;
        let kept: i64 = sqlx::query_scalar("SELECT refunded_cents FROM donations WHERE id = $1")
            .bind(id)
            .fetch_one(app.db.pool())
            .await
            .unwrap();
        assert_eq!(kept, refunded, "{email}: the webhook came back");
    }
    assert_eq!(campaign_raised(&app, campaign).await, before - 4_000);
    assert_counters_match_ledger(&app).await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'donation.refund'")
            .await,
        2
    );
}

async fn editors_create_publish_edit_and_close_a_campaign(backend: Backend) {
    let app = spawn_app(backend, Content::Empty).await;
    let project = fixtures::insert_project(&app.db, "peps", "PEPS").await;
    fixtures::insert_campaign(&app.db, project, "deja-prise", "published", 100_000, 10).await;
    let viewer = signed_in_staff(&app, "lecture@example.org", Role::Viewer).await;
    let editor = signed_in_staff(&app, "edition@example.org", Role::Editor).await;
    assert_eq!(viewer.get("/admin/campagnes").await.0, 200);
    assert_eq!(viewer.get("/admin/campagnes/nouvelle").await.0, 403);

    let project_field = project.to_string();
    let mut fields = vec![
        ("project", project_field.as_str()),
        ("title", "Été sportif 2027"),
        ("slug", ""),
        ("summary", "Un été de sport pour 40 enfants."),
        ("story", "Premier paragraphe.\n\nSecond paragraphe."),
        ("goal", "12 000"),
        ("starts_on", "2026-06-01"),
        ("ends_on", "2099-08-31"),
        ("amounts_once", "30 ; 60 ; 150"),
        ("amounts_monthly", "10 ; 25"),
        ("amounts_yearly", ""),
        (
            "tiers",
            "60 = un équipement sportif complet\n25 = un mois de sport",
        ),
        ("position", "-1"),
    ];
    // Wrong fields are named; nothing is created.
    let mut wrong = fields.clone();
    wrong[5] = ("goal", "beaucoup");
    wrong[8] = ("amounts_once", "30 ; 30");
    let refused = editor
        .submit(
            "/admin/campagnes/nouvelle",
            "/admin/campagnes/nouvelle",
            &wrong,
        )
        .await;
    assert_eq!(refused.status(), 422);
    let html = plain(&refused.text().await.unwrap());
    assert!(html.contains("L’objectif en euros"), "{html}");
    assert!(html.contains("Chaque montant une seule fois"), "{html}");
    assert_eq!(app.count("SELECT COUNT(*) FROM campaigns").await, 1);

    let created = editor
        .submit(
            "/admin/campagnes/nouvelle",
            "/admin/campagnes/nouvelle",
            &fields,
        )
        .await;
    assert_eq!(created.status(), 303);
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    let id: i64 = location
        .trim_start_matches("/admin/campagnes/")
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    // A draft: not public yet.
    assert_eq!(app.get("/campagnes/ete-sportif-2027").await.status(), 404);
    let publish = editor
        .submit(
            &location,
            &format!("/admin/campagnes/{id}/statut"),
            &[("status", "published")],
        )
        .await;
    assert_eq!(publish.status(), 303);
    let public = app.page("/campagnes/ete-sportif-2027").await;
    assert!(
        public.contains("Été sportif 2027") && public.contains("Second paragraphe."),
        "{public}"
    );
    let home = app.page("/").await;
    assert!(
        home.find("Été sportif 2027").unwrap() < home.find("Campagne deja-prise").unwrap(),
        "placed first on the home page (order -1)"
    );
    let form = plain(&app.page("/campagnes/ete-sportif-2027/don").await);
    assert!(
        form.contains("un équipement sportif complet"),
        "the amount labelled with its tier"
    );

    // Edited: the public page shows it at once; another campaign's address is refused.
    fields[1] = ("title", "Été sportif 2027, deuxième édition");
    fields[2] = ("slug", "deja-prise");
    let taken = editor
        .submit(
            &format!("/admin/campagnes/{id}"),
            &format!("/admin/campagnes/{id}"),
            &fields,
        )
        .await;
    assert_eq!(taken.status(), 422);
    assert!(plain(&taken.text().await.unwrap()).contains("déjà cette adresse"));
    fields[2] = ("slug", "ete-sportif-2027");
    let saved = editor
        .submit(
            &format!("/admin/campagnes/{id}"),
            &format!("/admin/campagnes/{id}"),
            &fields,
        )
        .await;
    assert_eq!(saved.status(), 303);
    assert!(
        app.page("/campagnes/ete-sportif-2027")
            .await
            .contains("deuxième édition")
    );
    // The edit form shows what is stored.
    let (_, edit) = editor.get(&format!("/admin/campagnes/{id}")).await;
    assert!(edit.contains("value=\"30 ; 60 ; 150\""), "{edit}");

    // Closed: the form refuses gifts.
    editor
        .submit(
            &format!("/admin/campagnes/{id}"),
            &format!("/admin/campagnes/{id}/statut"),
            &[("status", "closed")],
        )
        .await;
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM campaigns WHERE id = {id} AND status = 'closed'"
        ))
        .await,
        1
    );
    let bad = editor
        .submit(
            &format!("/admin/campagnes/{id}"),
            &format!("/admin/campagnes/{id}/statut"),
            &[("status", "supprimee")],
        )
        .await;
    assert_eq!(bad.status(), 400);
    for action in ["campaign.create", "campaign.update", "campaign.status"] {
        assert!(
            app.count(&format!(
                "SELECT COUNT(*) FROM audit_log WHERE action = '{action}'"
            ))
            .await
                >= 1,
            "{action}"
        );
    }
    // A viewer cannot change anything.
    let refused = viewer
        .submit(
            "/admin/campagnes",
            &format!("/admin/campagnes/{id}/statut"),
            &[("status", "published")],
        )
        .await;
    assert_eq!(refused.status(), 403);
}

async fn news_reach_the_project_s_supporters_who_asked_and_no_one_else(backend: Backend) {
    let sink = SmtpSink::start().await;
    let database = TestDatabase::create(backend).await;
    let config = Config {
        smtp_url: Some(SecretString::from(format!("{}?tls=none", sink.url()))),
        ..test_config(database.url(), Content::Empty)
    };
    let app = spawn_with(database, config).await;
    let sport = fixtures::insert_project(&app.db, "peps", "PEPS").await;
    let togo = fixtures::insert_project(&app.db, "arpej", "ARPEJ").await;
    let summer = fixtures::insert_campaign(&app.db, sport, "ete", "published", 100_000, 10).await;
    let kara = fixtures::insert_campaign(&app.db, togo, "kara", "published", 100_000, 10).await;
    for (email, campaign, wants_news, erased) in [
        ("alice@example.org", summer, 1, false),
        ("bob@example.org", summer, 0, false),
        ("carla@example.org", kara, 1, false),
        ("dan@example.org", summer, 1, true),
    ] {
        fixtures::give(&app.db, gift(campaign, email, 2_000)).await;
        sqlx::query("UPDATE supporters SET news_consent = $1, erased_at = $2 WHERE email = $3")
            .bind(wants_news)
            .bind(erased.then_some(1_i64))
            .bind(email)
            .execute(app.db.pool())
            .await
            .unwrap();
    }
    let editor = signed_in_staff(&app, "edition@example.org", Role::Editor).await;
    let sport_field = sport.to_string();
    let kara_field = kara.to_string();

    // A campaign of another project is refused; nothing is posted.
    let wrong = editor
        .submit(
            "/admin/nouvelles",
            "/admin/nouvelles",
            &[
                ("project", &sport_field),
                ("campaign", &kara_field),
                ("title", "Premier tournoi"),
                ("body", "Un texte."),
                ("notify", "1"),
            ],
        )
        .await;
    assert_eq!(wrong.status(), 422);
    assert_eq!(app.count("SELECT COUNT(*) FROM news_posts").await, 0);

    // Posted now and emailed: alice only (bob did not ask, carla gave to the other project,
    // dan is erased).
    let posted = editor
        .submit(
            "/admin/nouvelles",
            "/admin/nouvelles",
            &[
                ("project", &sport_field),
                ("campaign", ""),
                ("title", "Premier tournoi"),
                (
                    "body",
                    "Douze enfants ont joué leur premier tournoi.\n\nIls ont gagné deux matchs.",
                ),
                ("date", ""),
                ("notify", "1"),
            ],
        )
        .await;
    assert_eq!(posted.status(), 303);
    let received = sink.wait_for(1).await;
    assert_eq!(received[0].recipients, ["alice@example.org"]);
    let (subject, text, _) = read(&received[0]);
    assert_eq!(subject, "Premier tournoi");
    let text = plain(&text);
    assert!(
        text.contains("Des nouvelles de PEPS, que vous soutenez"),
        "{text}"
    );
    assert!(text.contains("Ils ont gagné deux matchs."), "{text}");
    assert!(text.contains("/projets/peps"), "{text}");
    assert!(
        received[0].header("list-unsubscribe").is_some(),
        "one-click unsubscribe"
    );
    assert!(app.page("/projets/peps").await.contains("Premier tournoi"));

    // Scheduled for later: on the project's page and in the mailboxes only then; without
    // « envoyer », never by email.
    for (title, date, notify) in [
        ("Le stage d’été", "2099-07-01", "1"),
        ("Sans email", "", ""),
    ] {
        let mut fields = vec![
            ("project", sport_field.as_str()),
            ("title", title),
            ("body", "Un texte."),
            ("date", date),
        ];
        if !notify.is_empty() {
            fields.push(("notify", notify));
        }
        let posted = editor
            .submit("/admin/nouvelles", "/admin/nouvelles", &fields)
            .await;
        assert_eq!(posted.status(), 303, "{title}");
    }
    assert!(!app.page("/projets/peps").await.contains("Le stage d’été"));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM jobs WHERE kind = 'news_fan_out' AND run_at > 4000000000")
            .await,
        1,
        "the scheduled post is told on its day"
    );
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(sink.received().len(), 1, "nothing more sent");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'news.create'")
            .await,
        3
    );
}

async fn the_donors_page_finds_new_returning_and_lapsed_donors(backend: Backend) {
    let app = spawn_app(backend, Content::Empty).await;
    let project = fixtures::insert_project(&app.db, "peps", "PEPS").await;
    let campaign =
        fixtures::insert_campaign(&app.db, project, "ete", "published", 100_000, 10).await;
    let now = dates::now();
    let year = time::Date::from_ordinal_date(dates::year_of(now), 1)
        .unwrap()
        .midnight()
        .assume_utc()
        .unix_timestamp();
    let this_year = year + 1;
    let last_year = year - 100 * DAY;
    let long_ago = year - 1000 * DAY;
    for (email, last_name, cents, at) in [
        ("ann@example.org", "Aubert", 1_000, last_year),
        ("ann@example.org", "Aubert", 2_000, this_year),
        ("bob@example.org", "Bonnet", 5_000, last_year),
        ("cid@example.org", "Carpentier", 7_000, long_ago),
        ("dee@example.org", "Dupuis", 4_000, this_year),
    ] {
        let mut given = gift(campaign, email, cents);
        given.last_name = last_name;
        let id = fixtures::give(&app.db, given).await;
        sqlx::query("UPDATE donations SET donated_at = $1 WHERE id = $2")
            .bind(at)
            .bind(id)
            .execute(app.db.pool())
            .await
            .unwrap();
    }
    counters::recount(&app.db).await.unwrap();
    let viewer = signed_in_staff(&app, "lecture@example.org", Role::Viewer).await;
    let (status, page) = viewer.get("/admin/donateurs").await;
    assert_eq!(status, 200);
    let text = words(&page);
    let y = dates::year_of(now);
    for expected in [
        format!("nouveaux donateurs en {y} 1"),
        format!("donateurs revenus en {y} 1"),
        format!("don moyen en {y} 30 €"),
        format!("fidélité (donateurs de {} revenus) 50,0 %", y - 1),
        format!("Ont donné en {}, pas encore en {y} (1)", y - 1),
        format!("Ont donné avant {}, ni en {} ni en {y} (1)", y - 1, y - 1),
    ] {
        assert!(text.contains(&expected), "{expected}: {text}");
    }
    let lybunt = &page[page.find("LYBUNT").unwrap()..page.find("SYBUNT").unwrap()];
    assert!(
        lybunt.contains("Bonnet") && !lybunt.contains("Aubert"),
        "{lybunt}"
    );
    let sybunt = &page[page.find("SYBUNT").unwrap()..];
    assert!(
        sybunt.contains("Carpentier") && !sybunt.contains("Bonnet"),
        "{sybunt}"
    );
}

async fn disputes_are_listed_to_follow_up_and_their_money_cannot_be_refunded(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    give_by_card(
        &app,
        &[("amount", "6000"), ("email", "conteste@example.org")],
    )
    .await;
    let (id, payment_intent): (i64, String) = sqlx::query_as(
        "SELECT d.id, d.stripe_payment_intent_id FROM donations d \
         JOIN supporters s ON s.id = d.supporter_id WHERE s.email = 'conteste@example.org'",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    app.sandbox()
        .open_dispute(&payment_intent, None, Some("fraudulent"))
        .unwrap();
    app.settle_webhooks().await;
    let editor = signed_in_staff(&app, "edition@example.org", Role::Editor).await;
    let (status, page) = editor.get("/admin/litiges").await;
    assert_eq!(status, 200);
    let text = words(&page);
    assert!(text.contains("1 litige en cours"), "{text}");
    assert!(text.contains("60 € sur 60 €"), "{text}");
    assert!(text.contains("En cours"), "{text}");
    let (_, donation) = editor.get(&format!("/admin/dons/{id}")).await;
    assert!(words(&donation).contains("Contesté 60 €"), "{donation}");
    assert!(
        !donation.contains("/remboursement"),
        "nothing left to refund"
    );
    let refused = editor
        .submit(
            &format!("/admin/dons/{id}"),
            &format!("/admin/dons/{id}/remboursement"),
            &[("amount", "10")],
        )
        .await;
    assert_eq!(refused.status(), 422);
}

async fn admins_describe_the_organisation_and_see_what_receipts_still_need(backend: Backend) {
    let app = spawn_app(backend, Content::Empty).await;
    let admin = signed_in_staff(&app, "admin@example.org", Role::Admin).await;
    let editor = signed_in_staff(&app, "edition@example.org", Role::Editor).await;
    assert_eq!(editor.get("/admin/organisation").await.0, 403);
    let (status, page) = admin.get("/admin/organisation").await;
    assert_eq!(status, 200);
    assert!(words(&page).contains("Aucun reçu fiscal ne peut être établi tant que manquent"));

    let mut fields = vec![
        ("name", "Villages d’Enfants"),
        ("address_line1", "12 rue de l’Espérance"),
        ("postal_code", "75011"),
        ("city", "Paris"),
        ("object", "Protection de l’enfance"),
        ("category", "rup"),
        ("siren", "12345"),
        ("rna", ""),
        ("cgi_200", "1"),
        ("cgi_238_bis", "1"),
        ("utility", "1"),
        ("signatory_name", "Claire Martin"),
        ("signatory_role", "Présidente"),
        ("publication_director", "Claire Martin"),
        ("contact_email", "contact@example.org"),
        ("host", "Hébergeur, 1 rue du Serveur, Paris"),
    ];
    let refused = admin
        .submit("/admin/organisation", "/admin/organisation", &fields)
        .await;
    assert_eq!(refused.status(), 422);
    assert!(words(&refused.text().await.unwrap()).contains("Le SIREN compte 9 chiffres"));
    fields[6] = ("siren", "123 456 789");
    let saved = admin
        .submit("/admin/organisation", "/admin/organisation", &fields)
        .await;
    assert_eq!(saved.status(), 303);
    let (_, page) = admin.get("/admin/organisation").await;
    assert!(
        words(&page).contains("l’image de sa signature"),
        "still missing"
    );
    // The signature: a picture, checked by content (a PDF printed as a signature is not one).
    let refused = admin
        .upload(
            "/admin/organisation",
            "/admin/organisation/signature",
            b"%PDF-1.7".to_vec(),
            true,
        )
        .await;
    assert_eq!(refused.status(), 422);
    assert!(
        words(&refused.text().await.unwrap())
            .contains("Choisissez une image PNG ou JPEG de 512 Ko au plus")
    );
    let signature = include_bytes!("../fixtures/cover.png").to_vec();
    let sent = admin
        .upload(
            "/admin/organisation",
            "/admin/organisation/signature",
            signature,
            true,
        )
        .await;
    assert_eq!(sent.status(), 303);
    // Saving the texts again keeps the signature.
    let saved = admin
        .submit("/admin/organisation", "/admin/organisation", &fields)
        .await;
    assert_eq!(saved.status(), 303);
    let (_, page) = admin.get("/admin/organisation").await;
    let text = words(&page);
    assert!(
        text.contains("Tout ce qu’un reçu fiscal doit mentionner est renseigné"),
        "{text}"
    );
    assert!(page.contains("<img class=\"signature-image\" src=\"/medias/"));
    let stored: (String, String, i64) =
        sqlx::query_as("SELECT siren, cgi_articles, public_utility FROM organisation_settings")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(
        stored,
        ("123456789".to_owned(), "200,238 bis".to_owned(), 1)
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'organisation.update'")
            .await,
        2
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'organisation.signature'")
            .await,
        1
    );

    // The logo: every page's header shows it at once (the default mark until then); a PDF
    // is refused and changes nothing.
    assert!(app.page("/").await.contains("class=\"brand__mark\""));
    let refused = admin
        .upload(
            "/admin/organisation",
            "/admin/organisation/logo",
            b"%PDF-1.7".to_vec(),
            true,
        )
        .await;
    assert_eq!(refused.status(), 422);
    let logo = include_bytes!("../fixtures/cover.png").to_vec();
    let sent = admin
        .upload(
            "/admin/organisation",
            "/admin/organisation/logo",
            logo,
            true,
        )
        .await;
    assert_eq!(sent.status(), 303);
    let home = app.page("/").await;
    assert!(
        home.contains("<img class=\"brand__logo\" src=\"/medias/") && !home.contains("brand__mark"),
        "{home}"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'organisation.logo'")
            .await,
        1
    );
}

async fn gifts_keep_where_they_came_from_and_the_way_to_them_is_counted(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    // A link from the newsletter: its tags reach the form through the campaign page.
    let landing = format!("/campagnes/{SLUG}?utm_source=Newsletter&utm_campaign=noel-2026");
    for _ in 0..2 {
        let page = app.page(&landing).await;
        assert!(
            page.contains("name=\"utm_source\" value=\"newsletter\""),
            "{page}"
        );
    }
    let form = app
        .page(&format!(
            "/campagnes/{SLUG}/don?utm_source=newsletter&utm_campaign=noel-2026"
        ))
        .await;
    assert!(form.contains("name=\"utm_campaign\" value=\"noel-2026\""));
    // Landing on the form from another site: that site is kept (ours is not).
    let from_elsewhere = app
        .client
        .get(app.url(&format!("/campagnes/{SLUG}/don")))
        .header("referer", "https://www.facebook.com/une/publication")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(from_elsewhere.contains("name=\"referrer\" value=\"www.facebook.com\""));

    for (fields, email) in [
        (
            vec![("utm_source", "newsletter"), ("utm_campaign", "noel-2026")],
            "a@example.org",
        ),
        (vec![("referrer", "www.facebook.com")], "b@example.org"),
        (vec![("utm_source", "<script>")], "c@example.org"),
    ] {
        let mut fields = fields;
        fields.push(("email", email));
        fields.push(("amount", "6000"));
        give_by_card(&app, &fields).await;
    }
    type Origin = (String, Option<String>, Option<String>, Option<String>);
    let kept: Vec<Origin> = sqlx::query_as(
        "SELECT email, utm_source, utm_campaign, referrer FROM pledges \
         WHERE email IN ('a@example.org', 'b@example.org', 'c@example.org') ORDER BY email",
    )
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    assert_eq!(
        kept,
        [
            (
                "a@example.org".into(),
                Some("newsletter".into()),
                Some("noel-2026".into()),
                None
            ),
            (
                "b@example.org".into(),
                None,
                None,
                Some("www.facebook.com".into())
            ),
            ("c@example.org".into(), None, None, None),
        ],
        "a tag that is not one is dropped, and the gift goes through"
    );

    // The views are written within a few seconds, without emptying the page cache.
    let mut views = (0, 0);
    for _ in 0..50 {
        views = sqlx::query_as(
            "SELECT CAST(COALESCE(SUM(page_views), 0) AS BIGINT), CAST(COALESCE(SUM(form_views), 0) AS BIGINT) \
             FROM campaign_funnel f JOIN campaigns c ON c.id = f.campaign_id WHERE c.slug = $1",
        )
        .bind(SLUG)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
        if views.0 >= 2 && views.1 >= 5 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        views.0 >= 2 && views.1 >= 5,
        "{views:?}: 2 page views, 2 forms + 3 gifts' forms"
    );

    let viewer = signed_in_staff(&app, "lecture@example.org", Role::Viewer).await;
    let (_, dashboard) = viewer.get("/admin").await;
    let text = words(&dashboard);
    for expected in [
        "newsletter 1 1 100 % 60 €",
        "www.facebook.com 1 1 100 % 60 €",
    ] {
        assert!(text.contains(expected), "{expected}: {text}");
    }
    assert!(text.contains("Le chemin vers le don"), "{text}");
}
