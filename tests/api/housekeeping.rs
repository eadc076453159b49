//! Housekeeping (issue 15): each sweep removes or closes exactly what its rule says and
//! nothing else, and the job worker schedules it, once an hour whatever the workers.

use obole::domain::dates;
use obole::jobs::housekeeping::{self, Retention, Swept};

use obole::config::Config;

use crate::helpers::{Backend, Content, TestApp, TestDatabase, spawn_app, spawn_with, test_config};

dual_backend_tests!(
    a_sweep_removes_exactly_what_its_rules_say,
    the_worker_schedules_one_sweep_an_hour,
);

const SLUG: &str = "le-sport-pour-grandir";
const DAY: i64 = 24 * 3600;
const RETENTION: Retention = Retention {
    jobs_days: 60,
    sign_in_days: 7,
};

async fn a_sweep_removes_exactly_what_its_rules_say(backend: Backend) {
    let app = spawn_app(backend, Content::Demo).await;
    let now = dates::now();

    // Sessions: a visitor's, live, and one past its expiry.
    assert_eq!(app.submit_gift(SLUG, &[]).await.status(), 303);
    let live_sessions = sessions(&app, backend).await;
    assert_eq!(live_sessions, 1, "the donor's browser has a session");
    let expired_session = match backend {
        Backend::Sqlite => {
            "INSERT INTO tower_sessions (id, data, expiry_date) \
             VALUES ('expiree', x'00', '2000-01-01T00:00:00Z')"
        }
        Backend::Postgres => {
            "INSERT INTO tower_sessions.session (id, data, expiry_date) \
             VALUES ('expiree', '\\x00', '2000-01-01T00:00:00Z')"
        }
    };
    exec(&app, expired_session).await;

    // Links: expired 8 days ago (gone), 6 days ago (kept), still valid (kept).
    let supporter = app.count("SELECT MIN(id) FROM supporters").await;
    for (hash, expires_at) in [
        ("h-8j", now - 8 * DAY),
        ("h-6j", now - 6 * DAY),
        ("h+1h", now + 3600),
    ] {
        exec(
            &app,
            &format!(
                "INSERT INTO sign_in_tokens (supporter_id, token_hash, created_at, expires_at) \
                 VALUES ({supporter}, '{hash}', {}, {expires_at})",
                expires_at - 3600
            ),
        )
        .await;
    }

    // Pledges: a checkout opened 26 hours ago and one 23 hours ago, both left unpaid.
    let abandoned = open_checkout(&app, "abandonne@example.org").await;
    let recent = open_checkout(&app, "recent@example.org").await;
    exec(
        &app,
        &format!(
            "UPDATE pledges SET created_at = {} WHERE stripe_checkout_session_id = '{}'",
            now - 26 * 3600,
            abandoned.0
        ),
    )
    .await;
    exec(
        &app,
        &format!(
            "UPDATE pledges SET created_at = {} WHERE stripe_checkout_session_id = '{}'",
            now - 23 * 3600,
            recent.0
        ),
    )
    .await;
    let open_before = app
        .count("SELECT COUNT(*) FROM pledges WHERE status = 'open'")
        .await;

    // Jobs: done 61 days ago (gone), done 59 days ago, dead 100 days ago, pending (kept).
    for (done_at, dead_at) in [
        (Some(now - 61 * DAY), None),
        (Some(now - 59 * DAY), None),
        (None, Some(now - 100 * DAY)),
        (None, None),
    ] {
        let sql = format!(
            "INSERT INTO jobs (kind, payload, run_at, max_attempts, created_at, done_at, dead_at) \
             VALUES ('email', '{{}}', {}, 8, {}, {}, {})",
            now + 3600,
            now - 200 * DAY,
            done_at.map_or("NULL".to_owned(), |t| t.to_string()),
            dead_at.map_or("NULL".to_owned(), |t| t.to_string()),
        );
        exec(&app, &sql).await;
    }
    let jobs_before = app.count("SELECT COUNT(*) FROM jobs").await;

    let swept = housekeeping::sweep(&app.db, RETENTION, now).await.unwrap();
    assert_eq!(
        swept,
        Swept {
            sign_in_links: 1,
            pledges_expired: 1,
            jobs: 1,
        }
    );
    assert_eq!(
        sessions(&app, backend).await,
        live_sessions,
        "the live session stays"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM sign_in_tokens WHERE token_hash = 'h-8j'")
            .await,
        0
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM sign_in_tokens").await, 2);
    assert_eq!(pledge_status(&app, &abandoned.0).await, "expired");
    assert_eq!(pledge_status(&app, &recent.0).await, "open");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM pledges WHERE status = 'open'")
            .await,
        open_before - 1
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM jobs").await,
        jobs_before - 1
    );
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM jobs WHERE done_at = {}",
            now - 61 * DAY
        ))
        .await,
        0
    );

    // Nothing left to sweep.
    assert_eq!(
        housekeeping::sweep(&app.db, RETENTION, now).await.unwrap(),
        Swept::default()
    );

    // The abandoned checkout paid after all (a late donor, or Stripe's event late): the
    // pledge still settles as completed, and the gift counts.
    let (session_id, checkout_url) = abandoned;
    let paid = app
        .client
        .post(&checkout_url)
        .form(&[("outcome", "card")])
        .send()
        .await
        .unwrap();
    assert!(paid.status().is_redirection() || paid.status().is_success());
    app.settle_webhooks().await;
    assert_eq!(pledge_status(&app, &session_id).await, "completed");
    assert_eq!(app.donations_of("abandonne@example.org").await.len(), 1);
}

async fn the_worker_schedules_one_sweep_an_hour(backend: Backend) {
    let database = TestDatabase::create(backend).await;
    let config = Config {
        housekeeping: true,
        ..test_config(database.url(), Content::Empty)
    };
    let app = spawn_with(database, config).await;
    let until = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while app
        .count("SELECT COUNT(*) FROM jobs WHERE kind = 'housekeeping'")
        .await
        == 0
    {
        assert!(std::time::Instant::now() < until, "a sweep is scheduled");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let (run_at, key): (i64, String) =
        sqlx::query_as("SELECT run_at, dedupe_key FROM jobs WHERE kind = 'housekeeping'")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    let now = dates::now();
    assert!(
        run_at > now && run_at <= now + 3600,
        "within the hour: {run_at} vs {now}"
    );
    assert_eq!(key, format!("housekeeping:{}", (run_at - 15 * 60) / 3600));
}

/// Opens a checkout for a gift by `email` and leaves it: its Checkout Session id and URL.
async fn open_checkout(app: &TestApp, email: &str) -> (String, String) {
    let submitted = app.submit_gift(SLUG, &[("email", email)]).await;
    assert_eq!(submitted.status(), 303);
    let url = submitted.headers()["location"].to_str().unwrap().to_owned();
    let id = url.rsplit('/').next().unwrap().to_owned();
    (id, url)
}

async fn pledge_status(app: &TestApp, session_id: &str) -> String {
    sqlx::query_scalar("SELECT status FROM pledges WHERE stripe_checkout_session_id = $1")
        .bind(session_id)
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

async fn sessions(app: &TestApp, backend: Backend) -> i64 {
    app.count(match backend {
        Backend::Sqlite => "SELECT COUNT(*) FROM tower_sessions",
        Backend::Postgres => "SELECT COUNT(*) FROM tower_sessions.session",
    })
    .await
}

async fn exec(app: &TestApp, sql: &str) {
    sqlx::query(sql).execute(app.db.pool()).await.unwrap();
}
