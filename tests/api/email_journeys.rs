//! The emails of a gift's life after its thanks, each caused by the webhooks Stripe (the
//! sandbox) sends and delivered over SMTP: a renewal that fails and the link that fixes it, a
//! gift that lapses, a direct debit rejected, refunds, changes made in the Billing Portal, and
//! the per-instalment emails with their one-click unsubscribe. Then the demonstration's outbox.

use std::time::Duration;

use obole::links::{LinkKey, NO_EXPIRY, Purpose};

use crate::donations::recurring_gift_status;
use crate::emails::{SLUG, give_by_card, read, spawn_sending_to};
use crate::helpers::{Backend, Content, TestApp, plain, spawn_app};
use crate::smtp_sink::{Received, SmtpSink};

dual_backend_tests!(
    a_failed_renewal_sends_a_link_to_the_portal_then_the_gift_lapses,
    a_rejected_direct_debit_is_told_with_a_way_to_give_again,
    a_refund_is_confirmed_once_per_new_total,
    changes_made_in_the_billing_portal_are_confirmed,
    instalment_emails_carry_a_one_click_unsubscribe_that_withdraws_consent,
    the_demo_outbox_shows_each_email_as_its_recipient_sees_it,
);

const DAY: i64 = 86_400;

/// Waits for the `n`-th message and returns its subject and text part.
async fn message(sink: &SmtpSink, n: usize) -> (String, String, Received) {
    let received = sink.wait_for(n).await;
    let message = received[n - 1].clone();
    let (subject, text, _) = read(&message);
    (subject, text, message)
}

/// Gives the worker time for anything still queued, then checks nothing more was sent.
async fn nothing_more(sink: &SmtpSink, expected: usize) {
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let subjects: Vec<String> = sink.received().iter().map(|m| read(m).0).collect();
    assert_eq!(subjects.len(), expected, "{subjects:?}");
}

/// The path (and query) of the first link in `text` that starts with `prefix`.
fn link_path(text: &str, prefix: &str) -> String {
    let start = text
        .find(prefix)
        .unwrap_or_else(|| panic!("no {prefix} link in {text}"));
    let url: String = text[start..]
        .chars()
        .take_while(|c| !c.is_whitespace() && !matches!(c, '>' | '"' | '<'))
        .collect();
    let path_start = url.find("://").map_or(0, |i| {
        i + 3 + url[i + 3..].find('/').expect("a path after the host")
    });
    url[path_start..].to_owned()
}

const DONOR: &str = "marie.dupont@example.org";

async fn instalment_emails(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT instalment_emails FROM supporters WHERE email = $1")
        .bind(DONOR)
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

async fn a_failed_renewal_sends_a_link_to_the_portal_then_the_gift_lapses(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = spawn_sending_to(backend, &sink).await;
    let fields = [("frequency", "monthly"), ("amount", "2000")];
    let (_, paid) = app.give(SLUG, &fields, "card_renewal_fails").await;
    assert_eq!(paid.status(), 303);
    app.settle_webhooks().await;
    let (welcome, _, _) = message(&sink, 1).await;
    assert!(welcome.starts_with("Bienvenue"), "{welcome}");

    // The renewal fails: Stripe will retry, and the donor is told how to fix it.
    app.sandbox().advance_clock(32 * DAY).await;
    app.settle_webhooks().await;
    assert_eq!(recurring_gift_status(&app).await, "past_due");
    let (subject, text, _) = message(&sink, 2).await;
    assert_eq!(subject, "Votre don régulier n’a pas pu être prélevé");
    let text = plain(&text);
    assert!(text.contains("20 € par mois"), "{text}");
    assert!(text.contains("carte ou votre IBAN"), "{text}");
    let fix = link_path(&text, "/paiement/");

    // The link opens a Billing Portal session, made now, for this donor's customer.
    let portal = app.get(&fix).await;
    assert_eq!(portal.status(), 303);
    let portal_url = portal.headers()["location"].to_str().unwrap().to_owned();
    assert!(portal_url.contains("/sandbox/portal/bps_"), "{portal_url}");
    assert_eq!(app.get(&fix).await.status(), 303, "the link works again");

    // A link altered by one character is refused, in French, without reaching Stripe.
    let forged = format!("{}0", &fix[..fix.len() - 1]);
    let forged = if forged == fix {
        format!("{}1", &fix[..fix.len() - 1])
    } else {
        forged
    };
    let refused = app.get(&forged).await;
    assert_eq!(refused.status(), 404);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("Ce lien n’est pas valable")
    );

    // Stripe's retries all fail (the same invoice: one email), and the gift ends.
    app.sandbox().advance_clock(20 * DAY).await;
    app.settle_webhooks().await;
    assert_eq!(recurring_gift_status(&app).await, "canceled");
    let (subject, text, _) = message(&sink, 3).await;
    assert_eq!(subject, "Votre don régulier a pris fin");
    assert!(plain(&text).contains("Après plusieurs essais"), "{text}");
    nothing_more(&sink, 3).await;

    // Once the gift has ended, its link says so.
    let ended = app.get(&fix).await;
    assert_eq!(ended.status(), 410);
    assert!(
        ended
            .text()
            .await
            .unwrap()
            .contains("Ce don régulier a pris fin")
    );
}

