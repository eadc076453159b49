//! A project as the team writes it in the back-office: what they typed (kept to fill the form
//! again) and what it means once checked, with a French message per wrong field.

use serde::Deserialize;

use super::amount::{AmountLimits, parse_amount};
use super::campaign_form::{refuse_control_characters, slug_of, text, tiers};
use super::gift::FieldErrors;
use super::slug::Slug;

/// The form, as typed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ProjectForm {
    /// The short name the site uses everywhere (`PEPS`).
    pub name: Option<String>,
    /// What the short name stands for.
    pub full_name: Option<String>,
    pub slug: Option<String>,
    pub tagline: Option<String>,
    /// Markdown.
    pub description: Option<String>,
    pub location: Option<String>,
    /// What one person reached costs, in euros; with the label, the home page counts them.
    pub impact_unit: Option<String>,
    pub impact_unit_label: Option<String>,
    /// One impact tier a line: `25 = un mois de sport pour un enfant`.
    pub tiers: Option<String>,
}

/// A project, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectDraft {
    pub name: String,
    pub full_name: String,
    pub slug: Slug,
    pub tagline: String,
    pub description: String,
    pub location: String,
    pub impact_unit: Option<(i64, String)>,
    pub tiers: Vec<(i64, String)>,
}

const MAX_NAME: usize = 60;
const MAX_LINE: usize = 200;
const MAX_TAGLINE: usize = 300;
const MAX_DESCRIPTION: usize = 20_000;

/// `Err(message)` unless the text has 1 to `max` characters.
fn required(value: &str, max: usize, what: &str) -> Result<(), String> {
    if value.is_empty() || value.chars().count() > max {
        Err(format!("{what} de 1 à {max} caractères."))
    } else {
        Ok(())
    }
}

