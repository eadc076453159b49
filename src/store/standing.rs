//! What the ledger says of one Stripe object, in a line: reconciliation reads it before and
//! after applying Stripe's current word on the object, keeps the change only when the line
//! moved, and prints both lines ([`crate::payments::reconcile`]).

use sqlx::{AnyConnection, Row};

use crate::domain::dates;
use crate::domain::money::{Currency, format_money};

/// A Stripe object, by the id the ledger keeps of it.
#[derive(Debug, Clone, Copy)]
pub enum StripeObject<'a> {
    CheckoutSession(&'a str),
    Invoice(&'a str),
    Subscription(&'a str),
    /// A payment, by its PaymentIntent (or, for an instalment recorded before its
    /// PaymentIntent was known, by the invoice it paid).
    Payment {
        payment_intent: &'a str,
        invoice: Option<&'a str>,
    },
    Dispute(&'a str),
}

/// The ledger's line for `object`: « absent » when it knows nothing of it.
pub async fn of(conn: &mut AnyConnection, object: StripeObject<'_>) -> sqlx::Result<String> {
    let parts = match object {
        StripeObject::CheckoutSession(id) => vec![
            pledge(conn, id).await?,
            donation(conn, "stripe_checkout_session_id", id).await?,
            gift_of_session(conn, id).await?,
        ],
        StripeObject::Invoice(id) => vec![donation(conn, "stripe_invoice_id", id).await?],
        StripeObject::Subscription(id) => vec![gift(conn, id).await?],
        StripeObject::Payment {
            payment_intent,
            invoice,
        } => {
            let mut by_payment = donation(conn, "stripe_payment_intent_id", payment_intent).await?;
            if by_payment.is_none()
                && let Some(invoice) = invoice
            {
                by_payment = donation(conn, "stripe_invoice_id", invoice).await?;
            }
            vec![by_payment]
        }
        StripeObject::Dispute(id) => vec![dispute(conn, id).await?],
    };
    let parts: Vec<String> = parts.into_iter().flatten().collect();
    Ok(if parts.is_empty() {
        "absent".to_owned()
    } else {
        parts.join(" ; ")
    })
}

/// A status or frequency as the ledger stores it, in the words staff read.
fn french(code: &str) -> &str {
    match code {
        "open" => "ouvert(e)",
        "completed" => "aboutie",
        "expired" => "expirée",
        "pending" => "en attente",
        "paid" => "payé",
        "failed" => "échoué",
        "refunded" => "remboursé",
        "incomplete" => "incomplet",
        "active" => "actif",
        "past_due" => "en retard de paiement",
        "paused" => "en pause",
        "canceled" => "arrêté",
        "monthly" => "par mois",
        "yearly" => "par an",
        "needs_response" => "à répondre",
        "under_review" => "en examen",
        "won" => "gagnée",
        "lost" => "perdue",
        other => other,
    }
}

fn money(cents: i64, currency: &str) -> String {
    match Currency::parse(currency) {
        Some(currency) => format_money(cents, currency),
        None => format!("{cents} c {currency}"),
    }
}

async fn pledge(conn: &mut AnyConnection, session: &str) -> sqlx::Result<Option<String>> {
    let status: Option<String> =
        sqlx::query_scalar("SELECT status FROM pledges WHERE stripe_checkout_session_id = $1")
            .bind(session)
            .fetch_optional(&mut *conn)
            .await?;
    Ok(status.map(|status| format!("promesse {}", french(&status))))
}

/// `column` is one of the donation's unique Stripe ids (a constant of this module).
async fn donation(
    conn: &mut AnyConnection,
    column: &'static str,
    id: &str,
) -> sqlx::Result<Option<String>> {
    let row = sqlx::query(&format!(
        "SELECT status, amount_cents, refunded_cents, disputed_cents, currency \
         FROM donations WHERE {column} = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let currency: String = row.try_get("currency")?;
    let mut line = format!(
        "don {} {}",
        french(&row.try_get::<String, _>("status")?),
        money(row.try_get("amount_cents")?, &currency)
    );
    for (column, label) in [
        ("refunded_cents", "remboursé"),
        ("disputed_cents", "contesté"),
    ] {
        let cents: i64 = row.try_get(column)?;
        if cents > 0 {
            line.push_str(&format!(", {label} {}", money(cents, &currency)));
        }
    }
    Ok(Some(line))
}

const GIFT_COLUMNS: &str = "g.status, g.amount_cents, g.currency, g.frequency, \
    g.cancel_at_period_end, g.current_period_end, g.paused_until";

async fn gift(conn: &mut AnyConnection, subscription: &str) -> sqlx::Result<Option<String>> {
    let row = sqlx::query(&format!(
        "SELECT {GIFT_COLUMNS} FROM recurring_gifts g WHERE g.stripe_subscription_id = $1"
    ))
    .bind(subscription)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|row| gift_line(&row)).transpose()
}

async fn gift_of_session(conn: &mut AnyConnection, session: &str) -> sqlx::Result<Option<String>> {
    let row = sqlx::query(&format!(
        "SELECT {GIFT_COLUMNS} FROM recurring_gifts g JOIN pledges p ON p.id = g.pledge_id \
         WHERE p.stripe_checkout_session_id = $1"
    ))
    .bind(session)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|row| gift_line(&row)).transpose()
}

fn gift_line(row: &sqlx::any::AnyRow) -> sqlx::Result<String> {
    let currency: String = row.try_get("currency")?;
    let mut line = format!(
        "don régulier {} {} {}",
        french(&row.try_get::<String, _>("status")?),
        money(row.try_get("amount_cents")?, &currency),
        french(&row.try_get::<String, _>("frequency")?),
    );
    if row.try_get::<i64, _>("cancel_at_period_end")? == 1 {
        line.push_str(", fin prévue");
    }
    if let Some(end) = row.try_get::<Option<i64>, _>("current_period_end")? {
        line.push_str(&format!(", période jusqu’au {}", dates::french_date(end)));
    }
    if let Some(until) = row.try_get::<Option<i64>, _>("paused_until")? {
        line.push_str(&format!(
            ", en pause jusqu’au {}",
            dates::french_date(until)
        ));
    }
    Ok(line)
}

async fn dispute(conn: &mut AnyConnection, id: &str) -> sqlx::Result<Option<String>> {
    let row = sqlx::query(
        "SELECT d.status, d.outcome, d.amount_cents, d.currency FROM disputes d \
         WHERE d.stripe_dispute_id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let currency: String = row.try_get("currency")?;
    Ok(Some(format!(
        "contestation {} ({}) {}",
        french(&row.try_get::<String, _>("status")?),
        french(&row.try_get::<String, _>("outcome")?),
        money(row.try_get("amount_cents")?, &currency)
    )))
}
