//! French amounts in words, for the "somme en toutes lettres" line of tax receipts (reçus fiscaux).
//!
//! Spelling follows the traditional (pre-1990) rules throughout, so that every receipt is written
//! the same way:
//! - hyphens only between tens and units below one hundred ("dix-sept", "quatre-vingt-dix-neuf"),
//!   never around "cent", "mille", "million" or "et";
//! - "et" joins *un* to vingt…soixante and *onze* to soixante ("vingt et un", "soixante et onze"),
//!   but not after quatre-vingt ("quatre-vingt-un", "quatre-vingt-onze");
//! - "vingt" (of quatre-vingts) and "cent" take an s when multiplied and ending the number, or
//!   followed by a noun such as "million" ("quatre-vingts", "deux cents", "deux cents millions"),
//!   and stay singular before another numeral or "mille" ("deux cent un", "quatre-vingt mille");
//! - "mille" is invariable and never preceded by "un"; "million", "milliard"… are nouns and agree
//!   ("un million", "deux millions"); a currency right after such a noun takes "d'"
//!   ("un million d'euros").

/// Largest amount accepted by [`euros_in_words`], in cents: 1 000 000 000,00 € ("un milliard
/// d'euros"). Far above any donation; the cap only keeps receipts within tested wording.
pub const MAX_CENTS: i64 = 100_000_000_000;

// Indexed by value; French has a single word for every number up to sixteen.
const UNITS: [&str; 17] = [
    "zéro", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf", "dix", "onze",
    "douze", "treize", "quatorze", "quinze", "seize",
];

// Indexed by the tens digit; seventy and ninety have no word of their own in France
// (no "septante"/"nonante"), they are built on soixante and quatre-vingt.
const TENS: [&str; 7] = [
    "",
    "dix",
    "vingt",
    "trente",
    "quarante",
    "cinquante",
    "soixante",
];

// Long scale, as used in France: above the million each name is a thousand times the previous one.
// Indexed by rank of the three-digit group minus two; u64 stops within the trillions.
const SCALE_NOUNS: [&str; 5] = ["million", "milliard", "billion", "billiard", "trillion"];

/// `12050` → "cent vingt euros et cinquante centimes".
///
/// Returns `None` for amounts a receipt cannot carry: zero (a receipt is never for nothing),
/// negative amounts, and anything above [`MAX_CENTS`].
///
/// Other forms: 1 → "un centime", 50 → "cinquante centimes", 100 → "un euro",
/// 150 → "un euro et cinquante centimes", 100 000 000 → "un million d'euros",
/// 100 000 100 → "un million un euros".
#[must_use]
pub fn euros_in_words(cents: i64) -> Option<String> {
    if !(1..=MAX_CENTS).contains(&cents) {
        return None;
    }
    let cents = u64::try_from(cents).ok()?;
    let (euros, centimes) = (cents / 100, cents % 100);

    let mut parts = Vec::with_capacity(2);
    // Below one euro only the centimes are said: "cinquante centimes", never "zéro euro et …".
    if euros > 0 {
        let currency = if euros % 1_000_000 == 0 {
            // After a noun (million, milliard) the currency is a complement: "un million d'euros";
            // any numeral after the noun makes it an adjective again: "un million cent euros".
            "d'euros"
        } else if euros > 1 {
            // Plural from two upwards, even after a compound ending in "un": "un million un euros".
            "euros"
        } else {
            "euro"
        };
        parts.push(format!("{} {currency}", number_in_words(euros)));
    }
    if centimes > 0 {
        let currency = if centimes > 1 { "centimes" } else { "centime" };
        parts.push(format!("{} {currency}", number_in_words(centimes)));
    }
    Some(parts.join(" et "))
}

