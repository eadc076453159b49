//! What `POST /v1/subscriptions/{id}` and `DELETE /v1/subscriptions/{id}` ask for, read from
//! the form and checked against the subscription the way Stripe checks them, before anything
//! changes (so a refused request leaves no trace).

use super::billing::positive_amount;
use super::clock::Interval;
use super::error::ApiError;
use super::form::Form;
use super::state::{CancellationFeedback, Metadata, State, find};

/// Stripe's limit on `cancellation_details[comment]`.
const MAX_COMMENT_CHARS: usize = 5000;

/// What an update (or a portal action) asks to change.
#[derive(Debug, Default, Clone)]
pub struct Change {
    /// New unit amount in cents (a new price for the same product).
    pub unit_amount: Option<i64>,
    /// The new price's interval; `None` keeps the current one.
    pub interval: Option<Interval>,
    pub pause: Option<PauseChange>,
    pub cancel_at_period_end: Option<bool>,
    pub cancellation_details: CancellationDetailsChange,
    /// Merged into the metadata; an empty value removes the key.
    pub metadata: Metadata,
}

impl Change {
    /// Whether it changes what is billed or when; a canceled subscription refuses those.
    pub fn touches_billing(&self) -> bool {
        self.unit_amount.is_some()
            || self.interval.is_some()
            || self.pause.is_some()
            || self.cancel_at_period_end.is_some()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PauseChange {
    /// `pause_collection[behavior]=void`, until `resumes_at` when given, else until resumed.
    Void { resumes_at: Option<i64> },
    /// `pause_collection=` (empty).
    Resume,
}

/// `cancellation_details[comment]` and `[feedback]`: each one given replaces the old value,
/// and an empty one unsets it (Stripe's fields accept `""` for that).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CancellationDetailsChange {
    pub comment: Option<Option<String>>,
    pub feedback: Option<Option<CancellationFeedback>>,
}

impl CancellationDetailsChange {
    pub fn parse(form: &Form) -> Result<CancellationDetailsChange, ApiError> {
        let comment = match form.get(&["cancellation_details", "comment"]) {
            None => None,
            Some("") => Some(None),
            Some(text) if text.chars().count() > MAX_COMMENT_CHARS => {
                return Err(ApiError::invalid(
                    "cancellation_details[comment]",
                    format!("Invalid string: must be at most {MAX_COMMENT_CHARS} characters"),
                ));
            }
            Some(text) => Some(Some(text.to_owned())),
        };
        let feedback = match form.get(&["cancellation_details", "feedback"]) {
            None => None,
            Some("") => Some(None),
            Some(text) => Some(Some(CancellationFeedback::parse(text).ok_or_else(
                || {
                    ApiError::invalid(
                        "cancellation_details[feedback]",
                        format!(
                            "Invalid cancellation_details[feedback]: must be one of {}",
                            one_of(&CancellationFeedback::ALL.map(CancellationFeedback::as_str))
                        ),
                    )
                },
            )?)),
        };
        Ok(CancellationDetailsChange { comment, feedback })
    }
}

/// `a, b, or c`, as Stripe lists an enum's values in its errors.
fn one_of(values: &[&str]) -> String {
    match values {
        [] => String::new(),
        [only] => (*only).to_owned(),
        [first @ .., last] => format!("{}, or {last}", first.join(", ")),
    }
}

/// Reads an update's form into a `Change`, checking it against the subscription.
pub fn parse_change(state: &State, id: &str, form: &Form) -> Result<Change, ApiError> {
    let sub =
        find(&state.subscriptions, id).ok_or_else(|| ApiError::no_such("subscription", id))?;
    let mut change = Change {
        metadata: form.map(&["metadata"]),
        cancellation_details: CancellationDetailsChange::parse(form)?,
        ..Change::default()
    };
    if form.has(&["items"]) {
        let item = |field: &[&str]| {
            let mut path = vec!["items", "0"];
            path.extend_from_slice(field);
            form.get(&path).map(str::to_owned)
        };
        let item_id = item(&["id"]).ok_or_else(|| ApiError::missing("items[0][id]"))?;
        if item_id != sub.item_id {
            return Err(ApiError::invalid(
                "items[0][id]",
                format!("No such subscription item: '{item_id}'"),
            ));
        }
        if let Some(price) = item(&["price"]) {
            return Err(ApiError::invalid(
                "items[0][price]",
                format!("No such price: '{price}' (the sandbox only takes price_data)"),
            ));
        }
        let currency = item(&["price_data", "currency"])
            .ok_or_else(|| ApiError::missing("items[0][price_data][currency]"))?;
        if currency != sub.price.currency {
            return Err(ApiError::invalid(
                "items[0][price_data][currency]",
                "The currency of a subscription cannot change.",
            ));
        }
        let product = item(&["price_data", "product"])
            .ok_or_else(|| ApiError::missing("items[0][price_data][product]"))?;
        if product != sub.price.product {
            return Err(ApiError::invalid(
                "items[0][price_data][product]",
                format!("No such product: '{product}'"),
            ));
        }
        let interval = item(&["price_data", "recurring", "interval"])
            .ok_or_else(|| ApiError::missing("items[0][price_data][recurring][interval]"))?;
        change.interval = Some(Interval::parse(&interval).ok_or_else(|| {
            ApiError::invalid(
                "items[0][price_data][recurring][interval]",
                format!("The sandbox bills only by `month` or `year`, not `{interval}`."),
            )
        })?);
        let amount = item(&["price_data", "unit_amount"])
            .ok_or_else(|| ApiError::missing("items[0][price_data][unit_amount]"))?;
        change.unit_amount = Some(positive_amount(
            &amount,
            "items[0][price_data][unit_amount]",
        )?);
    }
    if form.has(&["pause_collection"]) {
        change.pause = Some(parse_pause(state, form)?);
    }
    if let Some(value) = form.get(&["cancel_at_period_end"]) {
        change.cancel_at_period_end = Some(parse_bool(value, "cancel_at_period_end")?);
    }
    // Accepted and otherwise ignored: the sandbox never prorates (see `billing::update`).
    if let Some(value) = form.get(&["proration_behavior"])
        && !["always_invoice", "create_prorations", "none"].contains(&value)
    {
        return Err(ApiError::invalid(
            "proration_behavior",
            format!("Invalid proration_behavior: {value}"),
        ));
    }
    Ok(change)
}

/// `pause_collection=` resumes; `pause_collection[behavior]=void` pauses, until
/// `pause_collection[resumes_at]` (unix seconds, ahead of the sandbox clock) when given.
fn parse_pause(state: &State, form: &Form) -> Result<PauseChange, ApiError> {
    match (
        form.get(&["pause_collection"]),
        form.get(&["pause_collection", "behavior"]),
    ) {
        (Some(""), _) => Ok(PauseChange::Resume),
        (_, Some("void")) => {
            let resumes_at = form
                .get(&["pause_collection", "resumes_at"])
                .map(|text| future_timestamp(text, state.now(), "pause_collection[resumes_at]"))
                .transpose()?;
            Ok(PauseChange::Void { resumes_at })
        }
        (_, Some(other)) => Err(ApiError::invalid(
            "pause_collection[behavior]",
            format!("The sandbox only supports the `void` behavior, not `{other}`."),
        )),
        _ => Err(ApiError::missing("pause_collection[behavior]")),
    }
}

/// A unix timestamp that must lie ahead of `now`, refused with Stripe's wording otherwise.
fn future_timestamp(text: &str, now: i64, param: &str) -> Result<i64, ApiError> {
    let at: i64 = text
        .parse()
        .map_err(|_| ApiError::invalid(param, format!("Invalid integer: {text}")))?;
    if at <= now {
        return Err(ApiError::invalid(
            param,
            "Invalid timestamp: must be an integer Unix timestamp in the future.",
        ));
    }
    Ok(at)
}

fn parse_bool(text: &str, param: &str) -> Result<bool, ApiError> {
    match text {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(ApiError::invalid(param, "Invalid boolean")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cancellation_details_take_stripe_values_and_empty_unsets() {
        let details = CancellationDetailsChange::parse(&Form::parse(
            "cancellation_details[comment]=Trop+cher+pour+moi&cancellation_details[feedback]=too_expensive",
        ))
        .unwrap();
        assert_eq!(details.comment, Some(Some("Trop cher pour moi".to_owned())));
        assert_eq!(
            details.feedback,
            Some(Some(CancellationFeedback::TooExpensive))
        );
        let unset = CancellationDetailsChange::parse(&Form::parse(
            "cancellation_details[comment]=&cancellation_details[feedback]=",
        ))
        .unwrap();
        assert_eq!(unset.comment, Some(None));
        assert_eq!(unset.feedback, Some(None));
        assert_eq!(
            CancellationDetailsChange::parse(&Form::parse("")).unwrap(),
            CancellationDetailsChange::default()
        );
    }

    #[test]
    fn unknown_feedback_and_long_comments_are_refused_naming_the_param() {
        let bored =
            CancellationDetailsChange::parse(&Form::parse("cancellation_details[feedback]=bored"))
                .unwrap_err();
        assert_eq!(
            bored.param.as_deref(),
            Some("cancellation_details[feedback]")
        );
        assert!(
            bored.message.ends_with("too_expensive, or unused"),
            "{}",
            bored.message
        );
        // Counted in characters, not bytes: 5000 accented letters pass.
        let longest = "é".repeat(MAX_COMMENT_CHARS);
        let form = Form::parse(&format!("cancellation_details[comment]={longest}"));
        assert!(CancellationDetailsChange::parse(&form).is_ok());
        let form = Form::parse(&format!("cancellation_details[comment]={longest}e"));
        let error = CancellationDetailsChange::parse(&form).unwrap_err();
        assert_eq!(
            error.param.as_deref(),
            Some("cancellation_details[comment]")
        );
    }

    #[test]
    fn a_resume_time_must_be_a_whole_number_ahead_of_the_clock() {
        let param = "pause_collection[resumes_at]";
        assert_eq!(future_timestamp("1001", 1000, param).unwrap(), 1001);
        for text in ["1000", "999", "soon", "1000.5", ""] {
            let error = future_timestamp(text, 1000, param).unwrap_err();
            assert_eq!(error.param.as_deref(), Some(param), "{text}");
            assert_eq!(error.kind, "invalid_request_error");
        }
    }

    #[test]
    fn enums_are_listed_the_way_stripe_does() {
        assert_eq!(one_of(&["a"]), "a");
        assert_eq!(one_of(&["a", "b", "c"]), "a, b, or c");
    }
}
