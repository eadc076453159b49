//! Tax receipts (reçus fiscaux, CERFA n° 11580 model): their numbers, the gifts they may
//! cover, and everything they say, fixed once issued. A receipt is never edited: a refund
//! cancels it and a corrected one, with a new number, replaces it.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::amount_words::euros_in_words;
use super::dates;
use super::donation::PaymentMethod;
use super::money::{Currency, format_money};
use super::organisation::{CATEGORIES, Organisation};
use super::text_enum::text_enum;

text_enum! {
    pub enum ReceiptKind ("sorte de reçu") {
        /// One gift, right after it was confirmed.
        Single => "single",
        /// Every gift of a year not receipted yet (recurring gifts, and any other).
        Annual => "annual",
    }
}

text_enum! {
    pub enum ReceiptStatus ("statut de reçu") {
        Issued => "issued",
        /// Kept, never deleted: a refund or a correction replaced it.
        Cancelled => "cancelled",
    }
}

/// `2026-000123`: the year the receipt was issued, and its order in that year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ReceiptNumber {
    pub year: i32,
    pub sequence: i64,
}

impl fmt::Display for ReceiptNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{:06}", self.year, self.sequence)
    }
}

impl ReceiptNumber {
    /// `2026-000123` (also more than six digits, past the millionth receipt of a year).
    pub fn parse(raw: &str) -> Option<ReceiptNumber> {
        let (year, sequence) = raw.trim().split_once('-')?;
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if year.len() != 4 || !digits(year) || sequence.len() < 6 || !digits(sequence) {
            return None;
        }
        let number = ReceiptNumber {
            year: year.parse().ok()?,
            sequence: sequence.parse().ok()?,
        };
        (number.sequence > 0).then_some(number)
    }
}

/// A gift as a receipt counts it: what is left of it once refunds and disputes are taken out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceiptedGift {
    pub donation_id: i64,
    pub donated_at: i64,
    pub amount_cents: i64,
    pub method: PaymentMethod,
}

/// What a donation counts for on a receipt: the money kept.
pub fn kept_cents(amount_cents: i64, refunded_cents: i64, disputed_cents: i64) -> i64 {
    (amount_cents - refunded_cents - disputed_cents).max(0)
}

/// The CERFA's boxes for how the money came: « Remise d’espèces », « Chèque », « Virement,
/// prélèvement, carte bancaire »; those that apply, in that order.
pub fn payment_modes(methods: impl IntoIterator<Item = PaymentMethod>) -> String {
    let (mut cash, mut cheque, mut bank) = (false, false, false);
    for method in methods {
        match method {
            PaymentMethod::Cash => cash = true,
            PaymentMethod::Cheque => cheque = true,
            PaymentMethod::Card | PaymentMethod::SepaDebit | PaymentMethod::Transfer => {
                bank = true;
            }
        }
    }
    [
        (cash, "Remise d’espèces"),
        (cheque, "Chèque"),
        (bank, "Virement, prélèvement, carte bancaire"),
    ]
    .into_iter()
    .filter_map(|(applies, label)| applies.then_some(label))
    .collect::<Vec<_>>()
    .join(" ; ")
}

/// The donor as the receipt names them: as they gave it with their gift(s).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Donor {
    pub first_name: String,
    pub last_name: String,
    pub address_line1: String,
    pub address_line2: String,
    pub postal_code: String,
    pub city: String,
    pub country: String,
}

impl Donor {
    /// A receipt needs a postal address: without one it waits, and the supporter is asked.
    pub fn has_address(&self) -> bool {
        ![&self.address_line1, &self.postal_code, &self.city]
            .iter()
            .any(|field| field.trim().is_empty())
    }

    pub fn name(&self) -> String {
        format!("{} {}", self.first_name.trim(), self.last_name.trim())
    }

    pub fn address_lines(&self) -> Vec<String> {
        let mut lines = vec![self.address_line1.trim().to_owned()];
        if !self.address_line2.trim().is_empty() {
            lines.push(self.address_line2.trim().to_owned());
        }
        lines.push(format!("{} {}", self.postal_code.trim(), self.city.trim()));
        if !self.country.is_empty() && self.country != "FR" {
            lines.push(self.country.clone());
        }
        lines
    }
}

