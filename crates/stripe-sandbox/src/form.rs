//! Stripe's request encoding: `application/x-www-form-urlencoded` with bracketed keys
//! (`line_items[0][price_data][currency]=eur`), read into a flat list of key paths.
//!
//! Hand-written rather than `serde_qs`: the sandbox does not deserialize a request into one
//! struct per endpoint; it asks questions of it (is anything under `pause_collection` set?
//! the `metadata` map, a list in index order with `expand[]` items after, the last of
//! repeated values) and answers each missing or bad parameter with Stripe's own error naming
//! that parameter, which a serde error does not give. Splitting the keys is the whole job,
//! and these few lines cover both literal and percent-encoded brackets.

use std::collections::BTreeMap;

/// A decoded form body; keys are split into their bracketed segments.
#[derive(Debug, Default, Clone)]
pub struct Form {
    fields: Vec<(Vec<String>, String)>,
}

impl Form {
    /// Accepts what async-stripe sends (literal brackets, `+` for spaces) and the
    /// percent-encoded brackets browsers send; duplicates keep the last value.
    pub fn parse(body: &str) -> Form {
        let fields = url::form_urlencoded::parse(body.as_bytes())
            .map(|(key, value)| (split_key(&key), value.into_owned()))
            .filter(|(path, _)| !path.is_empty())
            .collect();
        Form { fields }
    }

    /// The value at `path` (`["line_items", "0", "quantity"]`), the last one if repeated.
    pub fn get(&self, path: &[&str]) -> Option<&str> {
        self.fields
            .iter()
            .rev()
            .find(|(key, _)| key.iter().map(String::as_str).eq(path.iter().copied()))
            .map(|(_, value)| value.as_str())
    }

    /// Whether any key starts with `prefix` (e.g. a `pause_collection[behavior]` under
    /// `pause_collection`, or `pause_collection` itself).
    pub fn has(&self, prefix: &[&str]) -> bool {
        self.fields.iter().any(|(key, _)| starts_with(key, prefix))
    }

    /// The string map directly under `prefix` (`metadata[k]=v` → `{k: v}`).
    pub fn map(&self, prefix: &[&str]) -> BTreeMap<String, String> {
        self.fields
            .iter()
            .filter(|(key, _)| key.len() == prefix.len() + 1 && starts_with(key, prefix))
            .map(|(key, value)| (key[prefix.len()].clone(), value.clone()))
            .collect()
    }

    /// The values of an indexed list (`allowed_payment_method_types[0]=card&…[1]=…`),
    /// in index order; unindexed ones (`expand[]=…`) follow, in their order.
    pub fn list(&self, prefix: &[&str]) -> Vec<String> {
        let mut items: Vec<(usize, String)> = self
            .fields
            .iter()
            .filter(|(key, _)| key.len() == prefix.len() + 1 && starts_with(key, prefix))
            .filter_map(|(key, value)| {
                let index = match key[prefix.len()].as_str() {
                    "" => usize::MAX,
                    index => index.parse().ok()?,
                };
                Some((index, value.clone()))
            })
            .collect();
        items.sort_by_key(|(index, _)| *index);
        items.into_iter().map(|(_, value)| value).collect()
    }
}

fn starts_with(key: &[String], prefix: &[&str]) -> bool {
    key.len() >= prefix.len() && key.iter().zip(prefix).all(|(a, b)| a == b)
}

/// `a[b][c]` → `["a", "b", "c"]`; `a[]` keeps an empty segment.
fn split_key(key: &str) -> Vec<String> {
    let (head, mut rest) = match key.find('[') {
        Some(i) => (&key[..i], &key[i..]),
        None => (key, ""),
    };
    let mut path = vec![head.to_owned()];
    while let Some(stripped) = rest.strip_prefix('[') {
        match stripped.find(']') {
            Some(end) => {
                path.push(stripped[..end].to_owned());
                rest = &stripped[end + 1..];
            }
            None => {
                // An unclosed bracket is not a segment: keep it as part of the key.
                path.push(stripped.to_owned());
                break;
            }
        }
    }
    if path.len() == 1 && path[0].is_empty() {
        return Vec::new();
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    const CREATE: &str = "allowed_payment_method_types[0]=card&allowed_payment_method_types[1]=sepa_debit\
        &cancel_url=http://h/don&customer_email=a@b.fr&line_items[0][price_data][currency]=eur\
        &line_items[0][price_data][product_data][name]=Don+mensuel\
        &line_items[0][price_data][recurring][interval]=month\
        &line_items[0][price_data][unit_amount]=1500&line_items[0][quantity]=1\
        &metadata[donation_id]=42&mode=subscription&subscription_data[metadata][donation_id]=42\
        &success_url=http://h/merci?session_id={CHECKOUT_SESSION_ID}";

    #[test]
    fn bracketed_keys_are_split() {
        let form = Form::parse(CREATE);
        assert_eq!(
            form.get(&["line_items", "0", "price_data", "product_data", "name"]),
            Some("Don mensuel")
        );
        assert_eq!(
            form.get(&["line_items", "0", "price_data", "recurring", "interval"]),
            Some("month")
        );
        assert_eq!(form.get(&["mode"]), Some("subscription"));
        assert_eq!(
            form.get(&["success_url"]),
            Some("http://h/merci?session_id={CHECKOUT_SESSION_ID}")
        );
        assert_eq!(form.get(&["line_items", "0"]), None);
    }

    #[test]
    fn maps_and_lists() {
        let form = Form::parse(CREATE);
        assert_eq!(
            form.map(&["subscription_data", "metadata"])
                .get("donation_id"),
            Some(&"42".to_owned())
        );
        assert_eq!(form.map(&["metadata"]).len(), 1);
        assert_eq!(
            form.list(&["allowed_payment_method_types"]),
            ["card", "sepa_debit"]
        );
        let expand = Form::parse("expand[]=payments&expand[1]=lines&expand[0]=customer&expand[]=x");
        assert_eq!(
            expand.list(&["expand"]),
            ["customer", "lines", "payments", "x"]
        );
    }

    #[test]
    fn percent_encoded_brackets_and_empty_values() {
        let form = Form::parse("metadata%5Bk%5D=a%20b&pause_collection=");
        assert_eq!(form.map(&["metadata"]).get("k"), Some(&"a b".to_owned()));
        assert_eq!(form.get(&["pause_collection"]), Some(""));
        assert!(form.has(&["pause_collection"]));
        let paused = Form::parse("pause_collection[behavior]=void");
        assert!(paused.has(&["pause_collection"]));
        assert_eq!(paused.get(&["pause_collection"]), None);
    }

    #[test]
    fn empty_bodies_are_empty() {
        assert!(Form::parse("").fields.is_empty());
        assert!(!Form::parse("").has(&["metadata"]));
    }
}
