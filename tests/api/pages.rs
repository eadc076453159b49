//! The public pages: home, campaign, project, as a visitor sees them.

use obole::domain::frequency::Frequency;
use obole::store::campaigns::{self, NewSuggestedAmount, TierOf};
use obole::store::counters;
use obole::store::news::{self, NewNewsPost};

use crate::helpers::fixtures::{self, Gift};
use crate::helpers::{Backend, Content, plain, spawn_app};

dual_backend_tests!(
    home_shows_published_campaigns_and_organisation_totals,
    campaign_page_shows_story_progress_tiers_supporters_and_news,
    project_page_lists_its_campaigns_and_news,
    drafts_and_unknown_slugs_are_styled_404s,
    closed_campaigns_say_so_and_offer_no_gift_button,
);

async fn home_shows_published_campaigns_and_organisation_totals(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let html = plain(&app.page("/").await);

    for title in [
        "Le sport pour grandir",
        "Le Parlement des femmes de Kara",
        "Des communautés qui protègent",
        "Garder les familles unies",
    ] {
        assert!(html.contains(title), "home lists {title}");
    }
    assert!(html.contains("Mode démonstration — aucun paiement réel"));

    let totals = counters::organisation(app.db.pool()).await.unwrap();
    assert!(
        totals.raised_cents > 0 && totals.donors > 0,
        "demo content has donations"
    );
    let raised = plain(&obole::domain::money::format_money(
        totals.raised_cents,
        obole::domain::money::Currency::EUR,
    ));
    assert!(
        html.contains(&raised),
        "home shows the organisation total {raised}"
    );
    assert!(
        html.contains("enfants accompagnés pendant un an"),
        "impact reach is shown"
    );
    assert!(html.contains("href=\"/campagnes/le-sport-pour-grandir\""));
}

async fn campaign_page_shows_story_progress_tiers_supporters_and_news(backend: Backend) {
    let app = spawn_app(backend, Content::Empty).await;
    let project = fixtures::insert_project(&app.db, "sport", "PEPS").await;
    let campaign = fixtures::insert_campaign(
        &app.db,
        project,
        "courir-ensemble",
        "published",
        100_000,
        12,
    )
    .await;
    let mut conn = app.db.pool().acquire().await.unwrap();
    let tier = "un mois de sport pour un enfant";
    campaigns::insert_impact_tier(&mut conn, TierOf::Campaign(campaign), 2500, tier, 0, 0)
        .await
        .unwrap();
    for (slug, title, body, published_at) in [
        ("tournoi", "Premier tournoi gagné", "Quelle fierté.", 1),
        (
            "futur",
            "Nouvelle programmée",
            "Pas encore.",
            99_999_999_999,
        ),
    ] {
        let post = NewNewsPost {
            project_id: project,
            campaign_id: Some(campaign),
            slug,
            title,
            body,
            published_at,
        };
        news::insert(&mut conn, &post, 1).await.unwrap();
    }
    for (frequency, amount_cents) in [(Frequency::Once, 5_000), (Frequency::Monthly, 1_500)] {
        let amount = NewSuggestedAmount {
            frequency,
            amount_cents,
            label: None,
            position: 0,
        };
        campaigns::insert_suggested_amount(&mut conn, campaign, &amount, 1)
            .await
            .unwrap();
    }
    drop(conn);
    let shown = Gift {
        campaign_id: campaign,
        email: "ophelie@example.org",
        first_name: "Ophélie",
        last_name: "Wagner",
        amount_cents: 12_345,
        show_publicly: true,
    };
    fixtures::give(&app.db, shown).await;
    let hidden = Gift {
        campaign_id: campaign,
        email: "zephyrin@example.org",
        first_name: "Zéphyrin",
        last_name: "Quenot",
        amount_cents: 20_000,
        show_publicly: false,
    };
    fixtures::give(&app.db, hidden).await;

    let html = plain(&app.page("/campagnes/courir-ensemble").await);
    assert!(html.contains("<h1>Campagne courir-ensemble</h1>"));
    assert!(html.contains("<p>Première partie.</p>") && html.contains("<p>Seconde partie.</p>"));
    assert!(html.contains("PEPS"), "names its project");
    assert!(html.contains("323,45 €"), "raised from the counters");
    assert!(html.contains("1 000 €"), "goal");
    assert!(
        html.contains("<strong>32 %</strong>"),
        "percentage, floored"
    );
    assert!(html.contains("<dd>2</dd>"), "two donors");
    assert!(html.contains("Plus que 12 jours"));
    assert!(html.contains("<strong>25 €</strong> = un mois de sport pour un enfant"));
    assert!(html.contains("Ophélie W."), "a donor who agreed is shown");
    assert!(
        !html.contains("Zéphyrin"),
        "a donor who did not agree is not shown"
    );
    assert!(
        !html.contains("12 345") && !html.contains("123,45"),
        "amounts of named donors stay private"
    );
    assert!(html.contains("Premier tournoi gagné"));
    assert!(
        !html.contains("Nouvelle programmée"),
        "future news stays hidden"
    );
    assert!(
        html.contains("action=\"/campagnes/courir-ensemble/don\""),
        "call to action"
    );
    // The gift starts here: the form's suggestions, a group per frequency (the page shows
    // the group of the frequency ticked), sent as the form's `montant`, in cents.
    for (frequency, amount) in [("once", "5000"), ("monthly", "1500")] {
        let group = &html[html
            .find(&format!("data-frequency=\"{frequency}\""))
            .expect(frequency)..];
        assert!(
            group.contains(&format!("name=\"montant\" value=\"{amount}\"")),
            "{frequency}: {group}"
        );
    }
    assert!(
        !html.contains("data-frequency=\"yearly\""),
        "no empty group"
    );
}

