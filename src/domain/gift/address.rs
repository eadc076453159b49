//! The postal address the tax receipt is made out to.

use super::identity::MAX_NAME;
use super::text::{CONTROL_CHARACTERS, required, trimmed};

/// Countries offered for the postal address (ISO 3166-1 alpha-2, French name).
pub const COUNTRIES: &[(&str, &str)] = &[
    ("FR", "France"),
    ("BE", "Belgique"),
    ("CH", "Suisse"),
    ("LU", "Luxembourg"),
    ("MC", "Monaco"),
    ("DE", "Allemagne"),
    ("ES", "Espagne"),
    ("IT", "Italie"),
    ("PT", "Portugal"),
    ("NL", "Pays-Bas"),
    ("GB", "Royaume-Uni"),
    ("IE", "Irlande"),
    ("CA", "Canada"),
    ("US", "États-Unis"),
    ("TG", "Togo"),
    ("BJ", "Bénin"),
    ("CI", "Côte d'Ivoire"),
    ("SN", "Sénégal"),
    ("BF", "Burkina Faso"),
    ("ML", "Mali"),
    ("CM", "Cameroun"),
    ("MA", "Maroc"),
    ("TN", "Tunisie"),
    ("DZ", "Algérie"),
];

const MAX_ADDRESS: usize = 200;

pub fn line1(field: &Option<String>) -> Result<String, String> {
    required(field, MAX_ADDRESS, "votre adresse")
}

/// The address's second line may stay empty.
pub fn line2(field: &Option<String>) -> Result<String, String> {
    let value = trimmed(field);
    if value.chars().count() > MAX_ADDRESS {
        Err("Ce complément d’adresse est trop long.".to_owned())
    } else if value.chars().any(super::text::is_unfit) {
        Err(CONTROL_CHARACTERS.to_owned())
    } else {
        Ok(value)
    }
}

pub fn city(field: &Option<String>) -> Result<String, String> {
    required(field, MAX_NAME, "votre ville")
}

/// The country's code as sent, in capitals: the postal code is checked against it even when
/// it is not one of ours.
pub fn country_code(field: &Option<String>) -> String {
    trimmed(field).to_uppercase()
}

/// One of [`COUNTRIES`].
pub fn country(code: &str) -> Result<String, String> {
    if COUNTRIES.iter().any(|(known, _)| *known == code) {
        Ok(code.to_owned())
    } else {
        Err("Choisissez votre pays dans la liste.".to_owned())
    }
}

/// Five digits in France and Monaco; elsewhere letters, digits, spaces and hyphens.
pub fn postal_code(field: &Option<String>, country: &str) -> Result<String, String> {
    let value = trimmed(field);
    let french = country == "FR" || country == "MC";
    let well_formed = if french {
        value.len() == 5 && value.bytes().all(|b| b.is_ascii_digit())
    } else {
        !value.is_empty()
            && value.len() <= 12
            && value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '-')
    };
    if well_formed {
        Ok(value)
    } else if value.is_empty() {
        Err("Indiquez votre code postal.".to_owned())
    } else if french {
        Err("Le code postal doit compter 5 chiffres.".to_owned())
    } else {
        Err("Ce code postal ne semble pas valide.".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn some(value: &str) -> Option<String> {
        Some(value.to_owned())
    }

    #[test]
    fn the_second_line_is_optional_but_bounded() {
        assert_eq!(line2(&None), Ok(String::new()));
        assert!(
            line2(&some(&"a".repeat(201)))
                .unwrap_err()
                .contains("trop long")
        );
        assert_eq!(
            line2(&some("Bât.\u{0}B")),
            Err(CONTROL_CHARACTERS.to_owned())
        );
        assert_eq!(line1(&None), Err("Indiquez votre adresse.".to_owned()));
    }

    #[test]
    fn countries_come_from_the_list() {
        assert_eq!(country_code(&some(" be ")), "BE");
        assert_eq!(country("BE"), Ok("BE".to_owned()));
        assert!(country("XX").is_err() && country("").is_err());
    }

    #[test]
    fn postal_codes_follow_the_country() {
        assert_eq!(postal_code(&some("69003"), "FR"), Ok("69003".to_owned()));
        assert_eq!(
            postal_code(&some("6900"), "MC"),
            Err("Le code postal doit compter 5 chiffres.".to_owned())
        );
        assert_eq!(postal_code(&some("B-1000"), "BE"), Ok("B-1000".to_owned()));
        assert_eq!(
            postal_code(&some("1000/2"), "BE"),
            Err("Ce code postal ne semble pas valide.".to_owned())
        );
        assert_eq!(
            postal_code(&None, "XX"),
            Err("Indiquez votre code postal.".to_owned())
        );
    }
}
