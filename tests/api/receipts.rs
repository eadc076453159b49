//! Tax receipts: the one-off gift's receipt with its thank-you email, the year's run, numbers
//! without gaps under concurrent issues, the correction after a refund, and each supporter's
//! own receipts to download. The PDFs are read back with poppler's `pdftotext`. Both backends.

use std::process::Command;

use mail_parser::{MessageParser, MimeHeaders};
use obole::domain::dates;
use obole::domain::organisation::Organisation;
use obole::media;
use obole::receipts::{self, Outcome};
use obole::store::settings;
use sha2::{Digest, Sha256};

use crate::back_office::{signed_in_staff, words};
use crate::emails::{give_by_card, spawn_sending_to};
use crate::helpers::fixtures::{self, Gift};
use crate::helpers::{Backend, Content, TestApp, spawn_app};
use crate::smtp_sink::SmtpSink;
use crate::supporter_space::signed_in;
use obole::domain::staff::Role;

dual_backend_tests!(
    a_one_off_gift_is_thanked_with_its_receipt_carrying_every_mention,
    the_year_s_run_receipts_every_gift_once_and_names_what_waits,
    numbers_have_no_gap_and_no_repeat_under_concurrent_issues,
    a_refund_cancels_the_receipt_and_a_corrected_one_replaces_it,
    staff_run_the_year_find_download_cancel_and_reissue_receipts,
    a_cheque_entered_by_hand_is_thanked_with_its_receipt,
);

