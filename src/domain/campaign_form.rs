//! A campaign as the team writes it in the back-office: what they typed (kept to fill the
//! form again) and what it means once checked, with a French message per wrong field.

use serde::Deserialize;

use super::amount::{AmountLimits, parse_amount};
use super::dates::DAY;
use super::frequency::Frequency;
use super::gift::FieldErrors;
use super::gift::text::CONTROL_CHARACTERS;
use super::slug::Slug;

/// The form, as typed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CampaignForm {
    pub project: Option<String>,
    pub title: Option<String>,
    pub slug: Option<String>,
    pub summary: Option<String>,
    pub story: Option<String>,
    pub goal: Option<String>,
    pub starts_on: Option<String>,
    pub ends_on: Option<String>,
    /// Suggested amounts in euros, separated by spaces or semicolons: `20 ; 50 ; 100`.
    pub amounts_once: Option<String>,
    pub amounts_monthly: Option<String>,
    pub amounts_yearly: Option<String>,
    /// One impact tier a line: `25 = un mois de sport pour un enfant`.
    pub tiers: Option<String>,
    pub position: Option<String>,
}

/// A campaign, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignDraft {
    pub project_id: i64,
    pub title: String,
    pub slug: Slug,
    pub summary: String,
    pub story: String,
    pub goal_cents: i64,
    pub starts_at: i64,
    pub ends_at: Option<i64>,
    pub amounts: Vec<(Frequency, i64)>,
    pub tiers: Vec<(i64, String)>,
    pub position: i64,
}

const MAX_TITLE: usize = 120;
const MAX_SUMMARY: usize = 300;
const MAX_STORY: usize = 20_000;
const MAX_LABEL: usize = 200;
/// Amounts offered per frequency at most (the form shows them as buttons).
const MAX_AMOUNTS: usize = 6;

