//! Disputes: a payer's bank questioning a successful charge. Stripe opens them itself (with
//! its test cards); here the dashboard or a test opens one on any successful payment and
//! decides it, and the events follow as Stripe sends them: `charge.dispute.created` and
//! `…funds_withdrawn` at opening; when won, `…updated` (evidence under review), `…closed`
//! and `…funds_reinstated`; when lost, `…closed`.

use serde_json::{Value, json};

use super::clock::DAY;
use super::error::ApiError;
use super::objects;
use super::payments::RefundTarget;
use super::state::{Dispute, State, find, find_mut, new_id};

/// The reasons Stripe gives a dispute.
pub const REASONS: [&str; 15] = [
    "bank_cannot_process",
    "check_returned",
    "credit_not_processed",
    "customer_initiated",
    "debit_not_authorized",
    "duplicate",
    "fraudulent",
    "general",
    "incorrect_account_details",
    "insufficient_funds",
    "noncompliant",
    "product_not_received",
    "product_unacceptable",
    "subscription_canceled",
    "unrecognized",
];

/// How long the merchant has to answer, from the opening.
const EVIDENCE_WINDOW: i64 = 7 * DAY;

/// How the bank decides a dispute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisputeOutcome {
    /// The evidence convinced it: the money comes back.
    Won,
    /// The money stays with the payer.
    Lost,
}

impl DisputeOutcome {
    pub fn parse(text: &str) -> Option<DisputeOutcome> {
        match text {
            "won" => Some(DisputeOutcome::Won),
            "lost" => Some(DisputeOutcome::Lost),
            _ => None,
        }
    }
}

/// Why a dispute was not opened or decided: Stripe's words for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisputeRefused(pub String);

impl std::fmt::Display for DisputeRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DisputeRefused {}

impl From<ApiError> for DisputeRefused {
    fn from(error: ApiError) -> DisputeRefused {
        DisputeRefused(error.message)
    }
}

/// A dispute to open.
#[derive(Debug, Clone)]
pub struct DisputeRequest {
    pub target: RefundTarget,
    /// In cents; `None` disputes the whole charge (what the bank usually does).
    pub amount: Option<i64>,
    /// One of [`REASONS`]; `None` is `fraudulent`.
    pub reason: Option<String>,
}

/// Opens a dispute on a payment's successful charge: the charge is marked disputed, its
/// money withdrawn (no more refunds), and `charge.dispute.created` then
/// `charge.dispute.funds_withdrawn` are emitted. Returns the dispute; on error nothing
/// changes.
pub fn open(state: &mut State, request: DisputeRequest) -> Result<Value, ApiError> {
    let charge_id = match &request.target {
        RefundTarget::PaymentIntent(pi) => find(&state.payment_intents, pi)
            .ok_or_else(|| ApiError::no_such("payment_intent", pi))?
            .latest_charge
            .clone()
            .ok_or_else(|| ApiError::state(format!("PaymentIntent {pi} has no charge.")))?,
        RefundTarget::Charge(charge) => charge.clone(),
    };
    let reason = request.reason.unwrap_or_else(|| "fraudulent".to_owned());
    if !REASONS.contains(&reason.as_str()) {
        return Err(ApiError::invalid(
            "reason",
            format!("Invalid reason: {reason}"),
        ));
    }
    if state.disputes.iter().any(|d| d.charge == charge_id) {
        return Err(ApiError::state(format!(
            "Charge {charge_id} has already been disputed."
        )));
    }
    let now = state.now();
    let charge = find_mut(&mut state.charges, &charge_id)
        .ok_or_else(|| ApiError::no_such("charge", &charge_id))?;
    if charge.status != "succeeded" {
        return Err(ApiError::state(format!(
            "Charge {charge_id} has not succeeded, so it cannot be disputed."
        )));
    }
    let amount = request.amount.unwrap_or(charge.amount);
    if !(1..=charge.amount).contains(&amount) {
        return Err(ApiError::invalid(
            "amount",
            format!(
                "Dispute amount ({amount}) must be positive and at most the charge's ({}).",
                charge.amount
            ),
        ));
    }
    charge.disputed = true;
    let dispute = Dispute {
        id: new_id("dp_"),
        created: now,
        charge: charge.id.clone(),
        payment_intent: charge.payment_intent.clone(),
        amount,
        currency: charge.currency.clone(),
        reason,
        status: "needs_response".to_owned(),
        due_by: now + EVIDENCE_WINDOW,
        submission_count: 0,
        method: charge.method,
    };
    let json = objects::dispute(&dispute);
    state.disputes.push(dispute);
    state.emit("charge.dispute.created", json.clone(), None);
    state.emit("charge.dispute.funds_withdrawn", json.clone(), None);
    Ok(json)
}

