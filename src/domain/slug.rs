//! URL slugs (`le-sport-pour-grandir`): parsed once, so a bad one never reaches a query.

use std::fmt;

use serde::de::{Deserialize, Deserializer, Error};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slug(String);

impl Slug {
    pub const MAX_LEN: usize = 80;

    /// Lowercase ASCII letters, digits and single inner hyphens, at most 80 characters.
    pub fn parse(raw: &str) -> Option<Slug> {
        let valid_chars = raw
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        let well_formed = !raw.is_empty()
            && raw.len() <= Self::MAX_LEN
            && !raw.starts_with('-')
            && !raw.ends_with('-')
            && !raw.contains("--");
        (valid_chars && well_formed).then(|| Slug(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Through [`Slug::parse`], so that a path or field that is no slug is refused where it is read.
impl<'de> Deserialize<'de> for Slug {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Slug, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Slug::parse(&raw).ok_or_else(|| D::Error::custom("not a slug"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_slugs() {
        assert_eq!(Slug::parse("peps").unwrap().as_str(), "peps");
        assert!(Slug::parse("le-parlement-des-femmes-2026").is_some());
    }

    #[test]
    fn rejects_everything_else() {
        for bad in [
            "", "-a", "a-", "a--b", "Peps", "é", "a b", "a/b", "../x", "a_b", "%20",
        ] {
            assert!(Slug::parse(bad).is_none(), "{bad:?} should be rejected");
        }
        assert!(Slug::parse(&"a".repeat(81)).is_none());
        assert!(Slug::parse(&"a".repeat(80)).is_some());
    }

    #[test]
    fn deserializes_through_its_parse() {
        let slug: Slug = serde_json::from_str("\"peps\"").unwrap();
        assert_eq!(slug.as_str(), "peps");
        assert!(serde_json::from_str::<Slug>("\"Pas_Un_Slug\"").is_err());
    }
}
