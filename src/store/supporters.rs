//! Supporters: the people who give, one row per email address.

use std::sync::LazyLock;

use sqlx::AnyConnection;

use crate::domain::consent::Topic;
use crate::domain::email::Email;
use crate::domain::identity::DonorIdentity;
use crate::domain::profile::NameAndAddress;

/// Creates the supporter or refreshes their identity with the one given at `identity_at` (the
/// creation time of the pledge it comes from), unless the row already holds a newer one:
/// events arrive out of order, and the tax receipt must carry the latest address.
/// A new supporter has no news consent yet ([`set_consent`] gives it once a gift is paid);
/// an existing one keeps theirs. The Stripe customer is remembered unless the supporter has
/// one already or another supporter does (one customer, one supporter).
pub async fn upsert(
    conn: &mut AnyConnection,
    donor: &DonorIdentity,
    stripe_customer_id: Option<&str>,
    identity_at: i64,
    now: i64,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(&UPSERT)
        .bind(donor.email.as_str())
        .bind(&donor.first_name)
        .bind(&donor.last_name)
        .bind(&donor.address_line1)
        .bind(&donor.address_line2)
        .bind(&donor.postal_code)
        .bind(&donor.city)
        .bind(&donor.country)
        .bind(stripe_customer_id)
        .bind(now)
        .bind(identity_at)
        .fetch_one(conn)
        .await
}

/// Whether the supporter agreed to receive emails of `topic`.
pub async fn wants(
    conn: &mut AnyConnection,
    supporter_id: i64,
    topic: Topic,
) -> sqlx::Result<bool> {
    let wants: Option<i64> = sqlx::query_scalar(&format!(
        "SELECT {} FROM supporters WHERE id = $1",
        topic.column()
    ))
    .bind(supporter_id)
    .fetch_optional(conn)
    .await?;
    Ok(wants == Some(1))
}

/// Records a change of consent: the flag the worker reads, and a line of its history.
/// Returns whether it changed anything (withdrawing twice records once).
pub async fn set_consent(
    conn: &mut AnyConnection,
    supporter_id: i64,
    topic: Topic,
    granted: bool,
    source: &str,
    now: i64,
) -> sqlx::Result<bool> {
    let column = topic.column();
    let changed = sqlx::query(&format!(
        "UPDATE supporters SET {column} = $1, updated_at = $2 WHERE id = $3 AND {column} <> $1"
    ))
    .bind(i64::from(granted))
    .bind(now)
    .bind(supporter_id)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        > 0;
    if changed {
        sqlx::query(
            "INSERT INTO consent_changes (supporter_id, topic, granted, source, changed_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(supporter_id)
        .bind(topic.as_str())
        .bind(i64::from(granted))
        .bind(source)
        .bind(now)
        .execute(conn)
        .await?;
    }
    Ok(changed)
}

/// The identity columns, refreshed together and only from a newer identity.
const IDENTITY: [&str; 8] = [
    "first_name",
    "last_name",
    "address_line1",
    "address_line2",
    "postal_code",
    "city",
    "country",
    "identity_at",
];

static UPSERT: LazyLock<String> = LazyLock::new(|| {
    let refresh: Vec<String> = IDENTITY
        .iter()
        .map(|column| {
            format!(
                "{column} = CASE WHEN excluded.identity_at >= supporters.identity_at \
                 THEN excluded.{column} ELSE supporters.{column} END"
            )
        })
        .collect();
    format!(
        "INSERT INTO supporters (email, first_name, last_name, address_line1, address_line2, \
             postal_code, city, country, news_consent, stripe_customer_id, created_at, updated_at, \
             identity_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, \
             (SELECT CASE WHEN EXISTS (SELECT 1 FROM supporters WHERE stripe_customer_id = $9) \
                 THEN NULL ELSE $9 END), $10, $10, $11) \
         ON CONFLICT (email) DO UPDATE SET {}, \
             stripe_customer_id = COALESCE(supporters.stripe_customer_id, excluded.stripe_customer_id), \
             updated_at = excluded.updated_at \
         RETURNING id",
        refresh.join(", ")
    )
});

/// "Marie D.": what the campaign page shows of a donor who agreed to be shown.
pub fn public_name(first_name: &str, last_name: &str) -> String {
    let first = first_name.trim();
    match last_name.trim().chars().next() {
        Some(initial) => format!("{first} {}.", initial.to_uppercase()),
        None => first.to_owned(),
    }
}

/// The supporter with this email, if any.
pub async fn id_of(pool: &sqlx::AnyPool, email: &Email) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar("SELECT id FROM supporters WHERE email = $1 AND erased_at IS NULL")
        .bind(email.as_str())
        .fetch_optional(pool)
        .await
}

/// Whether the supporter exists and is not erased.
pub async fn is_present(pool: &sqlx::AnyPool, supporter_id: i64) -> sqlx::Result<bool> {
    let found: Option<i64> =
        sqlx::query_scalar("SELECT id FROM supporters WHERE id = $1 AND erased_at IS NULL")
            .bind(supporter_id)
            .fetch_optional(pool)
            .await?;
    Ok(found.is_some())
}

