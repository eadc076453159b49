//! The campaign page's public supporters at scale: the partial index `donations_public_recent`
//! (migration 0005) serves the list, and the list stays exactly the latest gifts shown
//! publicly, whatever surrounds them in the ledger.

use obole::db::Db;
use obole::domain::dates::DAY;
use obole::store::campaigns::RECENT_PUBLIC_SUPPORTERS;

use crate::helpers::fixtures::{self, Gift};
use crate::helpers::{Backend, Content, TestApp, spawn_app};

dual_backend_tests!(
    campaign_page_lists_the_latest_public_supporters_of_a_large_ledger,
    public_supporters_and_instalments_are_read_through_their_indexes,
);

/// As many entries as the campaign page shows (`RECENT_SUPPORTERS` in web/public.rs).
const SHOWN: usize = 12;
const GIFTS: i64 = 3_000;

/// `GIFTS` gifts to `campaign` (every 40th shown publicly, as `Public{i} T.`), then, by plain
/// SQL, dates scattered out of id order with ties, some public gifts refunded or failed and
/// some without a public name; and a few newer public gifts to `other`, which must not show.
async fn seed(db: &Db, campaign: i64, other: i64) {
    let mut tx = db.begin_write().await.expect("begin");
    for i in 0..GIFTS {
        let first_name = format!("Public{i}");
        let email = format!("donateur{}@example.org", i % 300);
        let gift = Gift {
            campaign_id: campaign,
            email: &email,
            first_name: &first_name,
            last_name: "Testeur",
            amount_cents: 1_000 + i,
            show_publicly: i % 40 == 0,
        };
        fixtures::give_in(&mut tx, db, &gift).await;
    }
    for i in 0..5 {
        let first_name = format!("Ailleurs{i}");
        let gift = Gift {
            campaign_id: other,
            email: "ailleurs@example.org",
            first_name: &first_name,
            last_name: "Testeur",
            amount_cents: 5_000,
            show_publicly: true,
        };
        fixtures::give_in(&mut tx, db, &gift).await;
    }
    // 600 distinct instants for 3,000 gifts: ties, which the page breaks by id.
    sqlx::query("UPDATE donations SET donated_at = $1 + ((id * 7919) % 600) * 3600")
        .bind(1_700_000_000_i64)
        .execute(&mut *tx)
        .await
        .expect("dates");
    sqlx::query("UPDATE donations SET donated_at = $1 WHERE campaign_id = $2")
        .bind(1_700_000_000_i64 + 700 * DAY)
        .bind(other)
        .execute(&mut *tx)
        .await
        .expect("other campaign's dates");
    for (sql, what) in [
        (
            "UPDATE donations SET status = 'refunded', refunded_cents = amount_cents \
             WHERE show_publicly = 1 AND id % 3 = 0",
            "refunds",
        ),
        (
            "UPDATE donations SET status = 'failed' WHERE show_publicly = 1 AND id % 7 = 1",
            "failures",
        ),
        (
            "UPDATE donations SET public_name = NULL WHERE show_publicly = 1 AND id % 11 = 2",
            "names withdrawn",
        ),
    ] {
        sqlx::query(sql).execute(&mut *tx).await.expect(what);
    }
    tx.commit().await.expect("commit");
}

async fn seeded_app(backend: Backend) -> (TestApp, i64) {
    let app = spawn_app(backend, Content::Empty).await;
    let project = fixtures::insert_project(&app.db, "sport", "PEPS").await;
    let campaign =
        fixtures::insert_campaign(&app.db, project, "grande-campagne", "published", 10_000, 30)
            .await;
    let other =
        fixtures::insert_campaign(&app.db, project, "autre-campagne", "published", 10_000, 30)
            .await;
    seed(&app.db, campaign, other).await;
    (app, campaign)
}

/// The names in the page's supporters panel, in the page's order.
fn supporters_on_page(html: &str) -> Vec<String> {
    let Some(start) = html.find("<ul class=\"supporters\">") else {
        return Vec::new();
    };
    let list = &html[start..];
    let list = &list[..list.find("</ul>").expect("the list ends")];
    list.split("<strong>")
        .skip(1)
        .map(|item| item[..item.find("</strong>").expect("a name")].to_owned())
        .collect()
}

