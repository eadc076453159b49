//! Webhook verification: the `Stripe-Signature` header checked on the raw body (HMAC-SHA256,
//! several `v1` values, 300 s tolerance) before anything is read from it.

use stripe_webhook::{Webhook, WebhookError};

use super::events::{self, StripeEvent};

/// Why a delivery was refused (answered 400, nothing recorded).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("Stripe-Signature header missing")]
    MissingSignature,
    #[error("body is not UTF-8")]
    NotUtf8,
    #[error("signature does not match")]
    BadSignature,
    #[error("signature timestamp outside the tolerance")]
    Expired,
    #[error("signed payload is not a readable event")]
    Unreadable,
}

/// Verifies the delivery and reads the event: the typed reading first, and when only that
/// fails (after the signature checked out), the few fields we need straight from the JSON.
pub fn verify(
    payload: &[u8],
    signature: Option<&str>,
    secret: &str,
) -> Result<StripeEvent, Rejection> {
    let signature = signature.ok_or(Rejection::MissingSignature)?;
    let payload = std::str::from_utf8(payload).map_err(|_| Rejection::NotUtf8)?;
    match Webhook::construct_event(payload, signature, secret) {
        // Signed, but no event of Stripe's holds a NUL, and PostgreSQL cannot store one: the
        // event would fail on every redelivery.
        Ok(_) | Err(WebhookError::BadParse(_)) if holds_a_nul(payload) => {
            Err(Rejection::Unreadable)
        }
        Ok(event) => Ok(events::from_typed(event)),
        // Signature and timestamp are checked before parsing, so this payload is Stripe's.
        // Not the parser's reason in the log: it may quote a value of the payload (an email).
        Err(WebhookError::BadParse(_)) => {
            let json: serde_json::Value =
                serde_json::from_str(payload).map_err(|_| Rejection::Unreadable)?;
            let event = events::from_json(&json).ok_or(Rejection::Unreadable)?;
            tracing::info!(event_id = %event.id, event_type = event.event_type.as_str(), "typed parse failed; event read from its JSON");
            Ok(event)
        }
        Err(WebhookError::BadTimestamp(_)) => Err(Rejection::Expired),
        Err(WebhookError::BadSignature | WebhookError::BadHeader(_) | WebhookError::BadKey) => {
            Err(Rejection::BadSignature)
        }
    }
}