/// What « Mon espace » shows and edits of a supporter.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Profile {
    pub email: Email,
    pub first_name: String,
    pub last_name: String,
    pub address_line1: String,
    pub address_line2: String,
    pub postal_code: String,
    pub city: String,
    pub country: String,
    pub news_consent: i64,
    pub instalment_emails: i64,
    pub created_at: i64,
}

impl Profile {
    pub fn name_and_address(&self) -> NameAndAddress {
        NameAndAddress {
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            address_line1: self.address_line1.clone(),
            address_line2: self.address_line2.clone(),
            postal_code: self.postal_code.clone(),
            city: self.city.clone(),
            country: self.country.clone(),
        }
    }
}

const PROFILE: &str = "SELECT email, first_name, last_name, address_line1, address_line2, \
     postal_code, city, country, news_consent, instalment_emails, created_at FROM supporters";

/// The supporter's profile; `None` once erased.
pub async fn profile(pool: &sqlx::AnyPool, supporter_id: i64) -> sqlx::Result<Option<Profile>> {
    sqlx::query_as(&format!("{PROFILE} WHERE id = $1 AND erased_at IS NULL"))
        .bind(supporter_id)
        .fetch_optional(pool)
        .await
}

/// What is left of an erased supporter (empty fields); `None` for anyone else.
pub async fn erased_profile(
    pool: &sqlx::AnyPool,
    supporter_id: i64,
) -> sqlx::Result<Option<Profile>> {
    sqlx::query_as(&format!(
        "{PROFILE} WHERE id = $1 AND erased_at IS NOT NULL"
    ))
    .bind(supporter_id)
    .fetch_optional(pool)
    .await
}

/// The supporter's own new name and address: the newest identity, so that a late event of an
/// older gift does not bring the old one back ([`upsert`]).
pub async fn set_name_and_address(
    conn: &mut AnyConnection,
    supporter_id: i64,
    new: &NameAndAddress,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE supporters SET first_name = $1, last_name = $2, address_line1 = $3, \
             address_line2 = $4, postal_code = $5, city = $6, country = $7, identity_at = $8, \
             updated_at = $8 \
         WHERE id = $9 AND erased_at IS NULL",
    )
    .bind(&new.first_name)
    .bind(&new.last_name)
    .bind(&new.address_line1)
    .bind(&new.address_line2)
    .bind(&new.postal_code)
    .bind(&new.city)
    .bind(&new.country)
    .bind(now)
    .bind(supporter_id)
    .execute(conn)
    .await
    .map(|_| ())
}

/// What became of a change of email address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailChange {
    Done,
    /// Another supporter has that address.
    Taken,
    /// The supporter is no more (erased since the link was sent).
    Gone,
}

/// Makes `email` the supporter's address, unless another supporter has it.
pub async fn change_email(
    conn: &mut AnyConnection,
    supporter_id: i64,
    email: &Email,
    now: i64,
) -> sqlx::Result<EmailChange> {
    let holder: Option<i64> = sqlx::query_scalar("SELECT id FROM supporters WHERE email = $1")
        .bind(email.as_str())
        .fetch_optional(&mut *conn)
        .await?;
    match holder {
        Some(id) if id == supporter_id => return Ok(EmailChange::Done),
        Some(_) => return Ok(EmailChange::Taken),
        None => {}
    }
    let changed = sqlx::query(
        "UPDATE supporters SET email = $1, updated_at = $2 WHERE id = $3 AND erased_at IS NULL",
    )
    .bind(email.as_str())
    .bind(now)
    .bind(supporter_id)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(if changed == 1 {
        EmailChange::Done
    } else {
        EmailChange::Gone
    })
}

/// Notes that the supporter was asked for the postal address a receipt waits for (the first
/// time only).
pub async fn note_receipt_address_asked(
    conn: &mut sqlx::AnyConnection,
    supporter_id: i64,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE supporters SET receipt_address_asked_at = $1 \
         WHERE id = $2 AND receipt_address_asked_at IS NULL",
    )
    .bind(now)
    .bind(supporter_id)
    .execute(conn)
    .await
    .map(|_| ())
}

/// [`note_receipt_address_asked`] in a write of its own.
pub async fn receipt_address_asked(
    db: &crate::db::Db,
    supporter_id: i64,
    now: i64,
) -> sqlx::Result<()> {
    let mut tx = db.begin_write().await?;
    note_receipt_address_asked(&mut tx, supporter_id, now).await?;
    tx.commit_unseen().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_name_keeps_first_name_and_initial() {
        assert_eq!(public_name(" Marie ", "dupont"), "Marie D.");
        assert_eq!(public_name("Élodie", "Émery"), "Élodie É.");
        assert_eq!(public_name("Awa", ""), "Awa");
    }
}
