//! How often a donor gives: once, every month, every year.

use super::text_enum::text_enum;

text_enum! {
    /// Stored on pledges, donations, recurring gifts and suggested amounts; sent by the form.
    #[derive(serde::Deserialize, serde::Serialize)]
    #[serde(rename_all = "lowercase")]
    pub enum Frequency ("fréquence") {
        Once => "once",
        Monthly => "monthly",
        Yearly => "yearly",
    }
}

impl Frequency {
    pub fn parse(raw: &str) -> Option<Frequency> {
        raw.parse().ok()
    }

    pub fn label(&self) -> &'static str {
        match self {
            Frequency::Once => "Une fois",
            Frequency::Monthly => "Chaque mois",
            Frequency::Yearly => "Chaque année",
        }
    }

    /// "par mois" after an amount; empty for a one-off gift.
    pub fn per(&self) -> &'static str {
        match self {
            Frequency::Once => "",
            Frequency::Monthly => "par mois",
            Frequency::Yearly => "par an",
        }
    }

    pub fn instalments_per_year(&self) -> i64 {
        match self {
            Frequency::Once | Frequency::Yearly => 1,
            Frequency::Monthly => 12,
        }
    }

    pub fn is_recurring(&self) -> bool {
        !matches!(self, Frequency::Once)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for &f in Frequency::ALL {
            assert_eq!(Frequency::parse(f.as_str()), Some(f));
        }
        assert_eq!(Frequency::parse("weekly"), None);
        assert!(Frequency::Monthly.is_recurring() && !Frequency::Once.is_recurring());
    }
}