async fn a_rejected_direct_debit_is_told_with_a_way_to_give_again(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = spawn_sending_to(backend, &sink).await;
    let (_, paid) = app
        .give(SLUG, &[("email", "rejet@example.org")], "sepa_fails")
        .await;
    assert_eq!(paid.status(), 303);
    let monthly = [
        ("email", "mensuel@example.org"),
        ("frequency", "monthly"),
        ("amount", "1500"),
    ];
    let (_, paid) = app.give(SLUG, &monthly, "sepa_fails").await;
    assert_eq!(paid.status(), 303);
    app.settle_webhooks().await;
    // The debits are pending: nothing to say yet.
    nothing_more(&sink, 0).await;

    app.sandbox().advance_clock(3 * DAY).await;
    app.settle_webhooks().await;
    let received = sink.wait_for(2).await;
    nothing_more(&sink, 2).await;
    let mut told: Vec<(String, String, String)> = received
        .iter()
        .map(|m| {
            let (subject, text, _) = read(m);
            (m.recipients[0].clone(), subject, plain(&text))
        })
        .collect();
    told.sort();
    assert_eq!(told[0].0, "mensuel@example.org");
    assert_eq!(told[1].0, "rejet@example.org");
    for (_, subject, text) in &told {
        assert_eq!(subject, "Votre prélèvement a été rejeté");
        assert!(
            text.contains(&format!("/campagnes/{SLUG}/don")),
            "a way to give again: {text}"
        );
    }
    assert!(
        told[0].2.contains("15 € par mois") && told[0].2.contains("n’a donc pas pu commencer"),
        "{}",
        told[0].2
    );
    assert!(
        told[1].2.contains("30 €") && told[1].2.contains("n’a pas été encaissé"),
        "{}",
        told[1].2
    );
    nothing_more(&sink, 2).await;
}

