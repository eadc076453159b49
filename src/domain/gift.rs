//! The donation form: what the donor typed (`GiftForm`, kept as is to re-fill the form) and
//! what it means once checked (`Gift`), with a French message per wrong field. Each field has
//! its own parser in a submodule (choice, identity, address, dedication, text); `validate`
//! runs them all and collects their messages.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::amount::AmountLimits;
use super::attribution::{self, Attribution};
pub use super::dedication::DedicationKind;
use super::frequency::Frequency;
use super::identity::DonorIdentity;

pub(crate) mod address;
mod choice;
mod dedication;
pub(crate) mod identity;
pub(crate) mod text;

pub use address::COUNTRIES;
use text::{checked, trimmed as text};

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
    /// Where the donor came from ([`Attribution`]), carried by the form's hidden fields.
    pub utm_source: Option<String>,
    pub utm_campaign: Option<String>,
    pub referrer: Option<String>,
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
    pub attribution: Attribution,
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

    /// The amount chosen among the suggestions of the form's frequency, or typed.
    fn amount(&self, limits: AmountLimits) -> Result<i64, String> {
        let ticked = self.ticked_for(self.frequency()).unwrap_or_default();
        choice::amount(&ticked, &text(&self.other_amount), limits)
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

    /// Every field through its own parser; each wrong field gets its French message.
    pub fn validate(&self, limits: AmountLimits) -> Result<Gift, FieldErrors> {
        let mut errors = FieldErrors::new();
        let mut check = |field: &'static str, message: String| {
            errors.insert(field, message);
        };
        let frequency =
            choice::frequency(self.frequency.as_deref()).map_err(|m| check("frequency", m));
        let amount_cents = self.amount(limits).map_err(|m| check("amount", m));
        let first_name = identity::first_name(&self.first_name).map_err(|m| check("first_name", m));
        let last_name = identity::last_name(&self.last_name).map_err(|m| check("last_name", m));
        let email = identity::email(&self.email).map_err(|m| check("email", m));
        let address_line1 =
            address::line1(&self.address_line1).map_err(|m| check("address_line1", m));
        let address_line2 =
            address::line2(&self.address_line2).map_err(|m| check("address_line2", m));
        let city = address::city(&self.city).map_err(|m| check("city", m));
        let country_code = address::country_code(&self.country);
        let country = address::country(&country_code).map_err(|m| check("country", m));
        let postal_code = address::postal_code(&self.postal_code, &country_code)
            .map_err(|m| check("postal_code", m));
        let dedication = dedication::dedication(&self.dedication_kind, &self.dedication_name)
            .map_err(|(field, m)| check(field, m));
        let (
            Ok(frequency),
            Ok(amount_cents),
            Ok(first_name),
            Ok(last_name),
            Ok(email),
            Ok(address_line1),
            Ok(address_line2),
            Ok(city),
            Ok(country),
            Ok(postal_code),
            Ok(dedication),
        ) = (
            frequency,
            amount_cents,
            first_name,
            last_name,
            email,
            address_line1,
            address_line2,
            city,
            country,
            postal_code,
            dedication,
        )
        else {
            return Err(errors);
        };
        Ok(Gift {
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
            attribution: Attribution {
                source: attribution::tag(self.utm_source.as_deref()),
                campaign: attribution::tag(self.utm_campaign.as_deref()),
                referrer: attribution::tag(self.referrer.as_deref()),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::text::CONTROL_CHARACTERS;
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
