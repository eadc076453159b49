//! The profile a supporter edits in « Mon espace »: their name and postal address (what their
//! next tax receipts carry; earlier gifts keep the identity given with them, on their
//! pledges). The same rules and messages as the donation form.

use serde::Deserialize;

use super::gift::FieldErrors;
use super::gift::{address, identity};

/// What the supporter typed, kept as is to fill the form again.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ProfileForm {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub address_line1: Option<String>,
    pub address_line2: Option<String>,
    pub postal_code: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
}

/// A name and a postal address, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameAndAddress {
    pub first_name: String,
    pub last_name: String,
    pub address_line1: String,
    pub address_line2: String,
    pub postal_code: String,
    pub city: String,
    pub country: String,
}

impl ProfileForm {
    /// The form filled with what is stored.
    pub fn from_stored(stored: &NameAndAddress) -> ProfileForm {
        ProfileForm {
            first_name: Some(stored.first_name.clone()),
            last_name: Some(stored.last_name.clone()),
            address_line1: Some(stored.address_line1.clone()),
            address_line2: Some(stored.address_line2.clone()),
            postal_code: Some(stored.postal_code.clone()),
            city: Some(stored.city.clone()),
            country: Some(stored.country.clone()),
        }
    }

    /// Checks every field; a French message per wrong one.
    pub fn validate(&self) -> Result<NameAndAddress, FieldErrors> {
        let mut errors = FieldErrors::new();
        let mut check = |field: &'static str, result: Result<String, String>| match result {
            Ok(value) => value,
            Err(message) => {
                errors.insert(field, message);
                String::new()
            }
        };
        let country_code = address::country_code(&self.country);
        let checked = NameAndAddress {
            first_name: check("first_name", identity::first_name(&self.first_name)),
            last_name: check("last_name", identity::last_name(&self.last_name)),
            address_line1: check("address_line1", address::line1(&self.address_line1)),
            address_line2: check("address_line2", address::line2(&self.address_line2)),
            postal_code: check(
                "postal_code",
                address::postal_code(&self.postal_code, &country_code),
            ),
            city: check("city", address::city(&self.city)),
            country: check("country", address::country(&country_code)),
        };
        if errors.is_empty() {
            Ok(checked)
        } else {
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> ProfileForm {
        ProfileForm {
            first_name: Some(" Marie ".into()),
            last_name: Some("Curie".into()),
            address_line1: Some("1 rue des Écoles".into()),
            address_line2: None,
            postal_code: Some("75005".into()),
            city: Some("Paris".into()),
            country: Some("fr".into()),
        }
    }

    #[test]
    fn a_complete_profile_is_trimmed_and_its_country_in_capitals() {
        let checked = form().validate().unwrap();
        assert_eq!(checked.first_name, "Marie");
        assert_eq!(checked.country, "FR");
        assert_eq!(checked.address_line2, "");
    }

    #[test]
    fn each_wrong_field_gets_its_own_message() {
        let wrong = ProfileForm {
            first_name: Some("  ".into()),
            postal_code: Some(String::new()),
            country: Some("XX".into()),
            ..form()
        };
        let errors = wrong.validate().unwrap_err();
        assert_eq!(
            errors.keys().copied().collect::<Vec<_>>(),
            ["country", "first_name", "postal_code"]
        );
        assert!(errors["first_name"].contains("prénom"));
    }
}
