//! Finding supporters by the start of their email or last name, as typed in the back-office.
//!
//! The database keeps both lowercased (`email_key`, `name_key`, migration 0026), compared by
//! code point on both backends, so « starts with `martin` » is the range
//! `['martin', 'martio')`, which their indexes serve: no scan of every supporter, no pattern
//! to escape.

/// What was typed, as the bounds of the keys that start with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prefix {
    pub from: String,
    pub until: String,
}

impl Prefix {
    /// `None` when nothing can start with it (only U+10FFFF, which no one types).
    pub fn of(typed: &str) -> Option<Prefix> {
        let from = typed.trim().to_lowercase();
        let until = successor(&from)?;
        Some(Prefix { from, until })
    }
}

/// The first string after every string that starts with `prefix`, by code point: its last
/// character that can be, moved to the next one.
fn successor(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = (u32::from(last) + 1..=u32::from(char::MAX)).find_map(char::from_u32);
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    // An empty prefix: everything starts with it.
    prefix.is_empty().then(|| char::MAX.to_string())
}

/// SQL: supporter `s`'s email or last name starts with the [`Prefix`] bound as parameters
/// `$n` (from) and `$n+1` (until).
pub fn matches(n: usize) -> String {
    format!(
        "((s.email_key >= ${n} AND s.email_key < ${m}) OR (s.name_key >= ${n} AND s.name_key < ${m}))",
        m = n + 1
    )
}

/// Like [`matches`], in terms no index serves: for a search that names many supporters,
/// whose page is found soonest by walking the donations newest first and keeping theirs.
/// Given the keys' indexes, SQLite would rather read every gift of every Martin and sort
/// them (120 ms at 1M donations, against 6 for the walk).
pub fn matches_unindexed(n: usize) -> String {
    format!(
        "(((s.email_key || '') >= ${n} AND (s.email_key || '') < ${m}) \
         OR ((s.name_key || '') >= ${n} AND (s.name_key || '') < ${m}))",
        m = n + 1
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prefix_is_the_range_of_what_starts_with_it() {
        let p = Prefix::of("  Martin ").unwrap();
        assert_eq!(p.from, "martin");
        assert_eq!(p.until, "martio");
        for key in [
            "martin",
            "martine",
            "martin@example.org",
            "martin\u{10ffff}",
        ] {
            assert!(p.from.as_str() <= key && key < p.until.as_str(), "{key}");
        }
        for key in ["marti", "martio", "marsin", "nartin"] {
            assert!(!(p.from.as_str() <= key && key < p.until.as_str()), "{key}");
        }
    }

    #[test]
    fn accents_and_the_last_characters_move_on_by_code_point() {
        assert_eq!(Prefix::of("Éloi").unwrap().until, "éloj");
        assert_eq!(successor("a\u{d7ff}").unwrap(), "a\u{e000}");
        assert_eq!(successor("a\u{10ffff}").unwrap(), "b");
        assert_eq!(successor("\u{10ffff}"), None);
        assert_eq!(Prefix::of("\u{10ffff}"), None);
    }
}