async fn a_refund_is_confirmed_once_per_new_total(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = spawn_sending_to(backend, &sink).await;
    give_by_card(&app, &[("amount", "6000")]).await;
    message(&sink, 1).await;
    let payment_intent: String = sqlx::query_scalar(
        "SELECT d.stripe_payment_intent_id FROM donations d \
         JOIN supporters s ON s.id = d.supporter_id WHERE s.email = 'marie.dupont@example.org'",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();

    app.refund(&payment_intent, Some(2_000)).await;
    app.settle_webhooks().await;
    // The refund told, and the gift's tax receipt corrected (two jobs: in either order).
    let received = sink.wait_for(3).await;
    let by_subject = |wanted: &str| {
        received[1..]
            .iter()
            .map(read)
            .find(|(subject, _, _)| subject.starts_with(wanted))
            .unwrap_or_else(|| panic!("no « {wanted} » email"))
    };
    by_subject("Votre reçu fiscal corrigé");
    let (_, text, _) = by_subject("Votre remboursement");
    let text = plain(&text);
    assert!(
        text.contains("Sur votre don de 60 €") && text.contains("20 € vous ont été remboursés"),
        "{text}"
    );
    assert!(text.contains("Seuls les 40 € conservés"), "{text}");

    // The same webhook again: the total has not moved, no second email.
    let event = app
        .sandbox()
        .events()
        .into_iter()
        .rfind(|e| e["type"] == "charge.refunded")
        .expect("the refund's event");
    assert_eq!(app.deliver(&event).await, 200);
    nothing_more(&sink, 3).await;

    // All given back: told; the receipt is cancelled and none replaces it.
    app.refund(&payment_intent, None).await;
    app.settle_webhooks().await;
    let (_, text, _) = message(&sink, 4).await;
    assert!(
        plain(&text).contains("vous a été remboursé en totalité"),
        "{text}"
    );
    nothing_more(&sink, 4).await;
}

/// The path of a Billing Portal session for the only recurring gift, opened as the emails'
/// link does.
async fn open_portal(app: &TestApp) -> String {
    let gift_id: i64 = sqlx::query_scalar("SELECT id FROM recurring_gifts")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    let key = LinkKey::load(&app.db, 0).await.unwrap();
    let link = key.token(Purpose::FixPayment, gift_id, NO_EXPIRY);
    let opened = app.get(&format!("/paiement/{link}")).await;
    assert_eq!(opened.status(), 303);
    let url = opened.headers()["location"].to_str().unwrap().to_owned();
    url[url.find("/sandbox/").unwrap()..].to_owned()
}

async fn changes_made_in_the_billing_portal_are_confirmed(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = spawn_sending_to(backend, &sink).await;
    give_by_card(&app, &[("frequency", "monthly"), ("amount", "2000")]).await;
    message(&sink, 1).await;
    let subscription: String =
        sqlx::query_scalar("SELECT stripe_subscription_id FROM recurring_gifts")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    let portal = open_portal(&app).await;
    let act = |action: &'static str, form: Vec<(&'static str, &'static str)>| {
        let url = app.url(&format!("{portal}/subscriptions/{subscription}/{action}"));
        let client = app.client.clone();
        async move {
            let response = client.post(url).form(&form).send().await.unwrap();
            assert_eq!(response.status(), 303, "{action}");
        }
    };

    /// A portal action, its form, and the subject and a phrase of the email it causes.
    type Step = (
        &'static str,
        Vec<(&'static str, &'static str)>,
        &'static str,
        &'static str,
    );
    let steps: [Step; 5] = [
        (
            "pause",
            vec![],
            "Votre don régulier est en pause",
            "aucun prélèvement n’aura lieu pendant la pause",
        ),
        (
            "resume",
            vec![],
            "Votre don régulier reprend",
            "20 € par mois",
        ),
        (
            "amount",
            vec![("amount", "25")],
            "Votre don régulier a été modifié",
            "passe de 20 € par mois à 25 € par mois",
        ),
        (
            "cancel_at_period_end",
            vec![],
            "Votre don régulier prendra fin",
            "à la fin de la période en cours",
        ),
        (
            "cancel",
            vec![],
            "Votre don régulier est arrêté",
            "aucun nouveau prélèvement",
        ),
    ];
    let mut sent = 1;
    for (action, form, subject, says) in steps {
        if action == "cancel" {
            // Changed their mind first (nothing to tell), then cancelled at once.
            act("keep", vec![]).await;
            app.settle_webhooks().await;
        }
        act(action, form).await;
        app.settle_webhooks().await;
        sent += 1;
        let (got, text, _) = message(&sink, sent).await;
        assert_eq!(got, subject, "after {action}");
        assert!(plain(&text).contains(says), "after {action}: {text}");
    }
    nothing_more(&sink, sent).await;
    assert_eq!(recurring_gift_status(&app).await, "canceled");
}

