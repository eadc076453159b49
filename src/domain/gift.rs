//! The donation form: what the donor typed (`GiftForm`, kept as is to re-fill the form) and
//! what it means once checked (`Gift`), with a French message per wrong field.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::amount::{AmountLimits, parse_amount};
use super::email::Email;
use super::frequency::Frequency;
use super::identity::DonorIdentity;
use super::money::format_money;

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

const MAX_NAME: usize = 100;
const MAX_ADDRESS: usize = 200;
/// Control characters have no place on a tax receipt (and PostgreSQL cannot store a NUL).
const CONTROL_CHARACTERS: &str = "Ce champ contient des caractères non autorisés.";

/// The form as submitted: every field optional text, so no input is ever rejected before we
/// can say what is wrong with it.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct GiftForm {
    pub frequency: Option<String>,
    /// A suggested amount in cents, or `other`: what links and plain forms send.
    pub amount: Option<String>,
    /// The form offers its suggestions for every frequency at once, each group its own radio
    /// buttons, so that switching frequency keeps everything typed. Only the group of the
    /// chosen frequency counts.
    pub amount_once: Option<String>,
    pub amount_monthly: Option<String>,
    pub amount_yearly: Option<String>,
    pub other_amount: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub address_line1: Option<String>,
    pub address_line2: Option<String>,
    pub postal_code: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    /// `memory` or `honour`; empty for none.
    pub dedication_kind: Option<String>,
    pub dedication_name: Option<String>,
    pub show_publicly: Option<String>,
    pub news_consent: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DedicationKind {
    Memory,
    Honour,
}

impl DedicationKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            DedicationKind::Memory => "memory",
            DedicationKind::Honour => "honour",
        }
    }
}

/// A checked gift, ready to become a pledge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gift {
    pub frequency: Frequency,
    pub amount_cents: i64,
    pub donor: DonorIdentity,
    pub dedication: Option<(DedicationKind, String)>,
    pub show_publicly: bool,
    pub news_consent: bool,
}

/// French messages by field name.
pub type FieldErrors = BTreeMap<&'static str, String>;

impl GiftForm {
    /// The form for a first visit: a frequency, and an amount when a link gave one (else the
    /// page ticks its own suggestion).
    pub fn initial(frequency: Frequency, amount_cents: Option<i64>) -> GiftForm {
        GiftForm {
            frequency: Some(frequency.as_str().to_owned()),
            amount: amount_cents.map(|c| c.to_string()),
            country: Some("FR".to_owned()),
            ..GiftForm::default()
        }
    }

    pub fn frequency(&self) -> Frequency {
        self.frequency
            .as_deref()
            .and_then(Frequency::parse)
            .unwrap_or(Frequency::Once)
    }

    /// What is ticked among the suggestions of `frequency` (cents, or `other`), if anything.
    pub fn ticked_for(&self, frequency: Frequency) -> Option<String> {
        let group = match frequency {
            Frequency::Once => &self.amount_once,
            Frequency::Monthly => &self.amount_monthly,
            Frequency::Yearly => &self.amount_yearly,
        };
        let ticked = text(group);
        let ticked = if ticked.is_empty() && frequency == self.frequency() {
            text(&self.amount)
        } else {
            ticked
        };
        (!ticked.is_empty()).then_some(ticked)
    }

    /// Ticks `value` (cents, or `other`) among the suggestions of `frequency`.
    pub fn set_ticked(&mut self, frequency: Frequency, value: &str) {
        let group = match frequency {
            Frequency::Once => &mut self.amount_once,
            Frequency::Monthly => &mut self.amount_monthly,
            Frequency::Yearly => &mut self.amount_yearly,
        };
        *group = Some(value.to_owned());
    }

    /// The amount the donor chose, if it can be read (for the cost-after-tax preview).
    pub fn chosen_amount(&self, limits: AmountLimits) -> Option<i64> {
        self.amount(limits).ok()
    }

