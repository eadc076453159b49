//! Free text as donors type it: trimmed, required or not, bounded, without control characters.

/// Control characters have no place on a tax receipt (and PostgreSQL cannot store a NUL).
pub const CONTROL_CHARACTERS: &str = "Ce champ contient des caractères non autorisés.";

/// A field as sent, trimmed; a missing field reads as empty.
pub fn trimmed(field: &Option<String>) -> String {
    field.as_deref().unwrap_or("").trim().to_owned()
}

/// A text the form cannot do without: `what` completes « Indiquez … » when it is empty.
pub fn required(field: &Option<String>, max: usize, what: &str) -> Result<String, String> {
    let value = trimmed(field);
    if value.is_empty() {
        Err(format!("Indiquez {what}."))
    } else if value.chars().count() > max {
        Err(format!("Ce champ est limité à {max} caractères."))
    } else if value.chars().any(char::is_control) {
        Err(CONTROL_CHARACTERS.to_owned())
    } else {
        Ok(value)
    }
}

/// A tick box: browsers send `on` when it is ticked and nothing when it is not.
pub fn checked(field: &Option<String>) -> bool {
    matches!(field.as_deref(), Some("on" | "1" | "true" | "yes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn some(value: &str) -> Option<String> {
        Some(value.to_owned())
    }

    #[test]
    fn a_required_text_is_trimmed_and_bounded() {
        assert_eq!(
            required(&some(" Marie "), 100, "votre prénom"),
            Ok("Marie".to_owned())
        );
        assert_eq!(
            required(&some("  "), 100, "votre prénom"),
            Err("Indiquez votre prénom.".to_owned())
        );
        assert_eq!(
            required(&None, 100, "votre ville"),
            Err("Indiquez votre ville.".to_owned())
        );
        assert_eq!(
            required(&some(&"é".repeat(101)), 100, "votre nom"),
            Err("Ce champ est limité à 100 caractères.".to_owned())
        );
        assert!(required(&some(&"é".repeat(100)), 100, "votre nom").is_ok());
        assert_eq!(
            required(&some("Ly\u{7}on"), 100, "votre ville"),
            Err(CONTROL_CHARACTERS.to_owned())
        );
    }

    #[test]
    fn consent_is_never_presumed() {
        assert!(checked(&some("on")) && checked(&some("1")));
        assert!(!checked(&None) && !checked(&some("")) && !checked(&some("off")));
    }
}
