//! Email addresses as donors type them: trimmed, lowercased, plausibly deliverable.

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

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An address that does not pass [`Email::parse`] (the address itself is left out of the
/// message: it is personal data, and messages end up in logs).
#[derive(Debug, thiserror::Error)]
#[error("adresse e-mail invalide")]
pub struct InvalidEmail;

/// For addresses read back from the database, which were parsed when they were written.
impl TryFrom<String> for Email {
    type Error = InvalidEmail;

    fn try_from(raw: String) -> Result<Email, InvalidEmail> {
        Email::parse(&raw).ok_or(InvalidEmail)
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