async fn project_page_lists_its_campaigns_and_news(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let html = plain(&app.page("/projets/arpej").await);
    assert!(html.contains("Approche Régionale pour la Protection de l’Enfance et de la Jeunesse"));
    assert!(html.contains("Le Parlement des femmes de Kara"));
    assert!(html.contains("Première session plénière de l’année à Kara"));
    assert!(
        !html.contains("Le sport pour grandir"),
        "other projects' campaigns are not listed"
    );
}

async fn drafts_and_unknown_slugs_are_styled_404s(backend: Backend) {
    let app = spawn_app(backend, Content::Empty).await;
    let project = fixtures::insert_project(&app.db, "peps", "PEPS").await;
    fixtures::insert_campaign(&app.db, project, "brouillon", "draft", 10_000, 30).await;

    for path in [
        "/campagnes/brouillon",
        "/campagnes/inconnue",
        "/campagnes/Pas_Un_Slug",
        "/projets/inconnu",
        "/nulle-part",
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 404, "{path}");
        assert_eq!(
            response.headers()["content-type"],
            "text/html; charset=utf-8",
            "{path}"
        );
        let html = response.text().await.unwrap();
        assert!(
            html.contains("Page introuvable"),
            "{path} renders the French 404 page"
        );
        assert!(html.contains("/static/app.css"), "{path} is styled");
    }
}

async fn closed_campaigns_say_so_and_offer_no_gift_button(backend: Backend) {
    let app = spawn_app(backend, Content::Empty).await;
    let project = fixtures::insert_project(&app.db, "peps", "PEPS").await;
    fixtures::insert_campaign(&app.db, project, "terminee", "closed", 10_000, -3).await;
    fixtures::insert_campaign(&app.db, project, "expiree", "published", 10_000, -1).await;

    for slug in ["terminee", "expiree"] {
        let html = app.page(&format!("/campagnes/{slug}")).await;
        assert!(html.contains("Cette campagne est terminée"), "{slug}");
        assert!(
            !html.contains(&format!("/campagnes/{slug}/don")),
            "{slug} offers no gift button"
        );
    }
    let home = app.page("/").await;
    assert!(
        !home.contains("Campagne terminee"),
        "closed campaigns leave the home page"
    );
    assert!(
        !home.contains("Campagne expiree"),
        "so do campaigns past their end date"
    );
}
