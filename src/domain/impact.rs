//! "Grâce à vous": how many people the money raised reaches, where a project knows the cost
//! of helping one.

/// People reached by a project: whole beneficiaries the money covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reach {
    pub count: i64,
    /// Plural label, e.g. `enfants accompagnés`.
    pub label: String,
}

/// `raised / cost of one`, floored; `None` when the project has no such figure.
pub fn reach(
    raised_cents: i64,
    unit_cents: Option<i64>,
    unit_label: Option<&str>,
) -> Option<Reach> {
    let unit = unit_cents.filter(|u| *u > 0)?;
    let label = unit_label.filter(|l| !l.trim().is_empty())?;
    Some(Reach {
        count: raised_cents.max(0) / unit,
        label: label.to_owned(),
    })
}

/// What one supporter's money for a project comes to, in one of its impact tiers: « 5 × un
/// équipement sportif complet ».
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Equivalent<'a> {
    pub times: i64,
    pub label: &'a str,
}

/// The tier `given_cents` is worth most plainly: the dearest one it pays for at least twice
/// (« 14 × un mois de sport », rather than 35 of the cheapest or 1 of the dearest), else
/// the dearest it pays for once; `None` below the cheapest. `tiers` are (cents, label).
pub fn equivalent(tiers: &[(i64, String)], given_cents: i64) -> Option<Equivalent<'_>> {
    let paid = |at_least: i64| {
        tiers
            .iter()
            .filter(|(cents, _)| *cents > 0 && given_cents / cents >= at_least)
            .max_by_key(|(cents, _)| *cents)
    };
    let (cents, label) = paid(2).or_else(|| paid(1))?;
    Some(Equivalent {
        times: given_cents / cents,
        label,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiers() -> Vec<(i64, String)> {
        [
            (1_000, "transport"),
            (2_500, "sport"),
            (6_000, "équipement"),
            (30_000, "année"),
        ]
        .iter()
        .map(|(c, l)| (*c, (*l).to_owned()))
        .collect()
    }

    #[test]
    fn the_dearest_tier_paid_at_least_twice_says_it_best() {
        let tiers = tiers();
        assert_eq!(
            equivalent(&tiers, 35_000),
            Some(Equivalent {
                times: 5,
                label: "équipement"
            })
        );
        assert_eq!(
            equivalent(&tiers, 5_000),
            Some(Equivalent {
                times: 2,
                label: "sport"
            })
        );
        // Paid once only: the dearest tier reached.
        assert_eq!(
            equivalent(&tiers, 1_500),
            Some(Equivalent {
                times: 1,
                label: "transport"
            })
        );
        assert_eq!(equivalent(&tiers, 999), None);
        assert_eq!(equivalent(&[], 10_000), None);
    }

    #[test]
    fn floors_to_whole_people() {
        let r = reach(95_000, Some(30_000), Some("enfants accompagnés")).unwrap();
        assert_eq!(r.count, 3);
        assert_eq!(r.label, "enfants accompagnés");
    }

    #[test]
    fn needs_both_figures() {
        assert_eq!(reach(95_000, None, Some("enfants")), None);
        assert_eq!(reach(95_000, Some(0), Some("enfants")), None);
        assert_eq!(reach(95_000, Some(100), None), None);
        assert_eq!(reach(-5, Some(100), Some("x")).unwrap().count, 0);
    }
}