    /// The ticked choice decides: a suggested amount, or « Autre montant » and the free amount.
    /// The free amount alone (nothing ticked) counts too. A suggested amount ticked beside a
    /// different free amount (a browser without JavaScript, which cannot clear one when the
    /// other is chosen) is asked about, never guessed: the donor is charged what they meant.
    fn amount(&self, limits: AmountLimits) -> Result<i64, String> {
        let other = text(&self.other_amount);
        let free = || {
            if other.is_empty() {
                Err("Indiquez le montant de votre don.".to_owned())
            } else {
                parse_amount(&other, limits).map_err(|e| e.to_string())
            }
        };
        let ticked = self.ticked_for(self.frequency()).unwrap_or_default();
        if ticked.is_empty() || ticked == "other" {
            return free();
        }
        let Some(suggested) = ticked.parse::<i64>().ok().filter(|c| *c > 0) else {
            return Err("Choisissez l’un des montants proposés ou « Autre montant ».".to_owned());
        };
        let suggested = parse_amount(
            &format!("{},{:02}", suggested / 100, suggested % 100),
            limits,
        )
        .map_err(|e| e.to_string())?;
        match free() {
            _ if other.is_empty() => Ok(suggested),
            Ok(same) if same == suggested => Ok(suggested),
            _ => Err(format!(
                "Vous avez coché {} et saisi « {other} » : cochez « Autre montant » pour donner le \
                 montant saisi, ou effacez-le pour donner {}.",
                format_money(suggested, "EUR"),
                format_money(suggested, "EUR"),
            )),
        }
    }

    /// Whether a field holds U+FFFD, which form decoding puts in place of bytes that were not
    /// UTF-8: what the donor typed did not reach us intact.
    pub fn is_garbled(&self) -> bool {
        [
            &self.frequency,
            &self.amount,
            &self.amount_once,
            &self.amount_monthly,
            &self.amount_yearly,
            &self.other_amount,
            &self.first_name,
            &self.last_name,
            &self.email,
            &self.address_line1,
            &self.address_line2,
            &self.postal_code,
            &self.city,
            &self.country,
            &self.dedication_kind,
            &self.dedication_name,
            &self.show_publicly,
            &self.news_consent,
        ]
        .iter()
        .any(|field| {
            field
                .as_deref()
                .is_some_and(|v| v.contains(char::REPLACEMENT_CHARACTER))
        })
    }

    pub fn validate(&self, limits: AmountLimits) -> Result<Gift, FieldErrors> {
        let mut errors = FieldErrors::new();
        let frequency = match self.frequency.as_deref().map(str::trim) {
            None | Some("") => Some(Frequency::Once),
            Some(raw) => Frequency::parse(raw),
        };
        if frequency.is_none() {
            errors.insert(
                "frequency",
                "Choisissez la fréquence de votre don.".to_owned(),
            );
        }
        let amount_cents = self
            .amount(limits)
            .map_err(|message| errors.insert("amount", message))
            .ok();

        let first_name = required(
            &mut errors,
            "first_name",
            &self.first_name,
            MAX_NAME,
            "votre prénom",
        );
        let last_name = required(
            &mut errors,
            "last_name",
            &self.last_name,
            MAX_NAME,
            "votre nom",
        );
        let email = Email::parse(&text(&self.email));
        if email.is_none() {
            let message = if text(&self.email).is_empty() {
                "Indiquez votre adresse e-mail : nous y enverrons votre reçu."
            } else {
                "Cette adresse e-mail ne semble pas valide (exemple : marie@exemple.fr)."
            };
            errors.insert("email", message.to_owned());
        }
        let address_line1 = required(
            &mut errors,
            "address_line1",
            &self.address_line1,
            MAX_ADDRESS,
            "votre adresse",
        );
        let address_line2 = text(&self.address_line2);
        if address_line2.chars().count() > MAX_ADDRESS {
            errors.insert(
                "address_line2",
                "Ce complément d’adresse est trop long.".to_owned(),
            );
        } else if address_line2.chars().any(char::is_control) {
            errors.insert("address_line2", CONTROL_CHARACTERS.to_owned());
        }
        let city = required(&mut errors, "city", &self.city, MAX_NAME, "votre ville");
        let country = text(&self.country).to_uppercase();
        if !COUNTRIES.iter().any(|(code, _)| *code == country) {
            errors.insert("country", "Choisissez votre pays dans la liste.".to_owned());
        }
        let postal_code = text(&self.postal_code);
        let postal_ok = if country == "FR" || country == "MC" {
            postal_code.len() == 5 && postal_code.bytes().all(|b| b.is_ascii_digit())
        } else {
            !postal_code.is_empty()
                && postal_code.len() <= 12
                && postal_code
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '-')
        };
        if !postal_ok {
            let message = if postal_code.is_empty() {
                "Indiquez votre code postal."
            } else if country == "FR" || country == "MC" {
                "Le code postal doit compter 5 chiffres."
            } else {
                "Ce code postal ne semble pas valide."
            };
            errors.insert("postal_code", message.to_owned());
        }
        let dedication = match text(&self.dedication_kind).as_str() {
            "" | "none" if !text(&self.dedication_name).is_empty() => {
                // A name typed but no kind chosen: ask, rather than drop what was meant.
                errors.insert(
                    "dedication_kind",
                    "Vous avez indiqué un nom : choisissez « En mémoire de… » ou « En l’honneur de… », ou effacez le nom."
                        .to_owned(),
                );
                None
            }
            "" | "none" => None,
            kind @ ("memory" | "honour") => {
                let name = text(&self.dedication_name);
                if name.is_empty() || name.chars().count() > MAX_NAME {
                    errors.insert(
                        "dedication_name",
                        "Indiquez le nom de la personne à qui vous dédiez ce don (100 caractères au plus)."
                            .to_owned(),
                    );
                } else if name.chars().any(char::is_control) {
                    errors.insert("dedication_name", CONTROL_CHARACTERS.to_owned());
                }
                let kind = if kind == "memory" {
                    DedicationKind::Memory
                } else {
                    DedicationKind::Honour
                };
                Some((kind, name))
            }
            _ => {
                errors.insert(
                    "dedication_kind",
                    "Choisissez une dédicace dans la liste.".to_owned(),
                );
                None
            }
        };