/// The integer in words, 0 → "zéro", 80 → "quatre-vingts".
///
/// Total over `u64`: numbers are read in three-digit groups, each followed by "mille" or by
/// one of the nouns million, milliard, billion, billiard, trillion.
#[must_use]
pub fn number_in_words(n: u64) -> String {
    if n == 0 {
        return UNITS[0].to_owned();
    }
    let mut groups = Vec::with_capacity(7);
    let mut rest = n;
    while rest > 0 {
        // Below 1000, so the conversion to an index cannot truncate.
        groups.push((rest % 1000) as usize);
        rest /= 1000;
    }

    let mut words = Vec::with_capacity(groups.len());
    for (rank, &group) in groups.iter().enumerate().rev() {
        if group == 0 {
            continue;
        }
        match rank {
            0 => words.push(below_1000(group, true)),
            // "mille", never "un mille".
            1 if group == 1 => words.push("mille".to_owned()),
            // mille is an invariable adjective, so the group before it is not the end of the
            // number and stays singular: "quatre-vingt mille", "deux cent mille".
            1 => words.push(format!("{} mille", below_1000(group, false))),
            _ => {
                // million… are nouns: they agree in number, and the group before them ends the
                // numeral, hence "quatre-vingts millions", "deux cents millions".
                let noun = SCALE_NOUNS[rank - 2];
                let plural = if group > 1 { "s" } else { "" };
                words.push(format!("{} {noun}{plural}", below_1000(group, true)));
            }
        }
    }
    words.join(" ")
}

/// `n` in 1..=999; `ends` is true when no numeral follows the group (end of number or a noun).
fn below_1000(n: usize, ends: bool) -> String {
    let (hundreds, rest) = (n / 100, n % 100);
    // Hundreds and the rest are separate words: "cent un", never "cent-un" (pre-1990).
    let tail = if rest == 0 {
        String::new()
    } else {
        format!(" {}", below_100(rest, ends))
    };
    match hundreds {
        0 => below_100(rest, ends),
        // "cent", never "un cent".
        1 => format!("cent{tail}"),
        // cent takes an s only when multiplied and ending: "deux cents", "deux cent un".
        h => {
            let plural = if rest == 0 && ends { "s" } else { "" };
            format!("{} cent{plural}{tail}", UNITS[h])
        }
    }
}

