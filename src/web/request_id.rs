//! One id per request: taken from `X-Request-Id` when a reverse proxy set a sound one (so that
//! its logs and ours match), made up otherwise; returned in the same header, and carried by
//! every log line written while the request is served (the `request` span).

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

pub const HEADER: HeaderName = HeaderName::from_static("x-request-id");

pub async fn tag(mut request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(&HEADER)
        .filter(|value| sound(value.as_bytes()))
        .cloned()
        .unwrap_or_else(|| {
            HeaderValue::from_str(&uuid::Uuid::new_v4().simple().to_string())
                .expect("hex digits are a header value")
        });
    let span = tracing::info_span!(
        "request",
        id = id.to_str().unwrap_or_default(),
        method = %request.method()
    );
    request.headers_mut().insert(HEADER, id.clone());
    let mut response = next.run(request).instrument(span).await;
    response.headers_mut().insert(HEADER, id);
    response
}

/// At most 64 letters, digits, `-`, `_` or `.`: what proxies make, and nothing that could
/// disguise a log line.
fn sound(id: &[u8]) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

#[cfg(test)]
mod tests {
    use super::sound;

    #[test]
    fn only_short_plain_ids_are_kept() {
        assert!(sound(b"7f3c9a1e-2b4d-4e8f-9a0b-1c2d3e4f5a6b"));
        assert!(sound(b"nginx.42_a"));
        assert!(!sound(b""));
        assert!(!sound(b"a b"));
        assert!(!sound("é".as_bytes()));
        assert!(!sound(b"id\"}{\"admin\":true"));
        assert!(!sound(&[b'a'; 65]));
    }
}
