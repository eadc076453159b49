//! Email addresses as donors type them: trimmed, lowercased, plausibly deliverable.

use sqlx::any::{Any, AnyTypeInfo, AnyValueRef};
use sqlx::error::BoxDynError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// A pragmatic check (one `@`, a dotted domain, no spaces); the real proof is the email
    /// that reaches the donor.
    pub fn parse(raw: &str) -> Option<Email> {
        let email = raw.trim().to_lowercase();
        if email.len() > 254 || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return None;
        }
        let (local, domain) = email.split_once('@')?;
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && !domain.contains('@')
            && domain
                .chars()
                .all(|c| c.is_alphanumeric() || c == '.' || c == '-');
        (!local.is_empty() && local.len() <= 64 && domain_ok).then_some(Email(email))
    }

    /// An address read back from the database, as it was stored. What was accepted once
    /// stays readable: [`Email::parse`] guards what comes in, and may grow stricter, but a row
    /// written under yesterday's rules must not stop today's payments for it from being
    /// recorded. Never for input.
    pub fn from_stored(stored: String) -> Email {
        Email(stored)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

// Rows decode through [`Email::from_stored`], never through the form's parser.
impl sqlx::Type<Any> for Email {
    fn type_info() -> AnyTypeInfo {
        <String as sqlx::Type<Any>>::type_info()
    }

    fn compatible(ty: &AnyTypeInfo) -> bool {
        <String as sqlx::Type<Any>>::compatible(ty)
    }
}

impl<'r> sqlx::Decode<'r, Any> for Email {
    fn decode(value: AnyValueRef<'r>) -> Result<Email, BoxDynError> {
        let stored = <String as sqlx::Decode<'r, Any>>::decode(value)?;
        Ok(Email::from_stored(stored))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_normalises() {
        assert_eq!(
            Email::parse(" Marie.Dupont@Exemple.FR ").unwrap().as_str(),
            "marie.dupont@exemple.fr"
        );
        assert!(Email::parse("a+dons@sous.domaine.org").is_some());
    }

    #[test]
    fn a_stored_address_reads_back_as_it_was_stored() {
        // Accepted under older rules, refused by today's parser: still the donor's address.
        let stored = "ancienne adresse@exemple";
        assert!(Email::parse(stored).is_none());
        assert_eq!(Email::from_stored(stored.to_owned()).as_str(), stored);
    }

    #[test]
    fn rejects_the_implausible() {
        for bad in [
            "",
            "marie",
            "marie@",
            "@exemple.fr",
            "marie@exemple",
            "ma rie@exemple.fr",
            "a@b@c.fr",
            "a@.fr",
            "a@b..fr",
            "a@b.fr.",
        ] {
            assert!(Email::parse(bad).is_none(), "{bad:?}");
        }
    }
}
