//! Who gives: the name, email and postal address a donor enters on the form, which the
//! pledge carries until the money is confirmed, the supporter then keeps, and the tax receipt
//! prints.

use super::email::Email;

/// One donor's identity, the same fields wherever it travels. It reads itself from a row
/// (`#[sqlx(flatten)]` in the pledge), so pledges and supporters store it under the same
/// column names; deriving is all it knows of the database.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DonorIdentity {
    /// Decoded as stored ([`Email::from_stored`]): rows are not re-validated.
    pub email: Email,
    pub first_name: String,
    pub last_name: String,
    pub address_line1: String,
    pub address_line2: String,
    pub postal_code: String,
    pub city: String,
    /// ISO 3166-1 alpha-2 code, e.g. `FR`.
    pub country: String,
}