/// Marks each field whose text holds a control character (line breaks and tabs aside, which
/// the longer texts take): PostgreSQL cannot store a NUL, and none belongs on a public page.
pub(super) fn refuse_control_characters(errors: &mut FieldErrors, fields: &[(&'static str, &str)]) {
    for (field, value) in fields {
        if value
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            errors.insert(field, CONTROL_CHARACTERS.to_owned());
        }
    }
}

pub(super) fn text(field: &Option<String>) -> String {
    field.as_deref().unwrap_or("").trim().to_owned()
}

/// `2026-12-01` as the start of that day (UTC).
pub fn day(raw: &str) -> Option<i64> {
    let mut parts = raw.trim().splitn(3, '-').map(|p| p.parse::<i64>().ok());
    let (Some(Some(year)), Some(Some(month)), Some(Some(day))) =
        (parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let month = time::Month::try_from(u8::try_from(month).ok()?).ok()?;
    let date =
        time::Date::from_calendar_date(i32::try_from(year).ok()?, month, u8::try_from(day).ok()?)
            .ok()?;
    Some(date.midnight().assume_utc().unix_timestamp())
}

/// A slug made from a title: `Le sport pour grandir !` → `le-sport-pour-grandir`.
pub fn slug_of(title: &str) -> String {
    let mut slug = String::new();
    for c in title.chars().flat_map(char::to_lowercase) {
        let plain = match c {
            'à' | 'â' | 'ä' | 'á' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'î' | 'ï' | 'í' => 'i',
            'ô' | 'ö' | 'ó' => 'o',
            'ù' | 'û' | 'ü' | 'ú' => 'u',
            'ç' => 'c',
            'ÿ' => 'y',
            'œ' => {
                slug.push_str("oe");
                continue;
            }
            'æ' => {
                slug.push_str("ae");
                continue;
            }
            c if c.is_ascii_alphanumeric() => c,
            _ => '-',
        };
        if plain != '-' || !slug.ends_with('-') {
            slug.push(plain);
        }
    }
    slug.trim_matches('-')
        .chars()
        .take(Slug::MAX_LEN)
        .collect::<String>()
        .trim_end_matches('-')
        .to_owned()
}

fn amounts(raw: &Option<String>) -> Result<Vec<i64>, String> {
    let limits = AmountLimits {
        min_cents: 100,
        max_cents: 10_000_000,
    };
    let typed = text(raw);
    let amounts: Vec<i64> = typed
        .split([';', ' '])
        .filter(|part| !part.trim().is_empty())
        .map(|part| parse_amount(part, limits))
        .collect::<Result<_, _>>()
        .map_err(|_| {
            "Des montants en euros séparés par des points-virgules, par exemple 20 ; 50 ; 100."
                .to_owned()
        })?;
    if amounts.len() > MAX_AMOUNTS {
        return Err(format!("{MAX_AMOUNTS} montants au plus."));
    }
    let mut distinct = amounts.clone();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() < amounts.len() {
        return Err("Chaque montant une seule fois.".to_owned());
    }
    Ok(amounts)
}

pub(super) fn tiers(raw: &Option<String>) -> Result<Vec<(i64, String)>, String> {
    let limits = AmountLimits {
        min_cents: 100,
        max_cents: 10_000_000,
    };
    let mut tiers = Vec::new();
    for line in text(raw).lines().filter(|l| !l.trim().is_empty()) {
        let wrong = || {
            format!(
                "« {} » : écrivez un montant, « = », puis ce qu’il finance (25 = un mois de sport).",
                line.trim()
            )
        };
        let (amount, label) = line.split_once('=').ok_or_else(wrong)?;
        let cents = parse_amount(amount, limits).map_err(|_| wrong())?;
        let label = label.trim();
        if label.is_empty() || label.chars().count() > MAX_LABEL {
            return Err(wrong());
        }
        tiers.push((cents, label.to_owned()));
    }
    tiers.sort();
    Ok(tiers)
}

impl CampaignForm {
    /// Checks every field against `projects` (the ids that exist).
    pub fn validate(&self, projects: &[i64]) -> Result<CampaignDraft, FieldErrors> {
        let mut errors = FieldErrors::new();
        let project_id = self
            .project
            .as_deref()
            .and_then(|p| p.parse::<i64>().ok())
            .filter(|id| projects.contains(id));
        if project_id.is_none() {
            errors.insert("project", "Choisissez le projet dans la liste.".to_owned());
        }
        let title = text(&self.title);
        if title.is_empty() || title.chars().count() > MAX_TITLE {
            errors.insert("title", format!("Un titre de 1 à {MAX_TITLE} caractères."));
        }
        let typed_slug = match text(&self.slug) {
            empty if empty.is_empty() => slug_of(&title),
            typed => typed,
        };
        let slug = Slug::parse(&typed_slug);
        if slug.is_none() {
            errors.insert(
                "slug",
                "L’adresse : des minuscules sans accents, des chiffres et des tirets (exemple : sport-ete-2027).".to_owned(),
            );
        }
        let summary = text(&self.summary);
        if summary.is_empty() || summary.chars().count() > MAX_SUMMARY {
            errors.insert(
                "summary",
                format!("Un résumé de 1 à {MAX_SUMMARY} caractères."),
            );
        }
        let story = text(&self.story);
        if story.chars().count() > MAX_STORY {
            errors.insert(
                "story",
                format!("Le récit tient en {MAX_STORY} caractères."),
            );
        }
        refuse_control_characters(
            &mut errors,
            &[
                ("title", &title),
                ("summary", &summary),
                ("story", &story),
                ("tiers", &text(&self.tiers)),
            ],
        );
        let goal = parse_amount(
            self.goal.as_deref().unwrap_or(""),
            AmountLimits {
                min_cents: 100,
                max_cents: 100_000_000_000,
            },
        );
        if goal.is_err() {
            errors.insert(
                "goal",
                "L’objectif en euros, par exemple 24 000.".to_owned(),
            );
        }
        let starts_at = day(self.starts_on.as_deref().unwrap_or(""));
        if starts_at.is_none() {
            errors.insert(
                "starts_on",
                "La date de début (exemple : 2026-12-01).".to_owned(),
            );
        }
        let ends_at = match text(&self.ends_on) {
            empty if empty.is_empty() => Ok(None),
            typed => day(&typed).map(|at| Some(at + DAY)).ok_or(()),
        };
        match (ends_at, starts_at) {
            (Err(()), _) => {
                errors.insert(
                    "ends_on",
                    "La date de fin, ou rien (exemple : 2027-03-31).".to_owned(),
                );
            }
            (Ok(Some(end)), Some(start)) if end <= start => {
                errors.insert("ends_on", "La fin vient après le début.".to_owned());
            }
            _ => {}
        }
        let mut offered = Vec::new();
        for (field, frequency, raw) in [
            ("amounts_once", Frequency::Once, &self.amounts_once),
            ("amounts_monthly", Frequency::Monthly, &self.amounts_monthly),
            ("amounts_yearly", Frequency::Yearly, &self.amounts_yearly),
        ] {
            match amounts(raw) {
                Ok(list) => offered.extend(list.into_iter().map(|cents| (frequency, cents))),
                Err(message) => {
                    errors.insert(field, message);
                }
            }
        }
        let tiers = tiers(&self.tiers).map_err(|m| errors.insert("tiers", m));
        let position = match text(&self.position) {
            empty if empty.is_empty() => Some(0),
            typed => typed
                .parse::<i64>()
                .ok()
                .filter(|p| (-1000..=1000).contains(p)),
        };
        if position.is_none() {
            errors.insert(
                "position",
                "Un nombre entier (les plus petits d’abord).".to_owned(),
            );
        }
        match (project_id, slug, goal, starts_at, ends_at, tiers, position) {
            (
                Some(project_id),
                Some(slug),
                Ok(goal_cents),
                Some(starts_at),
                Ok(ends_at),
                Ok(tiers),
                Some(position),
            ) if errors.is_empty() => Ok(CampaignDraft {
                project_id,
                title,
                slug,
                summary,
                story,
                goal_cents,
                starts_at,
                ends_at,
                amounts: offered,
                tiers,
                position,
            }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    fn form() -> CampaignForm {
        CampaignForm {
            project: Some("1".into()),
            title: Some("Été sportif : 2027 !".into()),
            slug: None,
            summary: Some("Un été de sport.".into()),
            story: Some("Premier paragraphe.\n\nSecond.".into()),
            goal: Some("24 000".into()),
            starts_on: Some("2027-06-01".into()),
            ends_on: Some("2027-08-31".into()),
            amounts_once: Some("20 ; 50 ; 100".into()),
            amounts_monthly: Some("10 20".into()),
            amounts_yearly: None,
            tiers: Some("60 = un équipement\n25 = un mois de sport\n".into()),
            position: Some("2".into()),
        }
    }

    /// `value` with `control` before its last character (past what parsing would refuse).
    pub(in crate::domain) fn within(value: &str, control: &str) -> String {
        let value = value.trim_end();
        let last = value.chars().last().map_or(0, char::len_utf8);
        let (head, tail) = value.split_at(value.len() - last);
        format!("{head}{control}{tail}")
    }

    #[test]
    fn a_nul_or_a_control_character_in_any_text_is_refused() {
        for control in ["\u{0}", "\u{7}", "\u{1b}[2J"] {
            for field in ["title", "summary", "story", "tiers"] {
                let mut form = form();
                let text = match field {
                    "title" => &mut form.title,
                    "summary" => &mut form.summary,
                    "story" => &mut form.story,
                    _ => &mut form.tiers,
                };
                *text = text.as_deref().map(|value| within(value, control));
                let errors = form.validate(&[1]).unwrap_err();
                assert_eq!(errors[field], CONTROL_CHARACTERS, "{field} {control:?}");
            }
        }
        // Line breaks and tabs belong in a story.
        let mut form = form();
        form.story = Some("Un.\r\n\tDeux.".into());
        assert!(form.validate(&[1]).is_ok());
    }

    #[test]
    fn a_complete_form_becomes_a_campaign_with_a_slug_from_its_title() {
        let draft = form().validate(&[1]).unwrap();
        assert_eq!(draft.slug.as_str(), "ete-sportif-2027");
        assert_eq!(draft.goal_cents, 2_400_000);
        assert_eq!(
            draft.ends_at,
            Some(day("2027-09-01").unwrap()),
            "the last day included"
        );
        assert_eq!(draft.amounts.len(), 5);
        assert_eq!(draft.tiers[0], (2_500, "un mois de sport".to_owned()));
        assert_eq!(draft.position, 2);
    }

    #[test]
    fn each_wrong_field_is_named() {
        let wrong = CampaignForm {
            project: Some("9".into()),
            slug: Some("Pas Une Adresse".into()),
            goal: Some("beaucoup".into()),
            ends_on: Some("2027-05-01".into()),
            amounts_once: Some("20 ; vingt".into()),
            tiers: Some("25 un mois".into()),
            ..form()
        };
        let errors = wrong.validate(&[1]).unwrap_err();
        assert_eq!(
            errors.keys().copied().collect::<Vec<_>>(),
            [
                "amounts_once",
                "ends_on",
                "goal",
                "project",
                "slug",
                "tiers"
            ]
        );
    }

    #[test]
    fn slugs_drop_accents_and_punctuation() {
        assert_eq!(
            slug_of("Le Parlement des femmes de Kara"),
            "le-parlement-des-femmes-de-kara"
        );
        assert_eq!(slug_of("  Œuvre — été  "), "oeuvre-ete");
    }
}
