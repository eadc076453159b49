//! Emails through the outbox: written with the webhook that causes them, sent by the job
//! worker over a real SMTP conversation (lettre against the tests' SMTP server), once, through
//! outages, restarts and concurrent workers.

use std::collections::HashSet;

use mail_parser::MessageParser;
use obole::config::Config;
use obole::db::Db;
use obole::jobs::email::{Mailer, Message};
use obole::jobs::worker::Worker;
use obole::jobs::{self, Job, JobContext};
use obole::links::LinkKey;
use obole::startup::payments_beside_serve;
use obole::store::jobs as job_rows;
use secrecy::SecretString;

use crate::helpers::fixtures::{self, Gift};
use crate::helpers::{Backend, Content, TestApp, TestDatabase, plain, spawn_with, test_config};
use crate::smtp_sink::{Received, SmtpSink};

dual_backend_tests!(
    a_confirmed_gift_is_thanked_once_in_french_with_both_parts,
    a_first_instalment_is_welcomed_and_later_ones_are_not,
    an_smtp_outage_and_a_restart_lose_nothing_and_send_once,
    a_refused_message_ends_dead_and_the_others_keep_flowing,
    names_cannot_inject_headers_or_html,
    workers_side_by_side_never_send_one_message_twice,
    an_idle_worker_writes_nothing,
);

pub(crate) const SLUG: &str = "le-sport-pour-grandir";

/// Obole in demonstration mode, sending through `sink`.
pub(crate) async fn spawn_sending_to(backend: Backend, sink: &SmtpSink) -> TestApp {
    let database = TestDatabase::create(backend).await;
    let config = Config {
        smtp_url: Some(SecretString::from(format!("{}?tls=none", sink.url()))),
        ..test_config(database.url(), Content::Demo)
    };
    spawn_with(database, config).await
}

/// A gift by card on the form and the sandbox's checkout, its webhooks applied.
pub(crate) async fn give_by_card(app: &TestApp, fields: &[(&str, &str)]) {
    let (_, paid) = app.give(SLUG, fields, "card").await;
    assert_eq!(paid.status(), 303);
    app.settle_webhooks().await;
}

/// The text and HTML parts, and the decoded subject.
pub(crate) fn read(message: &Received) -> (String, String, String) {
    let parsed = MessageParser::default()
        .parse(message.data.as_bytes())
        .expect("a MIME message");
    (
        parsed.subject().unwrap_or_default().to_owned(),
        parsed.body_text(0).expect("a text part").into_owned(),
        parsed.body_html(0).expect("an HTML part").into_owned(),
    )
}

/// (kind, attempts, last error, done, dead) of a job.
type JobState = (String, i64, Option<String>, bool, bool);

/// Every job's state, oldest first.
async fn job_states(db: &Db) -> Vec<JobState> {
    type Row = (String, i64, Option<String>, Option<i64>, Option<i64>);
    let rows: Vec<Row> =
        sqlx::query_as("SELECT kind, attempts, last_error, done_at, dead_at FROM jobs ORDER BY id")
            .fetch_all(db.pool())
            .await
            .expect("jobs");
    rows.into_iter()
        .map(|(kind, attempts, error, done, dead)| {
            (kind, attempts, error, done.is_some(), dead.is_some())
        })
        .collect()
}

async fn a_confirmed_gift_is_thanked_once_in_french_with_both_parts(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = spawn_sending_to(backend, &sink).await;
    give_by_card(&app, &[("amount", "6000"), ("first_name", "Hélène")]).await;

    let received = sink.wait_for(1).await;
    let message = &received[0];
    assert_eq!(message.recipients, ["marie.dupont@example.org"]);
    assert!(message.mail_from.contains("dons@villages-enfants.example"));
    // Both parts, and the tax receipt (the demonstration's organisation is complete).
    let content_type = message.header("content-type").unwrap();
    assert!(
        content_type.starts_with("multipart/mixed"),
        "{content_type}"
    );
    assert!(message.data.contains("multipart/alternative"));
    assert!(message.data.contains("application/pdf"));
    assert!(
        message
            .header("message-id")
            .unwrap()
            .starts_with("<obole.job.")
    );

    let (subject, text, html) = read(message);
    assert_eq!(subject, "Merci pour votre don à « Le sport pour grandir »");
    for part in [plain(&text), plain(&html)] {
        assert!(part.contains("Bonjour Hélène,"), "{part}");
        assert!(part.contains("60 €"), "{part}");
        // 66 % of 60 € comes off the tax: it costs 20,40 €.
        assert!(part.contains("20,40 €"), "{part}");
        assert!(part.contains("/mon-espace"), "{part}");
        assert!(
            part.contains("12 rue de l’Espérance, 75011 Paris"),
            "{part}"
        );
        assert!(part.contains("Villages d’Enfants"), "{part}");
    }
    assert!(
        text.contains("Grâce à vous : "),
        "the impact tier reached: {text}"
    );

    // The same webhook again, and the worker's next rounds: still one message.
    let event = app
        .sandbox()
        .events()
        .into_iter()
        .find(|e| e["type"] == "checkout.session.completed")
        .expect("the checkout's event");
    assert_eq!(app.deliver(&event).await, 200);
    tokio::time::sleep(std::time::Duration::from_millis(1_200)).await;
    assert_eq!(sink.received().len(), 1);
    let states = job_states(&app.db).await;
    assert_eq!(states.len(), 1, "{states:?}");
    assert_eq!(states[0].0, "email");
    assert!(states[0].3, "done");
}

