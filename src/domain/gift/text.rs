//! Free text as donors type it: trimmed, required or not, bounded, without control characters.

/// Control characters have no place on a tax receipt (and PostgreSQL cannot store a NUL).
pub const CONTROL_CHARACTERS: &str = "Ce champ contient des caractères non autorisés.";

/// Characters no name or address of ours may hold: control characters, and those that turn
/// the text around or break its line where it is shown to others (bidirectional overrides
/// and isolates U+202A–U+202E, U+2066–U+2069; line and paragraph separators U+2028, U+2029):
/// a public name starting with U+202E would read backwards on the campaign page.
pub fn is_unfit(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{2028}' | '\u{2029}')
}

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
    } else if value.chars().any(is_unfit) {
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
    fn names_that_would_turn_around_or_break_on_a_page_are_refused() {
        for name in [
            "\u{202E}eivlyS",
            "Marie\u{2066}",
            "Ma\u{2028}rie",
            "Ma\u{2029}rie",
            "A\u{0}",
        ] {
            assert_eq!(
                required(&some(name), 100, "votre prénom"),
                Err(CONTROL_CHARACTERS.to_owned()),
                "{name:?}"
            );
        }
        assert!(required(&some("Zoé N’Diaye-Lefèvre"), 100, "votre prénom").is_ok());
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