async fn instalment_emails_carry_a_one_click_unsubscribe_that_withdraws_consent(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = spawn_sending_to(backend, &sink).await;
    give_by_card(&app, &[("frequency", "monthly"), ("amount", "2000")]).await;
    message(&sink, 1).await;
    // As « Mon espace » will let them: an email at each instalment, please.
    sqlx::query("UPDATE supporters SET instalment_emails = 1 WHERE email = $1")
        .bind(DONOR)
        .execute(app.db.pool())
        .await
        .unwrap();

    app.sandbox().advance_clock(31 * DAY).await;
    app.settle_webhooks().await;
    let (subject, text, received) = message(&sink, 2).await;
    assert_eq!(
        subject,
        "Votre don à « Le sport pour grandir » est bien arrivé"
    );
    assert!(plain(&text).contains("don mensuel de 20 €"), "{text}");
    let header = received
        .header("list-unsubscribe")
        .expect("List-Unsubscribe");
    assert!(
        header.starts_with('<')
            && header.ends_with('>')
            && header.contains("/desinscription/instalments/"),
        "{header}"
    );
    assert_eq!(
        received.header("list-unsubscribe-post").as_deref(),
        Some("List-Unsubscribe=One-Click")
    );
    let unsubscribe = link_path(&header, "http");
    assert!(
        plain(&text).contains(&unsubscribe),
        "the link is in the text too"
    );

    // Opening the link only asks (mailboxes open links to check them).
    let page = app.get(&unsubscribe).await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Me désinscrire"));
    assert_eq!(instalment_emails(&app).await, 1, "a GET changes nothing");

    // Mail software's one-click POST unsubscribes; a second one changes nothing more.
    for _ in 0..2 {
        let done = app
            .client
            .post(app.url(&unsubscribe))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("List-Unsubscribe=One-Click")
            .send()
            .await
            .unwrap();
        assert_eq!(done.status(), 200);
        assert!(done.text().await.unwrap().contains("C’est fait"));
    }
    assert_eq!(instalment_emails(&app).await, 0);
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM consent_changes WHERE topic = 'instalments' \
             AND granted = 0 AND source = 'unsubscribe_link'"
        )
        .await,
        1,
        "the withdrawal is recorded once"
    );

    // A forged link (another supporter's id, the same signature) is refused.
    let token = unsubscribe.rsplit('/').next().unwrap();
    let (id, rest) = token.split_once('.').unwrap();
    let other = id.parse::<i64>().unwrap() + 1;
    let forged = unsubscribe.replacen(token, &format!("{other}.{rest}"), 1);
    let refused = app.client.post(app.url(&forged)).send().await.unwrap();
    assert_eq!(refused.status(), 404);
    let news = unsubscribe.replacen("/instalments/", "/news/", 1);
    assert_eq!(app.get(&news).await.status(), 404, "another topic");

    // The next instalment comes with no email.
    app.sandbox().advance_clock(31 * DAY).await;
    app.settle_webhooks().await;
    assert_eq!(app.donations_of("marie.dupont@example.org").await.len(), 3);
    nothing_more(&sink, 2).await;
}

async fn the_demo_outbox_shows_each_email_as_its_recipient_sees_it(backend: Backend) {
    // The embedded defaults: no SMTP server, emails written under DATA_DIR/outbox/.
    let app = spawn_app(backend, Content::Demo).await;
    assert!(app.page("/demo/emails").await.contains("Aucun email"));
    give_by_card(&app, &[("first_name", "<i>Inès</i>")]).await;
    let outbox = app.data_dir().join("outbox");
    let mut listed = String::new();
    for _ in 0..100 {
        listed = app.page("/demo/emails").await;
        if listed.contains("Merci pour votre don") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        listed.contains("Merci pour votre don à « Le sport pour grandir »"),
        "{listed}"
    );
    assert!(listed.contains("marie.dupont@example.org"), "{listed}");
    let eml: Vec<_> = std::fs::read_dir(&outbox)
        .unwrap()
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.path().extension().is_some_and(|e| e == "eml"))
        .collect();
    assert_eq!(eml.len(), 1, "the message itself is there too");

    let id = link_path(&listed, "/demo/emails/");
    let shown = app.get(&id).await;
    assert_eq!(shown.status(), 200);
    let shown = shown.text().await.unwrap();
    assert!(
        shown.contains("Bonjour &#60;i&#62;Inès&#60;/i&#62;,"),
        "the text part, escaped: {shown}"
    );
    assert!(shown.contains(&format!("{id}/html")), "{shown}");

    let html = app.get(&format!("{id}/html")).await;
    assert_eq!(html.status(), 200);
    let csp = html.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.starts_with("sandbox "), "{csp}");
    assert!(csp.contains("default-src 'none'"), "{csp}");
    let body = html.text().await.unwrap();
    assert!(body.contains("<base target=\"_top\">"), "{body}");
    assert!(!body.contains("<i>Inès"), "{body}");

    assert_eq!(app.get("/demo/emails/999999").await.status(), 404);
    assert_eq!(app.get("/demo/emails/abc").await.status(), 400);
}