async fn a_first_instalment_is_welcomed_and_later_ones_are_not(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = spawn_sending_to(backend, &sink).await;
    give_by_card(&app, &[("frequency", "monthly"), ("amount", "2000")]).await;
    let received = sink.wait_for(1).await;
    let (subject, text, _) = read(&received[0]);
    assert_eq!(
        subject,
        "Bienvenue parmi les donateurs réguliers de « Le sport pour grandir »"
    );
    assert!(plain(&text).contains("20 € par mois"), "{text}");

    // Two renewals later, nothing more.
    for _ in 0..2 {
        app.sandbox().advance_clock(31 * 86_400).await;
        app.settle_webhooks().await;
    }
    let instalments = app.donations_of("marie.dupont@example.org").await;
    assert_eq!(instalments.len(), 3, "{instalments:?}");
    tokio::time::sleep(std::time::Duration::from_millis(1_200)).await;
    assert_eq!(sink.received().len(), 1);
}

async fn an_smtp_outage_and_a_restart_lose_nothing_and_send_once(backend: Backend) {
    let mut sink = SmtpSink::start().await;
    let port = sink.port;
    let mut app = spawn_sending_to(backend, &sink).await;
    sink.stop();
    give_by_card(&app, &[]).await;

    // The first attempt fails: the job waits for its retry, with the error.
    let failed = wait_until(&app.db, |states| {
        states.first().is_some_and(|s| s.1 == 1 && s.2.is_some())
    })
    .await;
    assert!(
        !failed[0].3 && !failed[0].4,
        "neither done nor dead: {failed:?}"
    );
    assert!(
        failed[0].2.as_deref().unwrap().contains("SMTP"),
        "{failed:?}"
    );

    // Obole restarts during the outage; the server comes back; the retry comes due.
    app.restart().await;
    let sink = SmtpSink::start_on(port).await;
    sqlx::query("UPDATE jobs SET run_at = 0")
        .execute(app.db.pool())
        .await
        .unwrap();
    let received = sink.wait_for(1).await;
    assert_eq!(received[0].recipients, ["marie.dupont@example.org"]);
    let done = wait_until(&app.db, |states| states[0].3).await;
    assert_eq!(done[0].1, 2, "sent at the second attempt: {done:?}");
    tokio::time::sleep(std::time::Duration::from_millis(1_200)).await;
    assert_eq!(sink.received().len(), 1);
}

async fn a_refused_message_ends_dead_and_the_others_keep_flowing(backend: Backend) {
    let sink = SmtpSink::start().await;
    sink.refuse("refuse@example.org");
    let app = spawn_sending_to(backend, &sink).await;
    for email in ["refuse@example.org", "accepte@example.org"] {
        give_by_card(&app, &[("email", email)]).await;
    }
    let received = sink.wait_for(1).await;
    assert_eq!(received[0].recipients, ["accepte@example.org"]);
    let states = wait_until(&app.db, |states| states.iter().all(|s| s.3 || s.4)).await;
    let dead: Vec<_> = states.iter().filter(|s| s.4).collect();
    assert_eq!(dead.len(), 1, "{states:?}");
    assert_eq!(dead[0].1, 1, "a permanent refusal is not retried");
    assert!(dead[0].2.as_deref().unwrap().contains("550"), "{dead:?}");
    // As `obole jobs` lists them.
    let listed = job_rows::dead(app.db.pool(), 10).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].kind, "email");
}

