//! How often a donor gives: once, every month, every year.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Frequency {
    Once,
    Monthly,
    Yearly,
}

impl Frequency {
    pub const ALL: [Frequency; 3] = [Frequency::Once, Frequency::Monthly, Frequency::Yearly];

    pub fn parse(raw: &str) -> Option<Frequency> {
        match raw {
            "once" => Some(Frequency::Once),
            "monthly" => Some(Frequency::Monthly),
            "yearly" => Some(Frequency::Yearly),
            _ => None,
        }
    }

    /// As stored and in forms.
    pub fn as_str(&self) -> &'static str {
        match self {
            Frequency::Once => "once",
            Frequency::Monthly => "monthly",
            Frequency::Yearly => "yearly",
        }
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
        for f in Frequency::ALL {
            assert_eq!(Frequency::parse(f.as_str()), Some(f));
        }
        assert_eq!(Frequency::parse("weekly"), None);
        assert!(Frequency::Monthly.is_recurring() && !Frequency::Once.is_recurring());
    }
}
