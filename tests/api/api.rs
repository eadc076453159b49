//! The public JSON API: stable field names, counters as totals, drafts never exposed.

use serde_json::Value;

use crate::helpers::fixtures::{self, Gift};
use crate::helpers::{Backend, Content, spawn_app};

dual_backend_tests!(
    lists_public_campaigns_with_stable_fields,
    filters_by_status_and_rejects_unknown_filters,
    shows_one_campaign_and_404s_as_json,
);

async fn lists_public_campaigns_with_stable_fields(backend: Backend) {
    let app = spawn_app(backend, Content::Empty).await;
    let project = fixtures::insert_project(&app.db, "arpej", "ARPEJ").await;
    let open =
        fixtures::insert_campaign(&app.db, project, "parlement", "published", 1_800_000, 30).await;
    fixtures::insert_campaign(&app.db, project, "secret", "draft", 1_000, 30).await;
    let gift = Gift {
        campaign_id: open,
        email: "awa@example.org",
        first_name: "Awa",
        last_name: "Mensah",
        amount_cents: 5_050,
        show_publicly: false,
    };
    fixtures::give(&app.db, gift).await;

    let response = app.get("/api/v1/campaigns").await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        "*",
        "widgets on other sites may read it"
    );
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let body: Value = response.json().await.unwrap();
    let campaigns = body["campaigns"]
        .as_array()
        .expect("a list under `campaigns`");
    assert_eq!(campaigns.len(), 1, "drafts are not listed");
    let c = &campaigns[0];
    assert_eq!(c["id"], open);
    assert_eq!(c["slug"], "parlement");
    assert_eq!(c["title"], "Campagne parlement");
    assert_eq!(c["project"]["slug"], "arpej");
    assert_eq!(c["project"]["name"], "ARPEJ");
    assert_eq!(c["goal_cents"], 1_800_000);
    assert_eq!(c["raised_cents"], 5_050);
    assert_eq!(c["donors"], 1);
    assert_eq!(c["currency"], "EUR");
    assert_eq!(c["status"], "published");
    assert!(
        c["starts_at"].as_str().unwrap().ends_with('Z'),
        "RFC 3339, UTC"
    );
    assert!(c["ends_at"].is_string());
    assert!(c["url"].as_str().unwrap().ends_with("/campagnes/parlement"));
}

async fn filters_by_status_and_rejects_unknown_filters(backend: Backend) {
    let app = spawn_app(backend, Content::Empty).await;
    let project = fixtures::insert_project(&app.db, "peps", "PEPS").await;
    fixtures::insert_campaign(&app.db, project, "ouverte", "published", 1_000, 30).await;
    fixtures::insert_campaign(&app.db, project, "fermee", "closed", 1_000, -30).await;

    let slugs = |body: Value| -> Vec<String> {
        body["campaigns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["slug"].as_str().unwrap().to_owned())
            .collect()
    };
    let all: Value = app.get("/api/v1/campaigns").await.json().await.unwrap();
    assert_eq!(slugs(all).len(), 2);
    let closed: Value = app
        .get("/api/v1/campaigns?status=closed")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(slugs(closed), vec!["fermee"]);
    let published: Value = app
        .get("/api/v1/campaigns?status=published")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(slugs(published), vec!["ouverte"]);

    for query in ["?status=draft", "?status=", "?status=%FF"] {
        let response = app.get(&format!("/api/v1/campaigns{query}")).await;
        assert_eq!(response.status(), 400, "{query}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["status"], 400);
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("paramètres"),
            "French message"
        );
    }
}

async fn shows_one_campaign_and_404s_as_json(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let response = app.get("/api/v1/campaigns/parlement-des-femmes-kara").await;
    assert_eq!(response.status(), 200);
    let c: Value = response.json().await.unwrap();
    assert_eq!(c["title"], "Le Parlement des femmes de Kara");
    let campaign_id = fixtures::campaign_id(&app.db, "parlement-des-femmes-kara").await;
    let stored = obole::store::counters::campaign(app.db.pool(), campaign_id)
        .await
        .unwrap();
    assert_eq!(c["raised_cents"], stored.raised_cents);
    assert_eq!(c["donors"], stored.donors);

    for path in [
        "/api/v1/campaigns/inconnue",
        "/api/v1/campaigns/MAJUSCULES",
        "/api/v1/nulle-part",
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 404, "{path}");
        let body: Value = response.json().await.expect("JSON error body");
        assert_eq!(body["error"]["status"], 404, "{path}");
    }
}
