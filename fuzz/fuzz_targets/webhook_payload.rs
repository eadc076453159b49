//! Arbitrary bytes delivered as a webhook body, correctly signed: the signature check passes,
//! so everything behind it (the typed reading, then the tolerant one) is reached. Never a
//! panic; a signed body is never refused for its signature.
#![no_main]

use libfuzzer_sys::fuzz_target;
use obole::payments::webhook::{Rejection, verify};
use stripe_webhook::Webhook;

const SECRET: &str = "whsec_fuzz_secret";

fuzz_target!(|payload: &[u8]| {
    let Ok(text) = std::str::from_utf8(payload) else {
        assert_eq!(
            verify(payload, Some("t=1,v1=00"), SECRET),
            Err(Rejection::NotUtf8)
        );
        return;
    };
    let now = obole::domain::dates::now();
    let signature = Webhook::generate_test_header(text, SECRET, Some(now));
    match verify(payload, Some(&signature), SECRET) {
        Ok(_) | Err(Rejection::Unreadable) => {}
        Err(other) => panic!("a signed payload refused as {other:?}"),
    }
});
