//! The organisation's settings (one row, migration 0017).

use sqlx::{AnyConnection, AnyPool};

use crate::domain::organisation::Organisation;

const COLUMNS: &str = "name, address_line1, postal_code, city, object, category, siren, rna, \
     cgi_articles, signatory_name, signatory_role, publication_director, contact_email, host, \
     public_utility, signature_image, logo_image";

pub async fn organisation(pool: &AnyPool) -> sqlx::Result<Organisation> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM organisation_settings WHERE singleton = 1"
    ))
    .fetch_optional(pool)
    .await
    .map(Option::unwrap_or_default)
}

pub async fn save(conn: &mut AnyConnection, o: &Organisation, now: i64) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE organisation_settings SET name = $1, address_line1 = $2, postal_code = $3, \
             city = $4, object = $5, category = $6, siren = $7, rna = $8, cgi_articles = $9, \
             signatory_name = $10, signatory_role = $11, publication_director = $12, \
             contact_email = $13, host = $14, public_utility = $15, updated_at = $16 \
         WHERE singleton = 1",
    )
    .bind(&o.name)
    .bind(&o.address_line1)
    .bind(&o.postal_code)
    .bind(&o.city)
    .bind(&o.object)
    .bind(&o.category)
    .bind(&o.siren)
    .bind(&o.rna)
    .bind(&o.cgi_articles)
    .bind(&o.signatory_name)
    .bind(&o.signatory_role)
    .bind(&o.publication_director)
    .bind(&o.contact_email)
    .bind(&o.host)
    .bind(o.public_utility)
    .bind(now)
    .execute(conn)
    .await
    .map(|_| ())
}

/// One of the organisation's pictures: the receipts' signature or the header's logo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Picture {
    Signature,
    Logo,
}

impl Picture {
    /// Its column, which holds an address under `/medias/`.
    pub fn column(self) -> &'static str {
        match self {
            Picture::Signature => "signature_image",
            Picture::Logo => "logo_image",
        }
    }

    /// Its address in `o`, empty when none was uploaded.
    pub fn of(self, o: &Organisation) -> &str {
        match self {
            Picture::Signature => &o.signature_image,
            Picture::Logo => &o.logo_image,
        }
    }
}

/// Sets one of the organisation's pictures (an address under `/medias/`).
pub async fn set_picture(
    conn: &mut AnyConnection,
    picture: Picture,
    address: &str,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(&format!(
        "UPDATE organisation_settings SET {} = $1, updated_at = $2 WHERE singleton = 1",
        picture.column()
    ))
    .bind(address)
    .bind(now)
    .execute(conn)
    .await
    .map(|_| ())
}