/// Everything a receipt says, fixed when it is issued (the organisation's settings and the
/// donor's address may change later; the receipt does not). Stored as JSON beside the
/// receipt; the PDF is made from it alone, so it can be made again byte for byte.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptContent {
    pub number: String,
    pub kind: String,
    pub replaces: Option<String>,
    pub organisation_name: String,
    pub organisation_address: Vec<String>,
    pub organisation_object: String,
    pub organisation_category: String,
    pub organisation_identifier: String,
    pub public_utility: bool,
    pub donor_name: String,
    pub donor_address: Vec<String>,
    pub amount_cents: i64,
    pub amount_figures: String,
    pub amount_words: String,
    pub gift_dates: String,
    pub form: String,
    pub nature: String,
    pub payment_methods: String,
    pub cgi_articles: Vec<String>,
    pub issued_on: String,
    pub signatory: String,
    /// The signature's picture (`/medias/…`, never replaced in place).
    pub signature_image: String,
    /// For an annual receipt: each gift's date and amount.
    pub gifts: Vec<(String, String)>,
}

/// The receipt's form (CERFA: acte authentique, acte sous seing privé, déclaration de don
/// manuel, autres): gifts made online or handed to the team are neither a deed nor a declared
/// manual gift.
pub const FORM: &str = "Autres";
/// Every gift Obole records is money.
pub const NATURE: &str = "Numéraire";

/// What an issue needs besides the gifts.
pub struct Issue<'a> {
    pub number: ReceiptNumber,
    pub kind: ReceiptKind,
    /// The tax year of the gifts.
    pub gift_year: i32,
    pub replaces: Option<ReceiptNumber>,
    pub organisation: &'a Organisation,
    pub donor: &'a Donor,
    pub issued_at: i64,
}

