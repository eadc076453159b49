//! Email addresses as donors type them: trimmed, lowercased, plausibly deliverable.

use sqlx::any::{Any, AnyTypeInfo, AnyValueRef};
use sqlx::error::BoxDynError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// As a mail system reads an address: first as lettre, the library Obole sends its emails
    /// with, parses it (RFC 5321/5322, with RFC 6531's UTF-8: an address it refuses could
    /// never be written to); then, stricter, a local part of « atext » characters in
    /// dot-separated atoms (no quoted forms, no `<`, `(`, `\`…), and a domain of at least
    /// two labels of letters, digits and inner hyphens, 63 characters each at most, its last
    /// not all digits (lettre also takes IP literals and one-label domains). The real proof
    /// is the email that reaches the donor.
    pub fn parse(raw: &str) -> Option<Email> {
        let email = raw.trim().to_lowercase();
        if email.len() > 254 {
            return None;
        }
        let (local, domain) = email.split_once('@')?;
        let valid = email.parse::<lettre::Address>().is_ok()
            && local.len() <= 64
            && dot_atoms(local)
            && domain_name(domain);
        valid.then_some(Email(email))
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

/// Letters and digits (any script), and the symbols RFC 5322 allows unquoted.
fn is_atext(c: char) -> bool {
    c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c)
}

/// Atoms of `atext` separated by single dots, none empty.
fn dot_atoms(text: &str) -> bool {
    !text.is_empty()
        && text
            .split('.')
            .all(|atom| !atom.is_empty() && atom.chars().all(is_atext))
}

/// A domain name as DNS takes it: labels of letters, digits and inner hyphens.
fn domain_name(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |label: &&str| {
        !label.is_empty()
            && label.chars().count() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c.is_alphanumeric() || c == '-')
    };
    labels.len() >= 2
        && labels.iter().all(label_ok)
        && labels
            .last()
            .is_some_and(|tld| !tld.chars().all(|c| c.is_ascii_digit()))
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
    fn refuses_what_a_mail_system_would() {
        for refused in [
            "<script>alert(1)</script>@exemple.fr",
            "marie@-exemple.fr",
            "marie@exemple-.fr",
            "marie@exemple",
            "marie@exemple..fr",
            ".marie@exemple.fr",
            "marie.@exemple.fr",
            "ma..rie@exemple.fr",
            "\"marie\"@exemple.fr",
            "marie(dons)@exemple.fr",
            "marie@exemple.fr\u{0}",
            "marie@[127.0.0.1]",
            "marie@10.0.0.1",
            "ma rie@exemple.fr",
            "marie@exemple.fr@autre.fr",
        ] {
            assert!(Email::parse(refused).is_none(), "{refused}");
        }
        for accepted in [
            "o'brien@exemple.ie",
            "élodie@café.fr",
            "a_b-c+d@x-y.exemple.org",
        ] {
            assert!(Email::parse(accepted).is_some(), "{accepted}");
        }
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