        match (errors.is_empty(), frequency, amount_cents, email) {
            (true, Some(frequency), Some(amount_cents), Some(email)) => Ok(Gift {
                frequency,
                amount_cents,
                donor: DonorIdentity {
                    email,
                    first_name,
                    last_name,
                    address_line1,
                    address_line2,
                    postal_code,
                    city,
                    country,
                },
                dedication,
                show_publicly: checked(&self.show_publicly),
                news_consent: checked(&self.news_consent),
            }),
            _ => Err(errors),
        }
    }
}

fn text(field: &Option<String>) -> String {
    field.as_deref().unwrap_or("").trim().to_owned()
}

fn checked(field: &Option<String>) -> bool {
    matches!(field.as_deref(), Some("on" | "1" | "true" | "yes"))
}

fn required(
    errors: &mut FieldErrors,
    name: &'static str,
    field: &Option<String>,
    max: usize,
    what: &str,
) -> String {
    let value = text(field);
    if value.is_empty() {
        errors.insert(name, format!("Indiquez {what}."));
    } else if value.chars().count() > max {
        errors.insert(name, format!("Ce champ est limité à {max} caractères."));
    } else if value.chars().any(char::is_control) {
        errors.insert(name, CONTROL_CHARACTERS.to_owned());
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> GiftForm {
        GiftForm {
            frequency: Some("monthly".into()),
            amount: Some("2500".into()),
            other_amount: Some(String::new()),
            first_name: Some(" Marie ".into()),
            last_name: Some("Dupont".into()),
            email: Some("Marie@Exemple.fr".into()),
            address_line1: Some("3 rue des Lilas".into()),
            address_line2: None,
            postal_code: Some("69003".into()),
            city: Some("Lyon".into()),
            country: Some("FR".into()),
            dedication_kind: Some(String::new()),
            dedication_name: None,
            show_publicly: Some("on".into()),
            news_consent: None,
            ..GiftForm::default()
        }
    }

    #[test]
    fn a_complete_form_becomes_a_gift() {
        let gift = valid().validate(AmountLimits::default()).unwrap();
        assert_eq!(gift.frequency, Frequency::Monthly);
        assert_eq!(gift.amount_cents, 2_500);
        assert_eq!(gift.donor.first_name, "Marie");
        assert_eq!(gift.donor.email.as_str(), "marie@exemple.fr");
        assert!(
            gift.show_publicly && !gift.news_consent,
            "consent is never presumed"
        );
        assert_eq!(gift.dedication, None);
    }

    #[test]
    fn the_ticked_choice_decides_and_a_disagreement_is_asked_about() {
        let limits = AmountLimits::default();
        let with = |amount: &str, other: &str| GiftForm {
            amount: Some(amount.into()),
            other_amount: Some(other.into()),
            ..valid()
        };
        assert_eq!(
            with("other", "12,5").validate(limits).unwrap().amount_cents,
            1_250
        );
        assert_eq!(
            with("", "1 000").validate(limits).unwrap().amount_cents,
            100_000
        );
        assert_eq!(
            with("3000", "").validate(limits).unwrap().amount_cents,
            3_000
        );
        assert_eq!(
            with("3000", "30,00").validate(limits).unwrap().amount_cents,
            3_000
        );
        // 30 € ticked, 50 typed: which one? Never charge the wrong one.
        let errors = with("3000", "50").validate(limits).unwrap_err();
        let message = &errors["amount"];
        assert!(message.contains("30"), "{message}");
        assert!(message.contains("Autre montant"), "{message}");
        assert!(with("other", "").validate(limits).is_err());
        // Only the group of the chosen frequency counts.
        let monthly = GiftForm {
            frequency: Some("monthly".into()),
            amount_once: Some("5000".into()),
            amount_monthly: Some("2000".into()),
            other_amount: Some(String::new()),
            ..valid()
        };
        assert_eq!(monthly.validate(limits).unwrap().amount_cents, 2_000);
        assert!(with("-3000", "").validate(limits).is_err());
        assert!(with("abc", "").validate(limits).is_err());
    }

    #[test]
    fn every_wrong_field_gets_its_own_message() {
        let form = GiftForm {
            frequency: Some("weekly".into()),
            amount: Some("other".into()),
            other_amount: Some("abc".into()),
            first_name: Some(" ".into()),
            email: Some("pas-un-email".into()),
            postal_code: Some("6900".into()),
            country: Some("XX".into()),
            dedication_kind: Some("memory".into()),
            ..valid()
        };
        let errors = form.validate(AmountLimits::default()).unwrap_err();
        for field in [
            "frequency",
            "amount",
            "first_name",
            "email",
            "country",
            "dedication_name",
        ] {
            assert!(errors.contains_key(field), "{field}: {errors:?}");
        }
        assert!(!errors.contains_key("last_name"));
    }

    #[test]
    fn french_postal_codes_have_five_digits() {
        let form = GiftForm {
            postal_code: Some("6900".into()),
            ..valid()
        };
        let errors = form.validate(AmountLimits::default()).unwrap_err();
        assert_eq!(
            errors["postal_code"],
            "Le code postal doit compter 5 chiffres."
        );
        let abroad = GiftForm {
            postal_code: Some("B-1000".into()),
            country: Some("BE".into()),
            ..valid()
        };
        assert!(abroad.validate(AmountLimits::default()).is_ok());
    }

    #[test]
    fn a_dedication_needs_a_name() {
        let form = GiftForm {
            dedication_kind: Some("honour".into()),
            dedication_name: Some("Mamie Jeanne".into()),
            ..valid()
        };
        let gift = form.validate(AmountLimits::default()).unwrap();
        assert_eq!(
            gift.dedication,
            Some((DedicationKind::Honour, "Mamie Jeanne".to_owned()))
        );
    }

    #[test]
    fn a_dedication_name_without_a_kind_is_asked_about() {
        let form = GiftForm {
            dedication_kind: Some(String::new()),
            dedication_name: Some("Mamie Jeanne".into()),
            ..valid()
        };
        let errors = form.validate(AmountLimits::default()).unwrap_err();
        assert!(errors["dedication_kind"].contains("En mémoire de"));
    }

    #[test]
    fn control_characters_are_refused_in_every_free_text_field() {
        let form = GiftForm {
            address_line2: Some("Bât.\u{0}B".into()),
            dedication_kind: Some("memory".into()),
            dedication_name: Some("Jean\u{1b}ne".into()),
            city: Some("Ly\u{7}on".into()),
            ..valid()
        };
        let errors = form.validate(AmountLimits::default()).unwrap_err();
        for field in ["address_line2", "dedication_name", "city"] {
            assert_eq!(errors[field], CONTROL_CHARACTERS, "{field}");
        }
    }

    #[test]
    fn bytes_lost_in_decoding_are_noticed() {
        assert!(!valid().is_garbled());
        let form = GiftForm {
            news_consent: Some("o\u{FFFD}".into()),
            ..valid()
        };
        assert!(form.is_garbled());
    }

    #[test]
    fn an_empty_form_is_refused_without_panicking() {
        let errors = GiftForm::default()
            .validate(AmountLimits::default())
            .unwrap_err();
        assert!(errors.contains_key("amount") && errors.contains_key("email"));
    }
}