async fn names_cannot_inject_headers_or_html(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = spawn_sending_to(backend, &sink).await;
    let campaign = fixtures::campaign_id(&app.db, SLUG).await;
    // Names as a database might hold them, whatever the form lets through.
    let donation = fixtures::give(
        &app.db,
        Gift {
            campaign_id: campaign,
            email: "zoe@example.org",
            first_name: "<b>Zoé</b>\r\nBcc: pirate@example.org",
            last_name: "Lefèvre\r\nSubject: gagné",
            amount_cents: 2_500,
            show_publicly: false,
        },
    )
    .await;
    enqueue(
        &app.db,
        Message::ThankYou {
            donation_id: donation,
        },
    )
    .await;
    let received = sink.wait_for(1).await;
    let message = &received[0];
    assert_eq!(message.recipients, ["zoe@example.org"]);
    let head = message.data.split("\r\n\r\n").next().unwrap();
    assert!(!head.to_ascii_lowercase().contains("\r\nbcc:"), "{head}");
    assert_eq!(
        head.matches("\r\nSubject:").count() + usize::from(head.starts_with("Subject:")),
        1,
        "{head}"
    );
    let (_, _, html) = read(message);
    assert!(
        html.contains("Bonjour &#60;b&#62;Zoé&#60;/b&#62;"),
        "{html}"
    );
    assert!(!html.contains("<b>Zoé"), "{html}");
}

async fn workers_side_by_side_never_send_one_message_twice(backend: Backend) {
    const MESSAGES: usize = 60;
    let sink = SmtpSink::start().await;
    let app = spawn_sending_to(backend, &sink).await;
    let campaign = fixtures::campaign_id(&app.db, SLUG).await;
    for i in 0..MESSAGES {
        let email = format!("donateur{i}@example.org");
        let donation = fixtures::give(
            &app.db,
            Gift {
                campaign_id: campaign,
                email: &email,
                first_name: "Paul",
                last_name: "Durand",
                amount_cents: 1_000,
                show_publicly: false,
            },
        )
        .await;
        enqueue(
            &app.db,
            Message::ThankYou {
                donation_id: donation,
            },
        )
        .await;
    }
    // Beside the app's own worker, two more with their own connections: three instances.
    let mut extra = Vec::new();
    for _ in 0..2 {
        let db = Db::connect(&database_url(&app)).await.unwrap();
        let config = Config {
            smtp_url: Some(SecretString::from(format!("{}?tls=none", sink.url()))),
            ..test_config(&database_url(&app), Content::Empty)
        };
        let ctx = JobContext {
            mailer: Mailer::from_config(&config).unwrap(),
            payments: payments_beside_serve(&config, &db).await.unwrap(),
            db,
            config: config.into(),
            base_url: app.address.clone().into(),
            links: LinkKey::load(&app.db, 0).await.unwrap(),
        };
        extra.push(tokio::spawn(async move {
            let worker = Worker::new(ctx);
            while worker.run_due().await.unwrap() > 0 {}
        }));
    }
    let received = sink.wait_for(MESSAGES).await;
    for task in extra {
        task.await.unwrap();
    }
    tokio::time::sleep(std::time::Duration::from_millis(1_200)).await;
    let received_now = sink.received();
    assert_eq!(received_now.len(), MESSAGES, "no message twice");
    let recipients: HashSet<_> = received.iter().map(|m| m.recipients[0].clone()).collect();
    assert_eq!(recipients.len(), MESSAGES);
}

/// With nothing due, the worker's rounds only read: no write transaction, which on SQLite
/// would sync the disk twice a second and would drop the page cache each time.
async fn an_idle_worker_writes_nothing(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = spawn_sending_to(backend, &sink).await;
    let before = app.db.transactions_committed();
    tokio::time::sleep(std::time::Duration::from_millis(1_600)).await;
    assert_eq!(app.db.transactions_committed(), before);
}

pub(crate) async fn enqueue(db: &Db, message: Message) {
    let mut tx = db.begin_write().await.unwrap();
    assert!(
        jobs::enqueue(&mut tx, &Job::Email(message), obole::domain::dates::now())
            .await
            .unwrap()
    );
    tx.commit().await.unwrap();
}

fn database_url(app: &TestApp) -> String {
    app.database_url().to_owned()
}

/// Polls the jobs until `done` holds (up to 20 s).
async fn wait_until(db: &Db, done: impl Fn(&[JobState]) -> bool) -> Vec<JobState> {
    for _ in 0..400 {
        let states = job_states(db).await;
        if done(&states) {
            return states;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("jobs never reached the state: {:?}", job_states(db).await);
}