/// Decides an open dispute. Won: the evidence goes under review (`charge.dispute.updated`),
/// then the dispute closes (`charge.dispute.closed`) and the money comes back
/// (`charge.dispute.funds_reinstated`). Lost: it closes (`charge.dispute.closed`), as when
/// the merchant accepts it (`POST /v1/disputes/{id}/close`). Returns the dispute.
pub fn close(state: &mut State, id: &str, outcome: DisputeOutcome) -> Result<Value, ApiError> {
    let dispute =
        find_mut(&mut state.disputes, id).ok_or_else(|| ApiError::no_such("dispute", id))?;
    if !dispute.is_open() {
        return Err(ApiError::state(format!(
            "Dispute {id} is already closed ({}).",
            dispute.status
        )));
    }
    let mut events = Vec::new();
    if outcome == DisputeOutcome::Won && dispute.status == "needs_response" {
        dispute.status = "under_review".to_owned();
        dispute.submission_count += 1;
        events.push((
            "charge.dispute.updated",
            objects::dispute(dispute),
            json!({ "status": "needs_response", "evidence_details": {
                "has_evidence": false, "submission_count": 0 } }),
        ));
    }
    let before = dispute.status.clone();
    dispute.status = match outcome {
        DisputeOutcome::Won => "won",
        DisputeOutcome::Lost => "lost",
    }
    .to_owned();
    let closed = objects::dispute(dispute);
    events.push((
        "charge.dispute.closed",
        closed.clone(),
        json!({ "status": before }),
    ));
    for (kind, object, previous) in events {
        state.emit(kind, object, Some(previous));
    }
    if outcome == DisputeOutcome::Won {
        state.emit("charge.dispute.funds_reinstated", closed.clone(), None);
    }
    Ok(closed)
}

/// `GET /v1/disputes/{id}`.
pub fn retrieve(state: &State, id: &str) -> Result<Value, ApiError> {
    find(&state.disputes, id)
        .map(objects::dispute)
        .ok_or_else(|| ApiError::no_such("dispute", id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkout::Choice;
    use crate::testing::{paid_session, scenario_sandbox};

    #[tokio::test]
    async fn a_dispute_is_opened_once_on_a_successful_charge_and_decided_once() {
        let sandbox = scenario_sandbox();
        let session = paid_session(&sandbox, "payment", Choice::Card);
        let mut state = sandbox.lock();
        let pi = find(&state.sessions, &session)
            .and_then(|s| s.payment_intent.clone())
            .expect("paid");
        let request = |amount, reason: Option<&str>| DisputeRequest {
            target: RefundTarget::PaymentIntent(pi.clone()),
            amount,
            reason: reason.map(str::to_owned),
        };
        let refused = |result: Result<Value, ApiError>| result.expect_err("refused").param;
        assert_eq!(
            refused(open(&mut state, request(Some(0), None))).as_deref(),
            Some("amount")
        );
        assert_eq!(
            refused(open(&mut state, request(Some(1251), None))).as_deref(),
            Some("amount")
        );
        assert_eq!(
            refused(open(&mut state, request(None, Some("bored")))).as_deref(),
            Some("reason")
        );
        assert!(state.disputes.is_empty(), "nothing opened by a refusal");

        let dispute = open(&mut state, request(None, None)).expect("opened");
        assert_eq!(dispute["amount"], 1250);
        assert_eq!(dispute["status"], "needs_response");
        assert_eq!(dispute["reason"], "fraudulent");
        assert_eq!(dispute["payment_intent"], pi.as_str());
        assert!(
            open(&mut state, request(None, None)).is_err(),
            "one per charge"
        );
        let id = dispute["id"].as_str().expect("id").to_owned();
        assert!(id.starts_with("dp_"));

        close(&mut state, &id, DisputeOutcome::Lost).expect("closed");
        assert!(close(&mut state, &id, DisputeOutcome::Won).is_err(), "once");
        assert_eq!(retrieve(&state, &id).expect("kept")["status"], "lost");
        let kinds: Vec<&str> = state.events.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(
            kinds[kinds.len() - 3..],
            [
                "charge.dispute.created",
                "charge.dispute.funds_withdrawn",
                "charge.dispute.closed"
            ]
        );
    }
}
