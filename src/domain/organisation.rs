//! The organisation as its tax receipts and legal pages describe it: checked as an admin
//! types it, and, for receipts, complete or not (with the missing fields named).

use serde::Deserialize;

use super::gift::FieldErrors;

/// The boxes of the CERFA n° 11580 receipt: which kind of body receives the gift.
pub const CATEGORIES: &[(&str, &str)] = &[
    (
        "rup",
        "Association ou fondation reconnue d’utilité publique",
    ),
    ("interet_general", "Œuvre ou organisme d’intérêt général"),
    ("fondation_entreprise", "Fondation d’entreprise"),
    ("fonds_dotation", "Fonds de dotation"),
    (
        "cultuelle",
        "Association cultuelle ou de bienfaisance autorisée à recevoir des legs",
    ),
    (
        "enseignement",
        "Établissement d’enseignement supérieur ou artistique d’intérêt général",
    ),
];

/// The articles of the Code général des impôts a receipt may certify under.
pub const CGI_ARTICLES: &[&str] = &["200", "238 bis", "978"];

/// The settings, as stored and as the form sends them (text fields; checkboxes as `Some`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, sqlx::FromRow)]
pub struct Organisation {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub address_line1: String,
    #[serde(default)]
    pub postal_code: String,
    #[serde(default)]
    pub city: String,
    #[serde(default)]
    pub object: String,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub siren: String,
    #[serde(default)]
    pub rna: String,
    /// `200,238 bis`.
    #[serde(default)]
    pub cgi_articles: String,
    #[serde(default)]
    pub signatory_name: String,
    #[serde(default)]
    pub signatory_role: String,
    #[serde(default)]
    pub publication_director: String,
    #[serde(default)]
    pub contact_email: String,
    #[serde(default)]
    pub host: String,
    #[serde(default)]
    pub public_utility: i64,
    /// The signature's picture (`/medias/…`): uploaded on its own, never from the text form.
    #[serde(skip_deserializing)]
    pub signature_image: String,
    /// The logo every page's header shows (`/medias/…`), uploaded like the signature; empty
    /// for the default mark.
    #[serde(skip_deserializing)]
    pub logo_image: String,
}

const MAX_TEXT: usize = 300;
const MAX_OBJECT: usize = 1_000;

impl Organisation {
    /// Trimmed, and checked field by field; empty fields are allowed (not filled in yet).
    pub fn checked(mut self) -> Result<Organisation, FieldErrors> {
        let mut errors = FieldErrors::new();
        for (field, value, max) in [
            ("name", &mut self.name, MAX_TEXT),
            ("address_line1", &mut self.address_line1, MAX_TEXT),
            ("postal_code", &mut self.postal_code, 12),
            ("city", &mut self.city, MAX_TEXT),
            ("object", &mut self.object, MAX_OBJECT),
            ("siren", &mut self.siren, 20),
            ("rna", &mut self.rna, 20),
            ("signatory_name", &mut self.signatory_name, MAX_TEXT),
            ("signatory_role", &mut self.signatory_role, MAX_TEXT),
            (
                "publication_director",
                &mut self.publication_director,
                MAX_TEXT,
            ),
            ("contact_email", &mut self.contact_email, MAX_TEXT),
            ("host", &mut self.host, MAX_TEXT),
        ] {
            *value = value.trim().to_owned();
            if value.chars().count() > max
                || value
                    .chars()
                    .any(|c| c.is_control() && c != '\n' && c != '\r')
            {
                errors.insert(
                    field,
                    format!("{max} caractères au plus, sans caractère de contrôle."),
                );
            }
        }
        self.siren = self.siren.replace(' ', "");
        let siren_ok = self.siren.len() == 9 && self.siren.bytes().all(|b| b.is_ascii_digit());
        if !self.siren.is_empty() && !siren_ok {
            errors.insert("siren", "Le SIREN compte 9 chiffres.".to_owned());
        }
        self.rna = self.rna.to_uppercase();
        let rna_ok = self.rna.len() == 10
            && self.rna.starts_with('W')
            && self.rna[1..].bytes().all(|b| b.is_ascii_alphanumeric());
        if !self.rna.is_empty() && !rna_ok {
            errors.insert(
                "rna",
                "Le numéro RNA : W suivi de 9 caractères (exemple : W751234567).".to_owned(),
            );
        }
        if !self.category.is_empty() && !CATEGORIES.iter().any(|(k, _)| *k == self.category) {
            errors.insert(
                "category",
                "Choisissez la catégorie dans la liste.".to_owned(),
            );
        }
        if !self.contact_email.is_empty()
            && super::email::Email::parse(&self.contact_email).is_none()
        {
            errors.insert(
                "contact_email",
                "Cette adresse e-mail ne semble pas valide.".to_owned(),
            );
        }
        let articles: Vec<&str> = self
            .cgi_articles
            .split(',')
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .collect();
        if articles.iter().any(|a| !CGI_ARTICLES.contains(a)) {
            errors.insert(
                "cgi_articles",
                "Cochez les articles dans la liste.".to_owned(),
            );
        }
        self.cgi_articles = articles.join(",");
        self.public_utility = i64::from(self.public_utility == 1);
        if errors.is_empty() {
            Ok(self)
        } else {
            Err(errors)
        }
    }

