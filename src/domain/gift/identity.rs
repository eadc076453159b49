//! Who gives: first and last name, and the email address the receipt goes to.

use super::text::{required, trimmed};
use crate::domain::email::Email;

pub const MAX_NAME: usize = 100;

pub fn first_name(field: &Option<String>) -> Result<String, String> {
    required(field, MAX_NAME, "votre prénom")
}

pub fn last_name(field: &Option<String>) -> Result<String, String> {
    required(field, MAX_NAME, "votre nom")
}

/// Missing and malformed addresses get different messages: the first says why we ask.
pub fn email(field: &Option<String>) -> Result<Email, String> {
    let typed = trimmed(field);
    Email::parse(&typed).ok_or_else(|| {
        if typed.is_empty() {
            "Indiquez votre adresse e-mail : nous y enverrons votre reçu.".to_owned()
        } else {
            "Cette adresse e-mail ne semble pas valide (exemple : marie@exemple.fr).".to_owned()
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_required() {
        assert_eq!(first_name(&Some(" Marie ".into())), Ok("Marie".to_owned()));
        assert_eq!(first_name(&None), Err("Indiquez votre prénom.".to_owned()));
        assert_eq!(
            last_name(&Some(String::new())),
            Err("Indiquez votre nom.".to_owned())
        );
    }

    #[test]
    fn an_email_is_asked_for_then_checked() {
        assert_eq!(
            email(&Some(" Marie@Exemple.fr ".into())).unwrap().as_str(),
            "marie@exemple.fr"
        );
        assert!(email(&None).unwrap_err().contains("reçu"));
        assert!(
            email(&Some("pas-un-email".into()))
                .unwrap_err()
                .contains("exemple")
        );
    }
}