impl ProjectForm {
    pub fn validate(&self) -> Result<ProjectDraft, FieldErrors> {
        let mut errors = FieldErrors::new();
        let name = text(&self.name);
        let full_name = text(&self.full_name);
        let tagline = text(&self.tagline);
        let location = text(&self.location);
        for (field, value, max, what) in [
            ("name", &name, MAX_NAME, "Un nom court"),
            ("full_name", &full_name, MAX_LINE, "Un nom complet"),
            ("tagline", &tagline, MAX_TAGLINE, "Une phrase d’accroche"),
            ("location", &location, MAX_LINE, "Un lieu"),
        ] {
            if let Err(message) = required(value, max, what) {
                errors.insert(field, message);
            }
        }
        let typed_slug = match text(&self.slug) {
            empty if empty.is_empty() => slug_of(&name),
            typed => typed,
        };
        let slug = Slug::parse(&typed_slug);
        if slug.is_none() {
            errors.insert(
                "slug",
                "L’adresse : des minuscules sans accents, des chiffres et des tirets (exemple : peps).".to_owned(),
            );
        }
        let description = text(&self.description);
        if description.chars().count() > MAX_DESCRIPTION {
            errors.insert(
                "description",
                format!("La présentation tient en {MAX_DESCRIPTION} caractères."),
            );
        }
        let label = text(&self.impact_unit_label);
        let impact_unit = match (text(&self.impact_unit), label.is_empty()) {
            (cost, true) if cost.is_empty() => Ok(None),
            (cost, false) if !cost.is_empty() && label.chars().count() <= MAX_LINE => {
                let limits = AmountLimits {
                    min_cents: 100,
                    max_cents: 10_000_000,
                };
                parse_amount(&cost, limits)
                    .map(|cents| Some((cents, label.clone())))
                    .map_err(|_| ())
            }
            _ => Err(()),
        };
        if impact_unit.is_err() {
            errors.insert(
                "impact_unit",
                "Le coût d’une personne aidée en euros et ce que l’on compte (300 = enfants accompagnés pendant un an), ou rien des deux."
                    .to_owned(),
            );
        }
        refuse_control_characters(
            &mut errors,
            &[
                ("name", &name),
                ("full_name", &full_name),
                ("tagline", &tagline),
                ("location", &location),
                ("description", &description),
                ("impact_unit", &label),
                ("tiers", &text(&self.tiers)),
            ],
        );
        let tiers = tiers(&self.tiers).map_err(|m| errors.insert("tiers", m));
        match (slug, impact_unit, tiers) {
            (Some(slug), Ok(impact_unit), Ok(tiers)) if errors.is_empty() => Ok(ProjectDraft {
                name,
                full_name,
                slug,
                tagline,
                description,
                location,
                impact_unit,
                tiers,
            }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> ProjectForm {
        ProjectForm {
            name: Some("PEPS".into()),
            full_name: Some("Programme d’Épanouissement Par le Sport".into()),
            slug: None,
            tagline: Some("Le sport pour grandir.".into()),
            description: Some("Un **programme**.\n\n- foot\n- judo".into()),
            location: Some("France".into()),
            impact_unit: Some("300".into()),
            impact_unit_label: Some("enfants accompagnés pendant un an".into()),
            tiers: Some("25 = un mois de sport".into()),
        }
    }

    #[test]
    fn a_nul_or_a_control_character_in_any_text_is_refused() {
        use crate::domain::campaign_form::tests::within;
        use crate::domain::gift::text::CONTROL_CHARACTERS;

        for control in ["\u{0}", "\u{7}", "\u{1b}[2J"] {
            for (field, key) in [
                ("name", "name"),
                ("full_name", "full_name"),
                ("tagline", "tagline"),
                ("location", "location"),
                ("description", "description"),
                ("impact_unit_label", "impact_unit"),
                ("tiers", "tiers"),
            ] {
                let mut form = form();
                let text = match field {
                    "name" => &mut form.name,
                    "full_name" => &mut form.full_name,
                    "tagline" => &mut form.tagline,
                    "location" => &mut form.location,
                    "description" => &mut form.description,
                    "impact_unit_label" => &mut form.impact_unit_label,
                    _ => &mut form.tiers,
                };
                *text = text.as_deref().map(|value| within(value, control));
                let errors = form.validate().unwrap_err();
                assert_eq!(errors[key], CONTROL_CHARACTERS, "{field} {control:?}");
            }
        }
    }

    #[test]
    fn a_complete_form_becomes_a_project_with_a_slug_from_its_name() {
        let draft = form().validate().unwrap();
        assert_eq!(draft.slug.as_str(), "peps");
        assert_eq!(
            draft.impact_unit,
            Some((30_000, "enfants accompagnés pendant un an".to_owned()))
        );
        assert_eq!(draft.tiers, vec![(2_500, "un mois de sport".to_owned())]);
    }

    #[test]
    fn the_impact_unit_is_both_its_cost_and_its_label_or_neither() {
        let neither = ProjectForm {
            impact_unit: Some(" ".into()),
            impact_unit_label: None,
            ..form()
        };
        assert_eq!(neither.validate().unwrap().impact_unit, None);
        for (cost, label) in [("300", ""), ("", "enfants"), ("trois cents", "enfants")] {
            let half = ProjectForm {
                impact_unit: Some(cost.into()),
                impact_unit_label: Some(label.into()),
                ..form()
            };
            assert!(half.validate().unwrap_err().contains_key("impact_unit"));
        }
    }

    #[test]
    fn each_wrong_field_is_named() {
        let errors = ProjectForm {
            name: Some(" ".into()),
            full_name: Some("x".repeat(201)),
            slug: Some("Pas Bon".into()),
            tagline: None,
            description: Some("x".repeat(20_001)),
            location: None,
            impact_unit: None,
            impact_unit_label: None,
            tiers: Some("vingt-cinq euros".into()),
        }
        .validate()
        .unwrap_err();
        for field in [
            "name",
            "full_name",
            "slug",
            "tagline",
            "description",
            "location",
            "tiers",
        ] {
            assert!(errors.contains_key(field), "{field}: {errors:?}");
        }
    }
}
