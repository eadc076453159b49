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

#[cfg(test)]
mod tests {
    use super::*;

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