/// Every field a receipt needs, and a signature.
async fn complete_settings(app: &TestApp) {
    let signature = media::check(
        include_bytes!("../fixtures/cover.png").to_vec(),
        media::SIGNATURE,
    )
    .unwrap();
    let address = media::store(app.data_dir(), &signature).unwrap();
    let organisation = Organisation {
        name: "Villages d’Enfants".into(),
        address_line1: "12 rue de l’Espérance".into(),
        postal_code: "75011".into(),
        city: "Paris".into(),
        object: "Protection de l’enfance".into(),
        category: "rup".into(),
        siren: "123456789".into(),
        cgi_articles: "200,238 bis".into(),
        signatory_name: "Claire Martin".into(),
        signatory_role: "présidente".into(),
        public_utility: 1,
        ..Organisation::default()
    };
    let now = dates::now();
    let mut tx = app.db.begin_write().await.unwrap();
    settings::save(&mut tx, &organisation, now).await.unwrap();
    settings::set_picture(&mut tx, settings::Picture::Signature, &address, now)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

/// The text of a PDF, its spaces made plain (poppler writes no-break spaces as spaces).
fn pdf_text(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("recu.pdf");
    std::fs::write(&path, pdf).unwrap();
    let output = Command::new("pdftotext")
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (Debian's poppler-utils) reads the receipts: .ci/run installs it");
    assert!(output.status.success(), "pdftotext refused the file");
    String::from_utf8(output.stdout)
        .unwrap()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn assert_says(text: &str, mentions: &[&str]) {
    for mention in mentions {
        assert!(text.contains(mention), "« {mention} » missing from: {text}");
    }
}

/// (id, number, amount, status, replaces) of every receipt, oldest first.
async fn receipts_of(app: &TestApp) -> Vec<(i64, String, i64, String, Option<i64>)> {
    sqlx::query_as(
        "SELECT id, number, amount_cents, status, replaces_id FROM tax_receipts ORDER BY id",
    )
    .fetch_all(app.db.pool())
    .await
    .unwrap()
}

fn this_year() -> i32 {
    dates::paris_year(dates::now())
}

async fn a_one_off_gift_is_thanked_with_its_receipt_carrying_every_mention(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = spawn_sending_to(backend, &sink).await;
    complete_settings(&app).await;
    give_by_card(&app, &[("amount", "12050"), ("other_amount", "")]).await;
    let received = sink.wait_for(1).await;

    let parsed = MessageParser::default()
        .parse(received[0].data.as_bytes())
        .unwrap();
    let attachment = parsed.attachment(0).expect("the receipt, attached");
    let name = attachment.attachment_name().unwrap().to_owned();
    let number = format!("{}-000001", this_year());
    assert_eq!(name, format!("recu-fiscal-{number}.pdf"));
    let pdf = attachment.contents().to_vec();
    assert!(pdf.starts_with(b"%PDF-"));
    let text = pdf_text(&pdf);
    assert_says(
        &text,
        &[
            "Reçu au titre des dons à certains organismes d’intérêt général",
            &number,
            "Villages d’Enfants",
            "12 rue de l’Espérance",
            "75011 Paris",
            "Protection de l’enfance",
            "Association ou fondation reconnue d’utilité publique",
            "SIREN 123 456 789",
            "Marie Dupont",
            "3 rue des Lilas",
            "69003 Lyon",
            "120,50 €",
            "cent vingt euros et cinquante centimes",
            "Date du versement",
            "Numéraire",
            "Autres",
            "Virement, prélèvement, carte bancaire",
            "200 et 238 bis du code général des impôts",
            "Fait le",
            "Claire Martin, présidente",
        ],
    );
    let body = parsed.body_text(0).unwrap();
    assert!(
        body.contains(&format!("reçu fiscal n° {number} est joint")),
        "{body}"
    );

    // Kept once, with its checksum; the space serves the same bytes to its donor only.
    let (sha, count): (Option<String>, i64) =
        sqlx::query_as("SELECT MAX(pdf_sha256), COUNT(*) FROM tax_receipts")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(count, 1);
    assert_eq!(sha.unwrap(), hex::encode(Sha256::digest(&pdf)));
    let file = receipts::pdf_path(app.data_dir(), &number);
    assert_eq!(std::fs::read(&file).unwrap(), pdf);
    let id = receipts_of(&app).await[0].0;
    let marie = signed_in(&app, "marie.dupont@example.org").await;
    let (status, page) = marie.get("/mon-espace/recus").await;
    assert_eq!(status, 200);
    assert!(page.contains(&number), "{page}");
    let download = marie
        .client
        .get(format!("{}/mon-espace/recus/{id}", marie.base))
        .send()
        .await
        .unwrap();
    assert_eq!(download.status(), 200);
    assert_eq!(download.headers()["content-type"], "application/pdf");
    assert_eq!(download.bytes().await.unwrap().as_ref(), pdf.as_slice());
    give_by_card(&app, &[("email", "autre@example.org")]).await;
    let other = signed_in(&app, "autre@example.org").await;
    assert_eq!(other.get(&format!("/mon-espace/recus/{id}")).await.0, 404);

    // Issuing again finds the gift covered: nothing new, the same number.
    let donation: i64 = sqlx::query_scalar("SELECT donation_id FROM receipt_gifts")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    let again = receipts::issue_single(&app.db, donation, dates::now())
        .await
        .unwrap();
    assert_eq!(again, Outcome::Nothing);
    sink.wait_for(2).await;
    assert_eq!(receipts_of(&app).await.len(), 2, "one per gift");
}

/// A gift of `email` made on `at`.
async fn gift_on(app: &TestApp, campaign: i64, email: &str, cents: i64, at: i64) -> i64 {
    let id = fixtures::give(
        &app.db,
        Gift {
            campaign_id: campaign,
            email,
            first_name: "Jeanne",
            last_name: "Martin",
            amount_cents: cents,
            show_publicly: false,
        },
    )
    .await;
    sqlx::query("UPDATE donations SET donated_at = $1 WHERE id = $2")
        .bind(at)
        .bind(id)
        .execute(app.db.pool())
        .await
        .unwrap();
    id
}

async fn the_year_s_run_receipts_every_gift_once_and_names_what_waits(backend: Backend) {
    let app = spawn_app(backend, Content::Empty).await;
    let project = fixtures::insert_project(&app.db, "peps", "PEPS").await;
    let campaign =
        fixtures::insert_campaign(&app.db, project, "ete", "published", 100_000, 10).await;
    let year = this_year() - 1;
    let start = dates::paris_year_start(year);
    // The settings are not complete: nothing is issued, and the run says what is missing.
    gift_on(
        &app,
        campaign,
        "jeanne@example.org",
        2_500,
        start + 10 * dates::DAY,
    )
    .await;
    let missing = receipts::run_year(&app.db, year, None, dates::now())
        .await
        .unwrap()
        .unwrap_err();
    assert!(missing.contains(&"le nom de l’organisme"), "{missing:?}");
    assert!(missing.contains(&"l’image de sa signature"), "{missing:?}");
    complete_settings(&app).await;

    // Jeanne: three gifts that year (one on 31 December at 23:30 in Paris), one the year
    // before and one on 1 January at 00:30 in Paris, which are not of that year.
    for at in [
        start + 40 * dates::DAY,
        dates::paris_year_start(year + 1) - 30 * 60,
    ] {
        gift_on(&app, campaign, "jeanne@example.org", 2_500, at).await;
    }
    gift_on(
        &app,
        campaign,
        "jeanne@example.org",
        9_900,
        start - dates::DAY,
    )
    .await;
    gift_on(
        &app,
        campaign,
        "jeanne@example.org",
        9_900,
        start + 365 * dates::DAY + 30 * 60,
    )
    .await;
    // Paul: no postal address: his receipt waits.
    gift_on(
        &app,
        campaign,
        "paul@example.org",
        5_000,
        start + 100 * dates::DAY,
    )
    .await;
    sqlx::query("UPDATE supporters SET address_line1 = '' WHERE email = 'paul@example.org'")
        .execute(app.db.pool())
        .await
        .unwrap();

    let run = receipts::run_year(&app.db, year, None, dates::now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((run.issued, run.amount_cents), (1, 7_500));
    assert_eq!(run.waiting_for_address.len(), 1);
    let again = receipts::run_year(&app.db, year, None, dates::now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((again.issued, again.amount_cents), (0, 0), "nothing twice");
    // Jeanne's receipt is emailed to her (written with it).
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM jobs WHERE kind = 'email' AND payload LIKE '%annual_receipt%'"
        )
        .await,
        1
    );
    // Paul is asked for his address, once, however many runs.
    let asked = || {
        app.count(
            "SELECT COUNT(*) FROM jobs WHERE kind = 'email' \
             AND payload LIKE '%receipt_address_needed%'",
        )
    };
    assert_eq!(asked().await, 1);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM supporters WHERE receipt_address_asked_at IS NOT NULL")
            .await,
        1
    );
    // Both emails go (to the outbox): written, not failed; the receipt's with its PDF.
    let sent = || {
        app.count(
            "SELECT COUNT(*) FROM jobs WHERE (payload LIKE '%receipt_address_needed%' \
                 OR payload LIKE '%annual_receipt%') \
             AND done_at IS NOT NULL AND last_error IS NULL",
        )
    };
    for _ in 0..200 {
        if sent().await == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(sent().await, 2);
    let outbox = obole::jobs::email::read_outbox(&app.data_dir().join("outbox"), 10)
        .await
        .unwrap();
    let annual = outbox
        .iter()
        .find(|e| e.subject == format!("Votre reçu fiscal {year}"))
        .expect("the annual receipt's email");
    assert_eq!(annual.to, "jeanne@example.org");
    assert_eq!(annual.attachments.len(), 1, "{:?}", annual.attachments);
    let covered = app
        .count("SELECT COUNT(*) FROM receipt_gifts WHERE active = 1")
        .await;
    assert_eq!(covered, 3);

    let id = receipts_of(&app).await[0].0;
    let pdf = receipts::pdf_of(&app.db, app.data_dir(), id)
        .await
        .unwrap()
        .unwrap();
    let text = pdf_text(&pdf);
    assert_says(
        &text,
        &[
            &format!("Versements de l’année {year} (3 dons)"),
            "75 €",
            "soixante-quinze euros",
            "Jeanne Martin",
            "1 rue de la Paix",
            &format!("31 décembre {year}"),
        ],
    );
    assert!(
        !text.contains(&format!("1er janvier {}", year + 1)),
        "{text}"
    );

    // Paul gives his address: the next run issues his receipt.
    sqlx::query(
        "UPDATE supporters SET address_line1 = '8 rue Haute' WHERE email = 'paul@example.org'",
    )
    .execute(app.db.pool())
    .await
    .unwrap();
    let later = receipts::run_year(&app.db, year, None, dates::now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((later.issued, later.amount_cents), (1, 5_000));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM tax_receipts WHERE kind = 'annual'")
            .await,
        2
    );
}

async fn numbers_have_no_gap_and_no_repeat_under_concurrent_issues(backend: Backend) {
    let app = spawn_app(backend, Content::Empty).await;
    complete_settings(&app).await;
    let project = fixtures::insert_project(&app.db, "peps", "PEPS").await;
    let campaign =
        fixtures::insert_campaign(&app.db, project, "ete", "published", 100_000, 10).await;
    const GIFTS: usize = 24;
    let mut donations = Vec::new();
    for i in 0..GIFTS {
        let email = format!("donateur{i}@example.org");
        donations.push(gift_on(&app, campaign, &email, 1_000 + i as i64, dates::now()).await);
    }
    // Each gift issued twice at once: one receipt per gift, whoever wins.
    let issues = donations.iter().chain(donations.iter()).map(|&donation| {
        let db = app.db.clone();
        tokio::spawn(async move { receipts::issue_single(&db, donation, dates::now()).await })
    });
    let mut issued = 0;
    for issue in issues.collect::<Vec<_>>() {
        match issue.await.unwrap().unwrap() {
            Outcome::Issued { .. } => issued += 1,
            Outcome::Nothing => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(issued, GIFTS);
    let mut sequences: Vec<i64> = sqlx::query_scalar("SELECT sequence FROM tax_receipts")
        .fetch_all(app.db.pool())
        .await
        .unwrap();
    sequences.sort_unstable();
    assert_eq!(sequences, (1..=GIFTS as i64).collect::<Vec<_>>());
    let last: i64 = sqlx::query_scalar("SELECT last_number FROM receipt_counters WHERE year = $1")
        .bind(i64::from(this_year()))
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(
        last, GIFTS as i64,
        "no number taken by an issue that did not happen"
    );
}

async fn a_refund_cancels_the_receipt_and_a_corrected_one_replaces_it(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = spawn_sending_to(backend, &sink).await;
    complete_settings(&app).await;
    give_by_card(&app, &[("amount", "10000"), ("other_amount", "")]).await;
    sink.wait_for(1).await;
    let payment_intent: String = sqlx::query_scalar(
        "SELECT d.stripe_payment_intent_id FROM donations d \
             JOIN supporters s ON s.id = d.supporter_id WHERE s.email = 'marie.dupont@example.org'",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    let first = receipts_of(&app).await;
    assert_eq!(first.len(), 1, "{first:?}");

    // 30 € of the 100 € given back: the receipt is cancelled, a new one says 70 €.
    app.refund(&payment_intent, Some(3_000)).await;
    app.settle_webhooks().await;
    let received = sink.wait_for(3).await;
    let receipts = receipts_of(&app).await;
    assert_eq!(receipts.len(), 2, "{receipts:?}");
    let (old, new) = (&receipts[0], &receipts[1]);
    assert_eq!(old.3, "cancelled");
    assert_eq!(
        (new.2, new.3.as_str(), new.4),
        (7_000, "issued", Some(old.0))
    );
    assert_ne!(old.1, new.1, "a new number");
    let corrected = received
        .iter()
        .map(|m| MessageParser::default().parse(m.data.as_bytes()).unwrap())
        .find(|m| {
            m.subject()
                .unwrap_or_default()
                .contains("reçu fiscal corrigé")
        })
        .expect("the corrected receipt, sent");
    let text = pdf_text(corrected.attachment(0).unwrap().contents());
    assert_says(
        &text,
        &[
            &format!("Annule et remplace le reçu n° {}", old.1),
            &new.1,
            "70 €",
            "soixante-dix euros",
        ],
    );

    // The rest given back: cancelled, and nothing left to receipt.
    app.refund(&payment_intent, None).await;
    app.settle_webhooks().await;
    for _ in 0..100 {
        if receipts_of(&app).await.iter().all(|r| r.3 == "cancelled") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let receipts = receipts_of(&app).await;
    assert_eq!(receipts.len(), 2);
    assert!(receipts.iter().all(|r| r.3 == "cancelled"), "{receipts:?}");
}

async fn staff_run_the_year_find_download_cancel_and_reissue_receipts(backend: Backend) {
    let app = spawn_app(backend, Content::Empty).await;
    let viewer = signed_in_staff(&app, "lecture@example.org", Role::Viewer).await;
    let editor = signed_in_staff(&app, "edition@example.org", Role::Editor).await;
    let (status, page) = viewer.get("/admin/recus").await;
    assert_eq!(status, 200);
    assert!(words(&page).contains("Aucun reçu fiscal ne peut être établi tant que manquent"));
    complete_settings(&app).await;
    let project = fixtures::insert_project(&app.db, "peps", "PEPS").await;
    let campaign =
        fixtures::insert_campaign(&app.db, project, "ete", "published", 100_000, 10).await;
    let year = this_year() - 1;
    let start = dates::paris_year_start(year);
    for (email, cents) in [("jeanne@example.org", 4_000), ("paul@example.org", 6_000)] {
        gift_on(&app, campaign, email, cents, start + 50 * dates::DAY).await;
    }

    // The run goes through the worker, a page of supporters at a time.
    let year_field = year.to_string();
    let started = editor
        .submit(
            "/admin/recus",
            "/admin/recus/annuels",
            &[("year", &year_field)],
        )
        .await;
    assert_eq!(started.status(), 303);
    for _ in 0..200 {
        if app.count("SELECT COUNT(*) FROM tax_receipts").await == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM tax_receipts").await, 2);
    let bad_year = editor
        .submit("/admin/recus", "/admin/recus/annuels", &[("year", "1999")])
        .await;
    assert_eq!(bad_year.status(), 400);

    // The totals to declare, on the page and as CSV for a French spreadsheet.
    let (_, page) = viewer.get("/admin/recus").await;
    let text = words(&page);
    assert!(text.contains(&format!("{year} 2 100 €")), "{text}");
    let (status, csv) = viewer.get("/admin/recus/totaux.csv").await;
    assert_eq!(status, 200);
    assert!(csv.starts_with('\u{feff}'));
    assert!(csv.contains(&format!("{year};2;100,00")), "{csv}");

    // Found by donor or number; downloaded by any role.
    let (_, found) = viewer.get("/admin/recus?q=jeanne").await;
    assert!(words(&found).contains("jeanne@example.org"));
    assert!(!words(&found).contains("paul@example.org"));
    let (id, number): (i64, String) = sqlx::query_as(
        "SELECT r.id, r.number FROM tax_receipts r JOIN supporters s ON s.id = r.supporter_id \
         WHERE s.email = 'jeanne@example.org'",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    let (_, by_number) = viewer.get(&format!("/admin/recus?q={number}")).await;
    assert!(words(&by_number).contains("jeanne@example.org"));
    let download = viewer
        .client
        .get(format!("{}/admin/recus/{id}", viewer.base))
        .send()
        .await
        .unwrap();
    assert_eq!(download.status(), 200);
    let text = pdf_text(&download.bytes().await.unwrap());
    assert_says(&text, &[&number, "40 €", "quarante euros"]);

    // Cancelled by hand with a reason: journaled, reissued under a new number.
    let path = format!("/admin/recus/{id}/annulation");
    let no_reason = editor
        .submit("/admin/recus", &path, &[("reason", " ")])
        .await;
    assert_eq!(no_reason.status(), 400);
    let cancelled = editor
        .submit("/admin/recus", &path, &[("reason", "Nom mal orthographié")])
        .await;
    assert_eq!(cancelled.status(), 303);
    let receipts = receipts_of(&app).await;
    let old = receipts.iter().find(|r| r.0 == id).unwrap();
    assert_eq!(old.3, "cancelled");
    let new = receipts.iter().find(|r| r.4 == Some(id)).unwrap();
    assert_eq!((new.2, new.3.as_str()), (4_000, "issued"));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'receipt.cancel'")
            .await,
        1
    );
    let twice = editor
        .submit("/admin/recus", &path, &[("reason", "Encore")])
        .await;
    assert_eq!(twice.status(), 409);
    let viewer_cancel = viewer
        .submit(
            "/admin/recus",
            &format!("/admin/recus/{}/annulation", new.0),
            &[("reason", "x")],
        )
        .await;
    assert_eq!(viewer_cancel.status(), 403);
}

async fn a_cheque_entered_by_hand_is_thanked_with_its_receipt(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = spawn_sending_to(backend, &sink).await;
    complete_settings(&app).await;
    let editor = signed_in_staff(&app, "edition@example.org", Role::Editor).await;
    let campaign = fixtures::campaign_id(&app.db, crate::emails::SLUG)
        .await
        .to_string();
    let day = dates::rfc3339(dates::now()).unwrap()[..10].to_owned();
    let entered = editor
        .submit(
            "/admin/dons/hors-ligne",
            "/admin/dons/hors-ligne",
            &[
                ("campaign", &campaign),
                ("amount", "150"),
                ("date", &day),
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
            ],
        )
        .await;
    assert_eq!(entered.status(), 303);
    let page_path = entered.headers()["location"].to_str().unwrap().to_owned();
    let received = sink.wait_for(1).await;
    assert_eq!(received[0].recipients, ["jean@example.org"]);
    let parsed = MessageParser::default()
        .parse(received[0].data.as_bytes())
        .unwrap();
    let text = pdf_text(parsed.attachment(0).expect("the receipt").contents());
    assert_says(
        &text,
        &[
            "Jean Valjean",
            "3 rue Plumet",
            "150 €",
            "cent cinquante euros",
            "Chèque",
        ],
    );
    let (_, page) = editor.get(&page_path).await;
    assert!(
        words(&page).contains(&format!("Reçu fiscal n° {}-000001", this_year())),
        "{}",
        words(&page)
    );
}