/// `n` in 1..=99, the only part of a number that takes hyphens.
fn below_100(n: usize, ends: bool) -> String {
    let (tens, units) = match n {
        0..=16 => return UNITS[n].to_owned(),
        17..=19 => return format!("dix-{}", UNITS[n - 10]),
        20..=69 => (TENS[n / 10], n % 10),
        // Seventies continue the sixties: "soixante-dix", "soixante et onze", "soixante-dix-sept".
        70..=79 => ("soixante", n - 60),
        // The vingt of quatre-vingts takes an s only when it ends the number.
        80 if ends => return "quatre-vingts".to_owned(),
        80 => return "quatre-vingt".to_owned(),
        // No "et" after quatre-vingt: "quatre-vingt-un", "quatre-vingt-onze".
        _ => return format!("quatre-vingt-{}", below_100(n - 80, ends)),
    };
    match units {
        0 => tens.to_owned(),
        // "et", unhyphenated, joins un (21…61) and onze (71): "vingt et un", "soixante et onze".
        1 | 11 => format!("{tens} et {}", UNITS[units]),
        _ => format!("{tens}-{}", below_100(units, ends)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashSet;

    const HARD_CASES: &[(u64, &str)] = &[
        (0, "zéro"),
        (1, "un"),
        (2, "deux"),
        (10, "dix"),
        (11, "onze"),
        (16, "seize"),
        (17, "dix-sept"),
        (19, "dix-neuf"),
        (20, "vingt"),
        (21, "vingt et un"),
        (22, "vingt-deux"),
        (30, "trente"),
        (31, "trente et un"),
        (41, "quarante et un"),
        (51, "cinquante et un"),
        (60, "soixante"),
        (61, "soixante et un"),
        (69, "soixante-neuf"),
        (70, "soixante-dix"),
        (71, "soixante et onze"),
        (72, "soixante-douze"),
        (77, "soixante-dix-sept"),
        (79, "soixante-dix-neuf"),
        (80, "quatre-vingts"),
        (81, "quatre-vingt-un"),
        (82, "quatre-vingt-deux"),
        (89, "quatre-vingt-neuf"),
        (90, "quatre-vingt-dix"),
        (91, "quatre-vingt-onze"),
        (97, "quatre-vingt-dix-sept"),
        (99, "quatre-vingt-dix-neuf"),
        (100, "cent"),
        (101, "cent un"),
        (111, "cent onze"),
        (121, "cent vingt et un"),
        (171, "cent soixante et onze"),
        (180, "cent quatre-vingts"),
        (181, "cent quatre-vingt-un"),
        (200, "deux cents"),
        (201, "deux cent un"),
        (280, "deux cent quatre-vingts"),
        (300, "trois cents"),
        (399, "trois cent quatre-vingt-dix-neuf"),
        (999, "neuf cent quatre-vingt-dix-neuf"),
        (1000, "mille"),
        (1001, "mille un"),
        (1080, "mille quatre-vingts"),
        (1100, "mille cent"),
        (1200, "mille deux cents"),
        (1980, "mille neuf cent quatre-vingts"),
        (2000, "deux mille"),
        (2001, "deux mille un"),
        (10_000, "dix mille"),
        (21_000, "vingt et un mille"),
        (71_000, "soixante et onze mille"),
        (80_000, "quatre-vingt mille"),
        (80_080, "quatre-vingt mille quatre-vingts"),
        (81_000, "quatre-vingt-un mille"),
        (100_000, "cent mille"),
        (200_000, "deux cent mille"),
        (201_000, "deux cent un mille"),
        (280_000, "deux cent quatre-vingt mille"),
        (
            999_999,
            "neuf cent quatre-vingt-dix-neuf mille neuf cent quatre-vingt-dix-neuf",
        ),
        (1_000_000, "un million"),
        (1_000_001, "un million un"),
        (1_000_100, "un million cent"),
        (1_001_000, "un million mille"),
        (2_000_000, "deux millions"),
        (21_000_000, "vingt et un millions"),
        (80_000_000, "quatre-vingts millions"),
        (200_000_000, "deux cents millions"),
        (201_000_000, "deux cent un millions"),
        (
            999_999_999,
            "neuf cent quatre-vingt-dix-neuf millions neuf cent quatre-vingt-dix-neuf mille \
             neuf cent quatre-vingt-dix-neuf",
        ),
        (1_000_000_000, "un milliard"),
        (2_500_000_000, "deux milliards cinq cents millions"),
        (
            u64::MAX,
            "dix-huit trillions quatre cent quarante-six billiards sept cent quarante-quatre \
             billions soixante-treize milliards sept cent neuf millions cinq cent cinquante et \
             un mille six cent quinze",
        ),
    ];

    const EURO_CASES: &[(i64, &str)] = &[
        (1, "un centime"),
        (2, "deux centimes"),
        (50, "cinquante centimes"),
        (99, "quatre-vingt-dix-neuf centimes"),
        (100, "un euro"),
        (101, "un euro et un centime"),
        (150, "un euro et cinquante centimes"),
        (200, "deux euros"),
        (2_100, "vingt et un euros"),
        (2_121, "vingt et un euros et vingt et un centimes"),
        (8_000, "quatre-vingts euros"),
        (8_080, "quatre-vingts euros et quatre-vingts centimes"),
        (12_000, "cent vingt euros"),
        (12_050, "cent vingt euros et cinquante centimes"),
        (100_000, "mille euros"),
        (8_000_000, "quatre-vingt mille euros"),
        (20_000_000, "deux cent mille euros"),
        (100_000_000, "un million d'euros"),
        (100_000_001, "un million d'euros et un centime"),
        (100_000_100, "un million un euros"),
        (100_010_000, "un million cent euros"),
        (200_000_001, "deux millions d'euros et un centime"),
        (
            99_999_999_999,
            "neuf cent quatre-vingt-dix-neuf millions neuf cent quatre-vingt-dix-neuf mille \
             neuf cent quatre-vingt-dix-neuf euros et quatre-vingt-dix-neuf centimes",
        ),
        (100_000_000_000, "un milliard d'euros"),
    ];

    // --- Oracle: reads French words back, token by token, by summing and multiplying. ---

    fn word_value(word: &str) -> Option<u64> {
        Some(match word {
            "un" => 1,
            "deux" => 2,
            "trois" => 3,
            "quatre" => 4,
            "cinq" => 5,
            "six" => 6,
            "sept" => 7,
            "huit" => 8,
            "neuf" => 9,
            "dix" => 10,
            "onze" => 11,
            "douze" => 12,
            "treize" => 13,
            "quatorze" => 14,
            "quinze" => 15,
            "seize" => 16,
            "vingt" => 20,
            "trente" => 30,
            "quarante" => 40,
            "cinquante" => 50,
            "soixante" => 60,
            _ => return None,
        })
    }

    fn scale_value(word: &str) -> Option<u64> {
        Some(match word {
            "million" | "millions" => 1_000_000,
            "milliard" | "milliards" => 1_000_000_000,
            "billion" | "billions" => 1_000_000_000_000,
            "billiard" | "billiards" => 1_000_000_000_000_000,
            "trillion" | "trillions" => 1_000_000_000_000_000_000,
            _ => return None,
        })
    }

    fn parse_number(text: &str) -> Option<u64> {
        if text == "zéro" {
            return Some(0);
        }
        // total: closed thousands and scales; hundreds and small: the open group.
        let (mut total, mut hundreds, mut small) = (0u64, 0u64, 0u64);
        let mut prev = "";
        for token in text.split([' ', '-']) {
            match token {
                "et" => {}
                "vingt" | "vingts" if prev == "quatre" => small += 80 - 4,
                "vingts" => return None,
                "cent" | "cents" => {
                    if hundreds != 0 || small >= 10 {
                        return None;
                    }
                    hundreds = small.max(1) * 100;
                    small = 0;
                }
                "mille" => {
                    total = total.checked_add((hundreds + small).max(1) * 1000)?;
                    (hundreds, small) = (0, 0);
                }
                _ => match scale_value(token) {
                    Some(scale) => {
                        let count = hundreds + small;
                        if count == 0 {
                            return None;
                        }
                        total = total.checked_add(count.checked_mul(scale)?)?;
                        (hundreds, small) = (0, 0);
                    }
                    None => small += word_value(token)?,
                },
            }
            prev = token;
        }
        total.checked_add(hundreds + small)
    }

    /// Splits an amount into its euro and centime phrases (empty when absent).
    fn split_amount(text: &str) -> Option<(String, String)> {
        let words: Vec<&str> = text.split(' ').collect();
        let currency = words
            .iter()
            .position(|w| matches!(*w, "euro" | "euros" | "d'euros"));
        let (euros, rest) = match currency {
            Some(i) if i > 0 => (words[..i].join(" "), &words[i + 1..]),
            Some(_) => return None,
            None => (String::new(), &words[..]),
        };
        let centimes = match (currency, rest) {
            (Some(_), []) => String::new(),
            (Some(_), ["et", middle @ .., "centime" | "centimes"])
            | (None, [middle @ .., "centime" | "centimes"])
                if !middle.is_empty() =>
            {
                middle.join(" ")
            }
            _ => return None,
        };
        Some((euros, centimes))
    }

    fn parse_euros(text: &str) -> Option<i64> {
        let (euros, centimes) = split_amount(text)?;
        let euros = if euros.is_empty() {
            0
        } else {
            parse_number(&euros)?
        };
        let centimes = if centimes.is_empty() {
            0
        } else {
            parse_number(&centimes)?
        };
        if centimes >= 100 {
            return None;
        }
        i64::try_from(euros.checked_mul(100)?.checked_add(centimes)?).ok()
    }

    // --- Spelling rules, checked on the words alone. ---

    const ET_TENS: [&str; 5] = ["vingt", "trente", "quarante", "cinquante", "soixante"];
    const MULTIPLIERS: [&str; 8] = [
        "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf",
    ];
    const HYPHENABLE: [&str; 22] = [
        "un",
        "deux",
        "trois",
        "quatre",
        "cinq",
        "six",
        "sept",
        "huit",
        "neuf",
        "dix",
        "onze",
        "douze",
        "treize",
        "quatorze",
        "quinze",
        "seize",
        "vingt",
        "vingts",
        "trente",
        "quarante",
        "cinquante",
        "soixante",
    ];

    fn is_scale_noun(word: &str) -> bool {
        scale_value(word).is_some()
    }

    fn check_spelling(text: &str) -> Result<(), String> {
        if text == "zéro" {
            return Ok(());
        }
        let words: Vec<&str> = text.split(' ').collect();
        for (i, &word) in words.iter().enumerate() {
            let fail = |rule: &str| Err(format!("{text:?}: word {i} {word:?}: {rule}"));
            let prev = i.checked_sub(1).map(|j| words[j]);
            let before_prev = i.checked_sub(2).map(|j| words[j]);
            let next = words.get(i + 1).copied();
            // A numeral "ends" at the end of the number or before a noun such as million.
            let ends = next.is_none_or(is_scale_noun);
            let parts: Vec<&str> = word.split('-').collect();

            if word.is_empty() {
                return fail("empty word (double, leading or trailing space)");
            }
            if word == "zéro" {
                return fail("zéro inside a number");
            }
            if parts.len() > 1 && !parts.iter().all(|p| HYPHENABLE.contains(p)) {
                return fail("hyphen outside the 1..99 part");
            }
            for (k, part) in parts.iter().enumerate() {
                let after_quatre = k > 0 && parts[k - 1] == "quatre";
                if *part == "vingts" && (k + 1 != parts.len() || !after_quatre) {
                    return fail("vingts only as the end of quatre-vingts");
                }
                let missing_et = (*part == "un"
                    && k > 0
                    && ET_TENS.contains(&parts[k - 1])
                    && !(parts[k - 1] == "vingt" && k > 1 && parts[k - 2] == "quatre"))
                    || (*part == "onze" && k > 0 && parts[k - 1] == "soixante");
                if missing_et {
                    return fail("needs \"et\" instead of a hyphen");
                }
            }
            if (word == "cents" || word.ends_with("vingts")) && !ends {
                return fail("plural cents/vingts only when ending");
            }
            if word == "quatre-vingt" && ends {
                return fail("quatre-vingts ending the number needs its s");
            }
            if word == "cent" && ends && prev.is_some_and(|p| MULTIPLIERS.contains(&p)) {
                return fail("multiplied cent ending the number needs its s");
            }
            if word == "cents" && !prev.is_some_and(|p| MULTIPLIERS.contains(&p)) {
                return fail("cents only when multiplied");
            }
            if word == "cent" && prev == Some("un") {
                return fail("\"cent\", not \"un cent\"");
            }
            if word == "et" {
                let joins = match (prev, next) {
                    (Some(p), Some("un")) => ET_TENS.contains(&p),
                    (Some("soixante"), Some("onze")) => true,
                    _ => false,
                };
                if !joins {
                    return fail("et only before un/onze after vingt..soixante");
                }
            }
            if word == "mille"
                && prev == Some("un")
                && !matches!(before_prev, Some("et" | "cent" | "cents"))
            {
                return fail("\"mille\", not \"un mille\"");
            }
            if word == "milles" {
                return fail("mille is invariable");
            }
            if is_scale_noun(word) {
                // Nouns agree: singular only for a group of exactly one ("un million", but
                // "vingt et un millions", "cent un millions").
                let one = prev == Some("un") && before_prev.is_none_or(is_scale_noun);
                if one == word.ends_with('s') {
                    return fail("million… agrees with its count");
                }
            }
        }
        Ok(())
    }

    #[test]
    fn hard_cases() {
        for &(n, expected) in HARD_CASES {
            assert_eq!(number_in_words(n), expected, "{n}");
        }
        assert!(HARD_CASES.len() >= 60);
    }

    #[test]
    fn euro_forms() {
        for &(cents, expected) in EURO_CASES {
            assert_eq!(euros_in_words(cents).as_deref(), Some(expected), "{cents}");
        }
    }

    #[test]
    fn rejects_amounts_no_receipt_can_carry() {
        for cents in [0, -1, -100, i64::MIN, MAX_CENTS + 1, i64::MAX] {
            assert_eq!(euros_in_words(cents), None, "{cents}");
        }
    }

    #[test]
    fn oracle_reads_hard_cases_and_rejects_nonsense() {
        for &(n, text) in HARD_CASES {
            assert_eq!(parse_number(text), Some(n), "{text}");
        }
        for &(cents, text) in EURO_CASES {
            assert_eq!(parse_euros(text), Some(cents), "{text}");
        }
        for text in ["", "un  deux", "cent cent", "euros", "deux trucs", "milles"] {
            assert_eq!(parse_number(text), None, "{text:?}");
        }
        for text in [
            "euros",
            "un euro cinq centimes",
            "un euro et",
            "cent centimes",
        ] {
            assert_eq!(parse_euros(text), None, "{text:?}");
        }
    }

    #[test]
    fn spelling_checker_catches_each_rule() {
        let wrong = [
            "quatre-vingt",
            "deux cent",
            "deux cent millions",
            "quatre-vingt millions",
            "quatre-vingts-un",
            "quatre-vingts mille",
            "deux cents mille",
            "deux cents un",
            "cents",
            "vingts",
            "vingt-et-un",
            "vingt-un",
            "soixante-onze",
            "quatre-vingt et un",
            "quatre-vingt-dix et un",
            "trente et deux",
            "un mille",
            "un million un mille",
            "un cent",
            "cent-un",
            "deux-cents",
            "mille-deux",
            "deux milles",
            "deux million",
            "un millions",
            "vingt et un million",
            "million",
            "vingt  deux",
            " un",
            "un ",
            "cent zéro",
        ];
        for text in wrong {
            assert!(check_spelling(text).is_err(), "{text:?} passed");
        }
        for &(_, text) in HARD_CASES {
            assert_eq!(check_spelling(text), Ok(()));
        }
    }

    #[test]
    fn exhaustive_up_to_ten_thousand() {
        let mut seen = HashSet::new();
        for n in 0..=10_000u64 {
            let text = number_in_words(n);
            assert_eq!(parse_number(&text), Some(n), "{n} → {text}");
            assert_eq!(check_spelling(&text), Ok(()), "{n}");
            // No noun (million) below 10 000, so plurals must be on the very last word.
            let words: Vec<&str> = text.split(' ').collect();
            for word in &words[..words.len() - 1] {
                assert!(
                    !word.ends_with("cents") && !word.ends_with("vingts"),
                    "{n} → {text}"
                );
            }
            assert!(seen.insert(text), "{n} duplicates an earlier output");
        }
    }

    fn any_receipt_split() -> impl Strategy<Value = i64> {
        // Uniform draws almost never hit round or tiny euro amounts, so those are mixed in.
        let euros = prop_oneof![
            0i64..=1_000_000,
            0i64..=120,
            prop::sample::select(vec![
                0, 1, 2, 80, 100, 200, 1000, 80_000, 200_000, 1_000_000
            ]),
        ];
        (euros, 0i64..100)
            .prop_map(|(e, c)| e * 100 + c)
            .prop_filter(
                "receipts start at 0,01 € and stop at 1 000 000 €",
                |&c| (1..=100_000_000).contains(&c),
            )
    }

    fn check_receipt(cents: i64) -> Result<(), TestCaseError> {
        let text = euros_in_words(cents);
        prop_assert!(text.is_some(), "{} gave None", cents);
        let text = text.unwrap_or_default();
        prop_assert_eq!(parse_euros(&text), Some(cents), "{}", text);

        let (euros, centimes) = (cents / 100, cents % 100);
        let words: Vec<&str> = text.split(' ').collect();
        prop_assert_eq!(words.contains(&"centimes"), centimes > 1, "{}", text);
        prop_assert_eq!(words.contains(&"centime"), centimes == 1, "{}", text);
        let plural_euros = words.contains(&"euros") || words.contains(&"d'euros");
        prop_assert_eq!(plural_euros, euros > 1, "{}", text);
        prop_assert_eq!(words.contains(&"euro"), euros == 1, "{}", text);
        prop_assert_eq!(
            words.contains(&"d'euros"),
            euros > 0 && euros % 1_000_000 == 0,
            "{}",
            text
        );

        let split = split_amount(&text);
        prop_assert!(split.is_some(), "{}", text);
        let (euro_words, centime_words) = split.unwrap_or_default();
        for phrase in [euro_words, centime_words] {
            if !phrase.is_empty() {
                prop_assert!(phrase != "zéro", "{}", text);
                prop_assert_eq!(check_spelling(&phrase), Ok(()));
            }
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]

        #[test]
        fn receipts_read_back_uniform(cents in 1i64..=100_000_000) {
            check_receipt(cents)?;
        }

        #[test]
        fn receipts_read_back_edges(cents in any_receipt_split()) {
            check_receipt(cents)?;
        }

        #[test]
        fn any_integer_reads_back_and_is_well_spelled(n in any::<u64>()) {
            let text = number_in_words(n);
            prop_assert_eq!(parse_number(&text), Some(n), "{}", text);
            prop_assert_eq!(check_spelling(&text), Ok(()));
        }

        #[test]
        fn round_groups_read_back(group in 1u64..1000, rank in 0u32..7) {
            // Round numbers are where plurals and "un mille" go wrong.
            let n = group.checked_mul(1000u64.pow(rank));
            prop_assume!(n.is_some());
            let n = n.unwrap_or_default();
            let text = number_in_words(n);
            prop_assert_eq!(parse_number(&text), Some(n), "{}", text);
            prop_assert_eq!(check_spelling(&text), Ok(()));
        }

        #[test]
        fn out_of_range_is_refused(
            cents in prop_oneof![i64::MIN..=0, (MAX_CENTS + 1)..=i64::MAX]
        ) {
            prop_assert_eq!(euros_in_words(cents), None);
        }
    }
}
