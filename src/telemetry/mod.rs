//! Logs and metrics. Logs go to stderr, filtered by `RUST_LOG`: human-readable lines by
//! default, one JSON object per line with `LOG_FORMAT=json` (for a log collector). A request's
//! lines carry its id ([`crate::web::request_id`]); no line names a person (ids of rows, never
//! emails or names). The metrics are [`measures`].

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

pub mod measures;

/// Installs the global subscriber once; later calls (tests) are no-ops.
pub fn init() {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        // Colours for a terminal only, not for a journal or a file.
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let json = std::env::var("LOG_FORMAT").is_ok_and(|format| format.trim() == "json");
    let _ = if json {
        // The event's fields at the top level, with those of the request it belongs to.
        logs.json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init()
    } else {
        logs.try_init()
    };
}
