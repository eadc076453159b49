//! Arbitrary JSON into the tolerant reading of an event (`events::from_json`), the one that
//! reads signed payloads the typed client refused: never a panic, whatever the shape.
#![no_main]

use libfuzzer_sys::fuzz_target;
use obole::payments::events::from_json;

fuzz_target!(|data: &[u8]| {
    if let Ok(json) = serde_json::from_slice::<serde_json::Value>(data) {
        let _ = from_json(&json);
    }
});