/// Whether JSON text holds a NUL: a `\u0000` escape (not an escaped backslash followed by
/// `u0000`), or the byte itself.
fn holds_a_nul(json: &str) -> bool {
    json.contains('\0')
        || json.match_indices("u0000").any(|(at, _)| {
            let backslashes = json[..at].bytes().rev().take_while(|b| *b == b'\\').count();
            backslashes % 2 == 1
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_event_holding_a_nul_is_unreadable() {
        for payload in [
            r#"{"id":"evt_\u0000","object":"event","type":"customer.created","created":1,"livemode":false,"pending_webhooks":0,"data":{"object":{}}}"#,
            r#"{"id":"evt_1","type":"charge.refunded","data":{"object":{"payment_intent":"pi_\\\u0000","amount_refunded":1}}}"#,
        ] {
            let signed = Webhook::generate_test_header(payload, SECRET, Some(now()));
            assert_eq!(
                verify(payload.as_bytes(), Some(&signed), SECRET),
                Err(Rejection::Unreadable),
                "{payload}"
            );
        }
        // An escaped backslash, then the text « u0000 »: no NUL.
        let payload = r#"{"id":"evt_\\u0000","object":"event","type":"customer.created","created":1,"livemode":false,"pending_webhooks":0,"data":{"object":{}}}"#;
        let signed = Webhook::generate_test_header(payload, SECRET, Some(now()));
        assert!(verify(payload.as_bytes(), Some(&signed), SECRET).is_ok());
    }

    const SECRET: &str = "whsec_test_secret";

    fn now() -> i64 {
        crate::domain::dates::now()
    }

    #[test]
    fn refuses_what_stripe_did_not_sign() {
        let payload = r#"{"id":"evt_1","type":"customer.created","data":{"object":{}}}"#;
        assert_eq!(
            verify(payload.as_bytes(), None, SECRET),
            Err(Rejection::MissingSignature)
        );
        let forged = Webhook::generate_test_header(payload, "whsec_other", Some(now()));
        assert_eq!(
            verify(payload.as_bytes(), Some(&forged), SECRET),
            Err(Rejection::BadSignature)
        );
        assert_eq!(
            verify(payload.as_bytes(), Some("t=abc,v1=00"), SECRET),
            Err(Rejection::BadSignature)
        );
        assert_eq!(
            verify(payload.as_bytes(), Some("garbage"), SECRET),
            Err(Rejection::BadSignature)
        );
        let old = Webhook::generate_test_header(payload, SECRET, Some(now() - 301));
        assert_eq!(
            verify(payload.as_bytes(), Some(&old), SECRET),
            Err(Rejection::Expired)
        );
        let tampered = payload.replace("evt_1", "evt_2");
        let signed = Webhook::generate_test_header(payload, SECRET, Some(now()));
        assert_eq!(
            verify(tampered.as_bytes(), Some(&signed), SECRET),
            Err(Rejection::BadSignature)
        );
        assert_eq!(
            verify(&[0xff, 0xfe], Some(&signed), SECRET),
            Err(Rejection::NotUtf8)
        );
    }

    #[test]
    fn accepts_any_matching_v1_among_several() {
        let payload = r#"{"id":"evt_1","object":"event","type":"customer.created","created":1,"livemode":false,"pending_webhooks":0,"data":{"object":{}}}"#;
        let t = now();
        let good = Webhook::generate_test_header(payload, SECRET, Some(t));
        let v1 = good.split("v1=").nth(1).unwrap();
        let header = format!("t={t},v1={},v1={v1}", "0".repeat(64));
        let event = verify(payload.as_bytes(), Some(&header), SECRET).unwrap();
        assert_eq!(event.id, "evt_1");
        assert_eq!(event.fact, events::Fact::Ignored);
    }

    #[test]
    fn signed_garbage_is_unreadable() {
        let payload = "pas du json";
        let signed = Webhook::generate_test_header(payload, SECRET, Some(now()));
        assert_eq!(
            verify(payload.as_bytes(), Some(&signed), SECRET),
            Err(Rejection::Unreadable)
        );
    }
}

/// Properties of the signature check over many payloads: a change of any byte of the payload,
/// or of the signature, is refused; arbitrary bytes never get through and never panic.
#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    const SECRET: &str = "whsec_property_secret";
    const PAYLOAD: &str = r#"{"id":"evt_1","object":"event","type":"customer.created","created":1,"livemode":false,"pending_webhooks":0,"data":{"object":{}}}"#;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn changing_any_byte_of_a_signed_payload_is_refused(at in 0usize..PAYLOAD.len(), by in 1u8..=255) {
            let signed = Webhook::generate_test_header(PAYLOAD, SECRET, Some(crate::domain::dates::now()));
            let mut bytes = PAYLOAD.as_bytes().to_vec();
            bytes[at] = bytes[at].wrapping_add(by);
            let verdict = verify(&bytes, Some(&signed), SECRET);
            prop_assert!(
                matches!(verdict, Err(Rejection::BadSignature | Rejection::NotUtf8)),
                "{:?}",
                verdict
            );
        }

        #[test]
        fn changing_any_character_of_the_signature_is_refused(at in 0usize..200, c in "[0-9a-f]") {
            let signed = Webhook::generate_test_header(PAYLOAD, SECRET, Some(crate::domain::dates::now()));
            let v1 = signed.find("v1=").unwrap() + 3;
            let at = v1 + at % (signed.len() - v1);
            prop_assume!(signed[at..].chars().next().map(String::from) != Some(c.clone()));
            let mut forged = signed.clone();
            forged.replace_range(at..at + 1, &c);
            prop_assert_eq!(verify(PAYLOAD.as_bytes(), Some(&forged), SECRET), Err(Rejection::BadSignature));
        }

        #[test]
        fn arbitrary_bytes_and_headers_never_get_through(
            payload in proptest::collection::vec(any::<u8>(), 0..256),
            header in ".{0,80}",
        ) {
            prop_assert!(verify(&payload, Some(&header), SECRET).is_err());
        }
    }
}