    /// What a tax receipt needs and is not filled in, in French, in the form's order.
    pub fn missing_for_receipts(&self) -> Vec<&'static str> {
        let mut missing = Vec::new();
        for (value, label) in [
            (&self.name, "le nom de l’organisme"),
            (&self.address_line1, "son adresse"),
            (&self.postal_code, "son code postal"),
            (&self.city, "sa ville"),
            (&self.object, "son objet"),
            (&self.category, "sa catégorie"),
            (&self.cgi_articles, "les articles du CGI"),
            (&self.signatory_name, "le nom du signataire"),
            (&self.signatory_role, "sa qualité"),
            (&self.signature_image, "l’image de sa signature"),
        ] {
            if value.is_empty() {
                missing.push(label);
            }
        }
        if self.siren.is_empty() && self.rna.is_empty() {
            missing.push("le SIREN ou le numéro RNA");
        }
        missing
    }

    pub fn has_article(&self, article: &str) -> bool {
        self.cgi_articles.split(',').any(|a| a == article)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn complete() -> Organisation {
        Organisation {
            name: " Villages d’Enfants ".into(),
            address_line1: "12 rue de l’Espérance".into(),
            postal_code: "75011".into(),
            city: "Paris".into(),
            object: "Protection de l’enfance".into(),
            category: "rup".into(),
            siren: "123 456 789".into(),
            rna: String::new(),
            cgi_articles: "200, 238 bis".into(),
            signatory_name: "Claire Martin".into(),
            signatory_role: "Présidente".into(),
            signature_image: "/medias/signature.png".into(),
            ..Organisation::default()
        }
    }

    #[test]
    fn a_complete_organisation_is_normalised_and_misses_nothing() {
        let checked = complete().checked().unwrap();
        assert_eq!(checked.name, "Villages d’Enfants");
        assert_eq!(checked.siren, "123456789");
        assert_eq!(checked.cgi_articles, "200,238 bis");
        assert!(checked.has_article("238 bis") && !checked.has_article("978"));
        assert!(checked.missing_for_receipts().is_empty());
    }

    #[test]
    fn wrong_identifiers_are_named_and_missing_fields_listed() {
        let wrong = Organisation {
            siren: "12345".into(),
            rna: "X123".into(),
            category: "secte".into(),
            cgi_articles: "201".into(),
            ..complete()
        };
        let errors = wrong.checked().unwrap_err();
        assert_eq!(
            errors.keys().copied().collect::<Vec<_>>(),
            ["category", "cgi_articles", "rna", "siren"]
        );
        let empty = Organisation::default();
        let missing = empty.missing_for_receipts();
        assert_eq!(missing.first(), Some(&"le nom de l’organisme"));
        assert_eq!(missing.last(), Some(&"le SIREN ou le numéro RNA"));
    }
}
