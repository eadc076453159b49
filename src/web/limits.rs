//! What a request may be: an address and headers of bounded size (414, 431), and a body that
//! arrives in time (408), each answered with our page rather than by hyper below the router.
//!
//! hyper refuses heads it cannot hold with a bare status line and no header of ours: a URI
//! beyond 64 KiB (414), more than 100 header fields or a head beyond its ~400 KB buffer (431).
//! Our limits sit well below, so that what a client meets in practice is our page.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::Response;
use hyper::body::{Frame, SizeHint};
use tokio::time::Sleep;

use super::errors::status_page;

/// The longest request target we read: far beyond any address of ours, as a browser or a
/// proxy allows (nginx reads 8 KiB of request line).
pub const MAX_URI_BYTES: usize = 8 * 1024;

/// Headers, names and values together (cookies included): ours are a few hundred bytes.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// Refuses over-long addresses and headers, and gives the body `body_timeout` to arrive
/// once its handler starts reading it.
pub async fn enforce(
    State(body_timeout): State<Duration>,
    request: Request,
    next: Next,
) -> Response {
    if target_len(request.uri()) > MAX_URI_BYTES {
        return status_page(StatusCode::URI_TOO_LONG);
    }
    if header_bytes(request.headers()) > MAX_HEADER_BYTES {
        return status_page(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    }
    if request.body().is_end_stream() {
        return next.run(request).await;
    }
    let expired = Arc::new(AtomicBool::new(false));
    let request = request.map(|body| {
        Body::new(Deadline {
            body,
            limit: body_timeout,
            sleep: None,
            expired: expired.clone(),
        })
    });
    let response = next.run(request).await;
    if !expired.load(Ordering::Relaxed) {
        return response;
    }
    // Whatever the handler made of a truncated body, the client was too slow. The connection
    // is mid-body: it ends here (RFC 9110, 408).
    tracing::info!("request body not received in time");
    let mut response = status_page(StatusCode::REQUEST_TIMEOUT);
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

fn target_len(uri: &Uri) -> usize {
    uri.authority().map_or(0, |a| a.as_str().len())
        + uri.path_and_query().map_or(0, |p| p.as_str().len())
}

fn header_bytes(headers: &HeaderMap) -> usize {
    headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum()
}

/// A body that fails once `limit` has passed since its first read. tower-http's
/// `RequestBodyTimeout` restarts its clock at every frame, which a body sent a byte at a
/// time (slow loris) never lets run out.
struct Deadline {
    body: Body,
    limit: Duration,
    sleep: Option<Pin<Box<Sleep>>>,
    expired: Arc<AtomicBool>,
}

#[derive(Debug, thiserror::Error)]
#[error("request body not received in time")]
struct BodyTimeout;

impl HttpBody for Deadline {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = self.get_mut();
        let limit = this.limit;
        let sleep = this
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        if let Poll::Ready(frame) = Pin::new(&mut this.body).poll_frame(cx) {
            return Poll::Ready(frame);
        }
        ready!(sleep.as_mut().poll(cx));
        this.expired.store(true, Ordering::Relaxed);
        Poll::Ready(Some(Err(axum::Error::new(BodyTimeout))))
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_target_counts_its_query_and_an_absolute_form_its_authority() {
        let uri: Uri = "/campagnes/ete?reprendre=abc".parse().unwrap();
        assert_eq!(target_len(&uri), "/campagnes/ete?reprendre=abc".len());
        let uri: Uri = "http://dons.example.org/merci".parse().unwrap();
        assert_eq!(target_len(&uri), "dons.example.org/merci".len());
    }

    #[tokio::test]
    async fn a_body_that_stops_arriving_fails_at_its_deadline_and_says_so() {
        let silent = futures_util::stream::pending::<Result<Bytes, std::io::Error>>();
        let expired = Arc::new(AtomicBool::new(false));
        let deadline = Deadline {
            body: Body::from_stream(silent),
            limit: Duration::from_millis(50),
            sleep: None,
            expired: expired.clone(),
        };
        let read = axum::body::to_bytes(Body::new(deadline), usize::MAX).await;
        assert!(read.is_err());
        assert!(expired.load(Ordering::Relaxed));
    }
}
