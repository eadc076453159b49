//! Page totals come from counters kept with the donations; a recount rebuilds them from the
//! ledger and repairs any drift.

use obole::store::counters::{self, Totals};

use crate::helpers::fixtures::{self, Gift};
use crate::helpers::{Backend, Content, plain, spawn_app};

dual_backend_tests!(
    counters_match_a_full_recount_after_many_donations,
    recount_repairs_drifted_counters,
    recount_rebuilds_drifted_summaries,
);

const DONATIONS: usize = 1_200;

async fn counters_match_a_full_recount_after_many_donations(backend: Backend) {
    let app = spawn_app(backend, Content::Empty).await;
    let project = fixtures::insert_project(&app.db, "peps", "PEPS").await;
    let first =
        fixtures::insert_campaign(&app.db, project, "premiere", "published", 5_000_000, 30).await;
    let second =
        fixtures::insert_campaign(&app.db, project, "seconde", "published", 5_000_000, 30).await;

    // 1,200 gifts from 150 supporters, some giving to both campaigns and several times.
    let mut tx = app.db.begin_write().await.unwrap();
    for n in 0..DONATIONS {
        let email = format!("donateur{}@example.org", n % 150);
        let gift = Gift {
            campaign_id: if n % 3 == 0 { second } else { first },
            email: &email,
            first_name: "Camille",
            last_name: "Martin",
            amount_cents: 500 + (n as i64 * 37) % 20_000,
            show_publicly: n % 2 == 0,
        };
        fixtures::give_in(&mut tx, &app.db, &gift).await;
    }
    tx.commit().await.unwrap();

    let mut conn = app.db.pool().acquire().await.unwrap();
    let mut total_donations = 0;
    for campaign in [first, second] {
        let stored = counters::campaign(app.db.pool(), campaign).await.unwrap();
        let recounted = counters::campaign_from_ledger(&mut conn, campaign)
            .await
            .unwrap();
        assert_eq!(stored, recounted, "campaign {campaign}");
        assert!(
            stored.donors < stored.donations,
            "repeat donors are counted once"
        );
        total_donations += stored.donations;
    }
    assert_eq!(total_donations, DONATIONS as i64);
    let organisation = counters::organisation(app.db.pool()).await.unwrap();
    assert_eq!(
        organisation,
        counters::organisation_from_ledger(&mut conn).await.unwrap()
    );
    assert_eq!(organisation.donors, 150);
    drop(conn);

    // The page shows exactly what the counters hold.
    let stored = counters::campaign(app.db.pool(), first).await.unwrap();
    let html = plain(&app.page("/campagnes/premiere").await);
    let raised = plain(&obole::domain::money::format_money(
        stored.raised_cents,
        obole::domain::money::Currency::EUR,
    ));
    assert!(
        html.contains(&format!("<strong>{raised}</strong>")),
        "page shows {raised}"
    );
    assert!(html.contains(&format!("<dd>{}</dd>", stored.donors)));

    let report = counters::recount(&app.db).await.unwrap();
    assert!(report.all_exact(), "nothing drifted");
}

async fn recount_repairs_drifted_counters(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let campaign = fixtures::campaign_id(&app.db, "le-sport-pour-grandir").await;
    let before = counters::campaign(app.db.pool(), campaign).await.unwrap();
    let organisation_before = counters::organisation(app.db.pool()).await.unwrap();

    // Drift: the campaign's shards replaced by one wrong row, the organisation's donations zeroed.
    let drifted = Totals {
        raised_cents: 1,
        donors: 999,
        donations: before.donations,
    };
    let mut conn = app.db.pool().acquire().await.unwrap();
    counters::replace_campaign(&mut conn, campaign, drifted, 0)
        .await
        .unwrap();
    drop(conn);
    sqlx::query("UPDATE organisation_counters SET donations = 0")
        .execute(app.db.pool())
        .await
        .unwrap();
    assert_eq!(
        counters::campaign(app.db.pool(), campaign).await.unwrap(),
        Totals {
            raised_cents: 1,
            donors: 999,
            donations: before.donations
        }
    );

    let report = counters::recount(&app.db).await.unwrap();
    assert_eq!(report.campaigns_checked, 4);
    assert_eq!(
        report.campaigns_repaired,
        vec!["le-sport-pour-grandir".to_owned()]
    );
    assert!(report.organisation_repaired);
    assert_eq!(
        counters::campaign(app.db.pool(), campaign).await.unwrap(),
        before
    );
    assert_eq!(
        counters::organisation(app.db.pool()).await.unwrap(),
        organisation_before
    );

    let again = counters::recount(&app.db).await.unwrap();
    assert!(again.all_exact());
}

async fn recount_rebuilds_drifted_summaries(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let days = "SELECT CAST(SUM(kept_cents) AS BIGINT) FROM donation_days";
    let years = "SELECT CAST(SUM(kept_cents) AS BIGINT) FROM supporter_years";
    let (raised, kept_by_day, kept_by_year) = (
        counters::organisation(app.db.pool())
            .await
            .unwrap()
            .raised_cents,
        app.count(days).await,
        app.count(years).await,
    );
    assert!(raised > 0);
    assert_eq!(
        (kept_by_day, kept_by_year),
        (raised, raised),
        "kept with the counters"
    );

    // Drift: a day's row loses a euro, a supporter's year is gone.
    sqlx::query(
        "UPDATE donation_days SET kept_cents = kept_cents - 100 \
         WHERE day * 100 + recurring * 10 + shard = \
             (SELECT MAX(day * 100 + recurring * 10 + shard) FROM donation_days)",
    )
    .execute(app.db.pool())
    .await
    .unwrap();
    sqlx::query(
        "DELETE FROM supporter_years WHERE supporter_id = (SELECT MIN(supporter_id) FROM supporter_years)",
    )
    .execute(app.db.pool())
    .await
    .unwrap();
    assert_eq!(app.count(days).await, raised - 100);
    assert!(app.count(years).await < raised);

    let report = counters::recount(&app.db).await.unwrap();
    assert!(report.campaigns_repaired.is_empty() && !report.organisation_repaired);
    assert!(report.summaries_repaired.days && report.summaries_repaired.supporter_years);
    assert_eq!(
        (app.count(days).await, app.count(years).await),
        (raised, raised)
    );
    assert!(counters::recount(&app.db).await.unwrap().all_exact());
}
