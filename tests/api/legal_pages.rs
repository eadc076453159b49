//! What the law asks the site to say (legal notice, privacy notice, contact), from the
//! organisation's settings, and what every page carries: a way to give, the legal links, the
//! organisation's status.

use obole::domain::staff::Role;

use crate::back_office::{signed_in_staff, words};
use crate::helpers::{Backend, Content, spawn_app};

dual_backend_tests!(
    the_legal_pages_say_what_the_settings_say,
    unfilled_settings_are_named_and_giving_leads_home,
    the_footer_follows_the_status_the_team_saves,
);

async fn the_legal_pages_say_what_the_settings_say(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let notice = words(&app.page("/mentions-legales").await);
    for expected in [
        "Villages d’Enfants",
        "Association ou fondation reconnue d’utilité publique",
        "Direction de la publication Claire Martin",
        "Hébergeur de démonstration, 1 rue du Serveur, 75000 Paris",
        "contact@villages-enfants.example",
        "Stripe Payments Europe",
    ] {
        assert!(notice.contains(expected), "{expected}: {notice}");
    }
    let privacy = words(&app.page("/confidentialite").await);
    for expected in [
        "Qui en est responsable Villages d’Enfants",
        "Obligation légale",
        "Votre consentement",
        "dix ans",
        "Stripe Payments Europe",
        "CNIL",
        "contact@villages-enfants.example",
    ] {
        assert!(privacy.contains(expected), "{expected}: {privacy}");
    }
    let contact = words(&app.page("/contact").await);
    assert!(
        contact.contains("contact@villages-enfants.example"),
        "{contact}"
    );

    // Every page: a way to give, the legal links, the status; the form says what the data
    // is for at the point it is asked.
    let home = app.page("/").await;
    for link in [
        "href=\"/don\"",
        "href=\"/mentions-legales\"",
        "href=\"/confidentialite\"",
        "href=\"/contact\"",
    ] {
        assert!(home.contains(link), "{link}");
    }
    assert!(words(&home).contains("Villages d’Enfants — Association reconnue d’utilité publique"));
    let form = app.page("/campagnes/le-sport-pour-grandir/don").await;
    assert!(form.contains("<a href=\"/confidentialite\">Vos données et vos droits</a>"));
    let give = app.get("/don").await;
    assert_eq!(give.status(), 303);
    let to = give.headers()["location"].to_str().unwrap();
    assert!(
        to.starts_with("/campagnes/") && to.ends_with("/don"),
        "{to}"
    );
    assert_eq!(app.get(to).await.status(), 200);
}

async fn unfilled_settings_are_named_and_giving_leads_home(backend: Backend) {
    let app = spawn_app(backend, Content::Empty).await;
    let notice = words(&app.page("/mentions-legales").await);
    assert!(
        notice.contains("Direction de la publication à renseigner"),
        "{notice}"
    );
    let give = app.get("/don").await;
    assert_eq!(give.status(), 303);
    assert_eq!(give.headers()["location"], "/#campagnes");
}

async fn the_footer_follows_the_status_the_team_saves(backend: Backend) {
    let app = spawn_app(backend, Content::Empty).await;
    assert!(!words(&app.page("/").await).contains("utilité publique"));
    let admin = signed_in_staff(&app, "admin@example.org", Role::Admin).await;
    let fields = [
        ("name", "Les Amis de Kara"),
        ("category", "interet_general"),
        ("contact_email", "bonjour@example.org"),
    ];
    let saved = admin
        .submit("/admin/organisation", "/admin/organisation", &fields)
        .await;
    assert_eq!(saved.status(), 303);
    let home = words(&app.page("/").await);
    assert!(
        home.contains("Œuvre ou organisme d’intérêt général"),
        "at once on the instance that saved: {home}"
    );
    assert!(words(&app.page("/contact").await).contains("bonjour@example.org"));
}