async fn campaign_page_lists_the_latest_public_supporters_of_a_large_ledger(backend: Backend) {
    let (app, campaign) = seeded_app(backend).await;

    // The campaign's whole ledger, filtered and ordered here rather than by the database.
    let mut rows: Vec<(i64, i64, String, i64, Option<String>)> = sqlx::query_as(
        "SELECT id, donated_at, status, show_publicly, public_name FROM donations \
         WHERE campaign_id = $1",
    )
    .bind(campaign)
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    assert_eq!(rows.len(), GIFTS as usize);
    rows.sort_by_key(|&(id, donated_at, ..)| std::cmp::Reverse((donated_at, id)));
    let expected: Vec<String> = rows
        .iter()
        .filter(|(_, _, status, public, name)| status == "paid" && *public == 1 && name.is_some())
        .filter_map(|(_, _, _, _, name)| name.clone())
        .take(SHOWN)
        .collect();
    assert_eq!(expected.len(), SHOWN, "enough public gifts for a full list");
    let public_before_last_shown = rows
        .iter()
        .take_while(|(_, _, _, _, name)| name.as_ref() != expected.last())
        .filter(|(_, _, _, public, _)| *public == 1)
        .count();
    assert!(
        public_before_last_shown > SHOWN,
        "the seed puts refunded, failed or unnamed public gifts among the latest"
    );
    let tied = rows
        .windows(2)
        .take_while(|w| w[0].4.as_ref() != expected.last())
        .any(|w| w[0].1 == w[1].1);
    assert!(
        tied,
        "the seed has gifts at the same instant among the latest"
    );

    let html = app.page("/campagnes/grande-campagne").await;
    assert_eq!(supporters_on_page(&html), expected);
    assert!(
        !html.contains("Ailleurs"),
        "another campaign's newer supporters are not shown"
    );
}

/// The plan of each query, as text: `EXPLAIN QUERY PLAN` rows on SQLite, `EXPLAIN` lines on
/// PostgreSQL (with sequential scans discouraged, as a few thousand rows would otherwise be
/// read whole: at a million rows the planner picks the index by itself).
async fn plan(app: &TestApp, backend: Backend, sql: &str, binds: &[i64]) -> String {
    let mut conn = app.db.pool().acquire().await.unwrap();
    let lines: Vec<String> = match backend {
        Backend::Sqlite => {
            let explain = format!("EXPLAIN QUERY PLAN {sql}");
            let mut query = sqlx::query_as::<_, (i64, i64, i64, String)>(&explain);
            for bind in binds {
                query = query.bind(*bind);
            }
            let rows = query.fetch_all(&mut *conn).await.unwrap();
            rows.into_iter().map(|row| row.3).collect()
        }
        Backend::Postgres => {
            sqlx::query("SET enable_seqscan = off")
                .execute(&mut *conn)
                .await
                .unwrap();
            let explain = format!("EXPLAIN {sql}");
            let mut query = sqlx::query_scalar::<_, String>(&explain);
            for bind in binds {
                query = query.bind(*bind);
            }
            let lines = query.fetch_all(&mut *conn).await.unwrap();
            sqlx::query("RESET enable_seqscan")
                .execute(&mut *conn)
                .await
                .unwrap();
            lines
        }
    };
    lines.join("\n")
}

async fn public_supporters_and_instalments_are_read_through_their_indexes(backend: Backend) {
    let (app, campaign) = seeded_app(backend).await;

    let supporters = plan(&app, backend, RECENT_PUBLIC_SUPPORTERS, &[campaign, 12]).await;
    assert!(
        supporters.contains("donations_public_recent"),
        "the public supporters come from the partial index:\n{supporters}"
    );
    assert!(
        !supporters.to_ascii_lowercase().contains("sort") && !supporters.contains("TEMP B-TREE"),
        "in the index's order, without sorting:\n{supporters}"
    );

    let instalments = plan(
        &app,
        backend,
        "SELECT COUNT(*) FROM donations WHERE pledge_id = $1 AND status IN ('paid', 'refunded')",
        &[1],
    )
    .await;
    assert!(
        instalments.contains("donations_pledge"),
        "a pledge's instalments come from its index:\n{instalments}"
    );
}