impl ReceiptContent {
    /// The content of a receipt for `gifts` (at least one, money kept on each).
    pub fn new(issue: &Issue<'_>, gifts: &[ReceiptedGift]) -> Option<ReceiptContent> {
        let total: i64 = gifts.iter().map(|g| g.amount_cents).sum();
        let amount_words = euros_in_words(total)?;
        let o = issue.organisation;
        let category = CATEGORIES
            .iter()
            .find(|(key, _)| *key == o.category)
            .map_or(o.category.as_str(), |(_, label)| label);
        let identifier = if o.siren.is_empty() {
            format!("RNA {}", o.rna)
        } else {
            format!(
                "SIREN {} {} {}",
                &o.siren[..3.min(o.siren.len())],
                o.siren.get(3..6).unwrap_or(""),
                o.siren.get(6..).unwrap_or("")
            )
        };
        let euros = |cents| format_money(cents, Currency::EUR);
        let gift_dates = match (issue.kind, gifts) {
            (ReceiptKind::Single, [gift]) => {
                format!("Date du versement : {}", dates::paris_date(gift.donated_at))
            }
            _ => format!(
                "Versements de l’année {} ({} don{})",
                issue.gift_year,
                gifts.len(),
                if gifts.len() > 1 { "s" } else { "" }
            ),
        };
        let mut by_date = gifts.to_vec();
        by_date.sort_by_key(|g| (g.donated_at, g.donation_id));
        Some(ReceiptContent {
            number: issue.number.to_string(),
            kind: issue.kind.as_str().to_owned(),
            replaces: issue.replaces.map(|n| n.to_string()),
            organisation_name: o.name.clone(),
            organisation_address: vec![
                o.address_line1.clone(),
                format!("{} {}", o.postal_code, o.city),
            ],
            organisation_object: o.object.clone(),
            organisation_category: category.to_owned(),
            organisation_identifier: identifier.trim_end().to_owned(),
            public_utility: o.public_utility == 1,
            donor_name: issue.donor.name(),
            donor_address: issue.donor.address_lines(),
            amount_cents: total,
            amount_figures: euros(total),
            amount_words,
            gift_dates,
            form: FORM.to_owned(),
            nature: NATURE.to_owned(),
            payment_methods: payment_modes(gifts.iter().map(|g| g.method)),
            cgi_articles: o
                .cgi_articles
                .split(',')
                .filter(|a| !a.is_empty())
                .map(str::to_owned)
                .collect(),
            issued_on: format!("Fait le {}", dates::paris_date(issue.issued_at)),
            signatory: format!("{}, {}", o.signatory_name, o.signatory_role),
            signature_image: o.signature_image.clone(),
            gifts: match issue.kind {
                ReceiptKind::Single => Vec::new(),
                ReceiptKind::Annual => by_date
                    .iter()
                    .map(|g| (dates::paris_date(g.donated_at), euros(g.amount_cents)))
                    .collect(),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_and_write_alike() {
        let number = ReceiptNumber {
            year: 2026,
            sequence: 123,
        };
        assert_eq!(number.to_string(), "2026-000123");
        assert_eq!(ReceiptNumber::parse(" 2026-000123 "), Some(number));
        let big = ReceiptNumber {
            year: 2026,
            sequence: 1_234_567,
        };
        assert_eq!(ReceiptNumber::parse(&big.to_string()), Some(big));
        for wrong in [
            "2026-123",
            "26-000123",
            "2026-000000",
            "2026-00012a",
            "",
            "2026000123",
        ] {
            assert_eq!(ReceiptNumber::parse(wrong), None, "{wrong}");
        }
    }

    #[test]
    fn the_money_kept_is_what_a_receipt_counts() {
        assert_eq!(kept_cents(10_000, 2_500, 0), 7_500);
        assert_eq!(kept_cents(10_000, 0, 10_000), 0);
        assert_eq!(kept_cents(10_000, 6_000, 6_000), 0, "never below nothing");
    }

    #[test]
    fn payment_modes_tick_the_cerfa_s_boxes() {
        use PaymentMethod::*;
        assert_eq!(
            payment_modes([Card, SepaDebit]),
            "Virement, prélèvement, carte bancaire"
        );
        assert_eq!(
            payment_modes([Cheque, Cash, Card, Cheque]),
            "Remise d’espèces ; Chèque ; Virement, prélèvement, carte bancaire"
        );
    }

    fn organisation() -> Organisation {
        Organisation {
            name: "Villages d’Enfants".into(),
            address_line1: "12 rue de l’Espérance".into(),
            postal_code: "75011".into(),
            city: "Paris".into(),
            object: "Protection de l’enfance".into(),
            category: "rup".into(),
            siren: "123456789".into(),
            cgi_articles: "200,238 bis".into(),
            signatory_name: "Claire Martin".into(),
            signatory_role: "présidente".into(),
            public_utility: 1,
            signature_image: "/medias/s.png".into(),
            ..Organisation::default()
        }
    }

    fn donor() -> Donor {
        Donor {
            first_name: "Marie".into(),
            last_name: "Dupont".into(),
            address_line1: "3 rue des Lilas".into(),
            postal_code: "69003".into(),
            city: "Lyon".into(),
            country: "FR".into(),
            ..Donor::default()
        }
    }

    #[test]
    fn a_single_receipt_says_the_gift_its_date_and_its_amount_in_words() {
        let organisation = organisation();
        let donor = donor();
        let issue = Issue {
            number: ReceiptNumber {
                year: 2026,
                sequence: 7,
            },
            kind: ReceiptKind::Single,
            gift_year: 2026,
            replaces: None,
            organisation: &organisation,
            donor: &donor,
            issued_at: 1_796_083_200, // 2026-12-01T00:00:00Z
        };
        let gift = ReceiptedGift {
            donation_id: 1,
            donated_at: 1_796_083_200 - 3_600, // 30 November, 23:00 UTC: 1 December in Paris
            amount_cents: 12_050,
            method: PaymentMethod::Card,
        };
        let content = ReceiptContent::new(&issue, &[gift]).unwrap();
        assert_eq!(content.number, "2026-000007");
        assert_eq!(
            content.amount_words,
            "cent vingt euros et cinquante centimes"
        );
        assert_eq!(content.gift_dates, "Date du versement : 1er décembre 2026");
        assert_eq!(content.organisation_identifier, "SIREN 123 456 789");
        assert_eq!(
            content.organisation_category,
            "Association ou fondation reconnue d’utilité publique"
        );
        assert_eq!(content.cgi_articles, ["200", "238 bis"]);
        assert_eq!(content.donor_address, ["3 rue des Lilas", "69003 Lyon"]);
        assert!(content.gifts.is_empty());
        assert_eq!(content.signatory, "Claire Martin, présidente");
    }

    #[test]
    fn an_annual_receipt_lists_its_gifts_by_date() {
        let organisation = organisation();
        let donor = donor();
        let issue = Issue {
            number: ReceiptNumber {
                year: 2027,
                sequence: 1,
            },
            kind: ReceiptKind::Annual,
            gift_year: 2026,
            replaces: Some(ReceiptNumber {
                year: 2027,
                sequence: 0,
            }),
            organisation: &organisation,
            donor: &donor,
            issued_at: 1_800_000_000,
        };
        let gifts: Vec<ReceiptedGift> = (0..12)
            .rev()
            .map(|month| ReceiptedGift {
                donation_id: month,
                donated_at: 1_767_225_600 + month * 2_629_800,
                amount_cents: 2_500,
                method: PaymentMethod::SepaDebit,
            })
            .collect();
        let content = ReceiptContent::new(&issue, &gifts).unwrap();
        assert_eq!(content.amount_cents, 30_000);
        assert_eq!(content.amount_words, "trois cents euros");
        assert_eq!(content.gift_dates, "Versements de l’année 2026 (12 dons)");
        assert_eq!(content.gifts.len(), 12);
        assert_eq!(content.gifts[0].0, "1er janvier 2026", "by date");
        assert_eq!(content.replaces.as_deref(), Some("2027-000000"));
        assert!(
            ReceiptContent::new(&issue, &[]).is_none(),
            "never for nothing"
        );
    }
}
