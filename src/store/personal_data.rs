//! A supporter's personal data, as the RGPD lets them have it: all of it to take away
//! ([`export`]), or erased ([`erase`]) while the accounting the law requires stays.

use serde::Serialize;
use sqlx::{AnyConnection, AnyPool};

use super::giving::{self, GiftLine};
use super::supporters::{self, Profile};

/// Everything Obole holds about one supporter.
pub struct Export {
    pub profile: Profile,
    pub donations: Vec<DonationRecord>,
    pub recurring_gifts: Vec<GiftLine>,
    pub consents: Vec<ConsentRecord>,
    pub emails: Vec<EmailRecord>,
}

/// A donation, with what was given with it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct DonationRecord {
    pub donated_at: i64,
    pub campaign: String,
    pub amount_cents: i64,
    pub refunded_cents: i64,
    pub currency: String,
    pub frequency: String,
    pub payment_method: String,
    pub status: String,
    pub show_publicly: i64,
    pub public_name: Option<String>,
    pub dedication_kind: Option<String>,
    pub dedication_name: Option<String>,
}

/// A consent given or withdrawn, and where.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ConsentRecord {
    pub changed_at: i64,
    pub topic: String,
    pub granted: i64,
    pub source: String,
}

/// An email sent.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct EmailRecord {
    pub sent_at: i64,
    pub subject: String,
}

/// The supporter's data; `None` once erased.
pub async fn export(pool: &AnyPool, supporter_id: i64) -> sqlx::Result<Option<Export>> {
    let Some(profile) = supporters::profile(pool, supporter_id).await? else {
        return Ok(None);
    };
    let (donations, recurring_gifts, consents, emails) = tokio::try_join!(
        sqlx::query_as(
            "SELECT d.donated_at, c.title AS campaign, d.amount_cents, d.refunded_cents, \
                 d.currency, d.frequency, d.payment_method, d.status, d.show_publicly, \
                 d.public_name, d.dedication_kind, d.dedication_name \
             FROM donations d JOIN campaigns c ON c.id = d.campaign_id \
             WHERE d.supporter_id = $1 ORDER BY d.donated_at, d.id",
        )
        .bind(supporter_id)
        .fetch_all(pool),
        giving::recurring_gifts(pool, supporter_id),
        sqlx::query_as(
            "SELECT changed_at, topic, granted, source FROM consent_changes \
             WHERE supporter_id = $1 ORDER BY changed_at, id",
        )
        .bind(supporter_id)
        .fetch_all(pool),
        sqlx::query_as(
            "SELECT sent_at, subject FROM emails_sent WHERE supporter_id = $1 \
             ORDER BY sent_at, id",
        )
        .bind(supporter_id)
        .fetch_all(pool),
    )?;
    Ok(Some(Export {
        profile,
        donations,
        recurring_gifts,
        consents,
        emails,
    }))
}

/// The address an erased supporter's rows keep: unique (the column is), and undeliverable
/// (`.invalid` is reserved for that, RFC 2606).
fn erased_address(supporter_id: i64) -> String {
    format!("efface-{supporter_id}@obole.invalid")
}

/// Erases the supporter's identity, in the caller's transaction: from their row, from the
/// pledges they gave it with (also one still at the checkout), and from their donations (the
/// name shown on a campaign page, a dedication). Their donations and recurring gifts stay,
/// attached to the emptied row: the accounting the law requires, totals and donor counts
/// unchanged. Their links and the record of emails sent go. Returns `false` when there was
/// nothing to erase.
pub async fn erase(conn: &mut AnyConnection, supporter_id: i64, now: i64) -> sqlx::Result<bool> {
    let email: Option<String> =
        sqlx::query_scalar("SELECT email FROM supporters WHERE id = $1 AND erased_at IS NULL")
            .bind(supporter_id)
            .fetch_optional(&mut *conn)
            .await?;
    let Some(email) = email else {
        return Ok(false);
    };
    let erased = erased_address(supporter_id);
    sqlx::query(
        "UPDATE supporters SET email = $1, first_name = '', last_name = '', address_line1 = '', \
             address_line2 = '', postal_code = '', city = '', country = '', news_consent = 0, \
             instalment_emails = 0, stripe_customer_id = NULL, erased_at = $2, updated_at = $2, \
             identity_at = $2 \
         WHERE id = $3",
    )
    .bind(&erased)
    .bind(now)
    .bind(supporter_id)
    .execute(&mut *conn)
    .await?;
    // A pledge still open has no supporter yet: it is found by its address, and attached to
    // this row, so that its payment, if it comes, cannot bring the identity back.
    sqlx::query(
        "UPDATE pledges SET email = $1, first_name = '', last_name = '', address_line1 = '', \
             address_line2 = '', postal_code = '', city = '', country = '', \
             dedication_name = NULL, dedication_kind = NULL, news_consent = 0, \
             show_publicly = 0, supporter_id = $2, updated_at = $3 \
         WHERE supporter_id = $2 OR (supporter_id IS NULL AND email = $4)",
    )
    .bind(&erased)
    .bind(supporter_id)
    .bind(now)
    .bind(&email)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE donations SET public_name = NULL, show_publicly = 0, dedication_name = NULL, \
             dedication_kind = NULL, updated_at = $1 \
         WHERE supporter_id = $2",
    )
    .bind(now)
    .bind(supporter_id)
    .execute(&mut *conn)
    .await?;
    for table in ["sign_in_tokens", "emails_sent"] {
        sqlx::query(&format!("DELETE FROM {table} WHERE supporter_id = $1"))
            .bind(supporter_id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_erased_address_is_unique_and_cannot_be_delivered() {
        let address = super::erased_address(42);
        assert!(address.ends_with(".invalid"));
        assert_ne!(address, super::erased_address(43));
        assert!(crate::domain::email::Email::parse(&address).is_some());
    }
}
