//! A gift dedicated in memory or in honour of someone, named.

use super::DedicationKind;
use super::identity::MAX_NAME;
use super::text::{CONTROL_CHARACTERS, trimmed};

/// The dedication chosen, if any. Its error names the field it belongs to: the kind, or the
/// name of the person.
pub fn dedication(
    kind: &Option<String>,
    name: &Option<String>,
) -> Result<Option<(DedicationKind, String)>, (&'static str, String)> {
    let name = trimmed(name);
    let kind = match trimmed(kind).as_str() {
        // A name typed but no kind chosen: ask, rather than drop what was meant.
        "" | "none" if !name.is_empty() => {
            return Err((
                "dedication_kind",
                "Vous avez indiqué un nom : choisissez « En mémoire de… » ou « En l’honneur de… », ou effacez le nom."
                    .to_owned(),
            ));
        }
        "" | "none" => return Ok(None),
        kind => kind.parse::<DedicationKind>().map_err(|_| {
            (
                "dedication_kind",
                "Choisissez une dédicace dans la liste.".to_owned(),
            )
        })?,
    };
    if name.is_empty() || name.chars().count() > MAX_NAME {
        Err((
            "dedication_name",
            "Indiquez le nom de la personne à qui vous dédiez ce don (100 caractères au plus)."
                .to_owned(),
        ))
    } else if name.chars().any(super::text::is_unfit) {
        Err(("dedication_name", CONTROL_CHARACTERS.to_owned()))
    } else {
        Ok(Some((kind, name)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn some(value: &str) -> Option<String> {
        Some(value.to_owned())
    }

    #[test]
    fn none_or_a_kind_with_a_name() {
        assert_eq!(dedication(&None, &None), Ok(None));
        assert_eq!(dedication(&some("none"), &some(" ")), Ok(None));
        assert_eq!(
            dedication(&some("memory"), &some(" Jeanne ")),
            Ok(Some((DedicationKind::Memory, "Jeanne".to_owned())))
        );
    }

    #[test]
    fn each_mistake_is_put_on_its_field() {
        let field = |kind: &str, name: &str| dedication(&some(kind), &some(name)).unwrap_err().0;
        assert_eq!(field("", "Jeanne"), "dedication_kind");
        assert_eq!(field("cousin", ""), "dedication_kind");
        assert_eq!(field("honour", ""), "dedication_name");
        assert_eq!(field("honour", &"a".repeat(101)), "dedication_name");
        assert_eq!(field("memory", "Jean\u{1b}ne"), "dedication_name");
    }
}
