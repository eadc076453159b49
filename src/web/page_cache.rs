//! The public pages and API answers, rendered and compressed once and then served from
//! memory to every anonymous visitor, until what they show may have changed.
//!
//! A cached page is served while both hold:
//! - no write transaction has been committed by this process since it was rendered (a
//!   donation applied, a campaign edited: [`Db::writes_committed`]), and
//! - it is younger than `PAGE_CACHE_SECONDS` (5 s by default), which bounds how late the
//!   changes made by another instance on the same database, or a deadline passing, show.
//!
//! Only `GET` requests without a session cookie are answered from here, and only `200`
//! answers that set no cookie and allow shared caching are kept: a page that depends on its
//! visitor never reaches this cache. Each page is rendered by one request at a time; the
//! others wait for it rather than rendering it too.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant, SystemTime};

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

use super::AppState;
use super::encoded::{Effort, Prepared, Variants};
use super::session;
use crate::db::Db;

/// Distinct URLs kept at most (query strings make URLs cheap to invent).
const MAX_PAGES: usize = 512;
/// Larger answers are served as they are, not kept.
const MAX_BODY: usize = 1024 * 1024;

pub struct PageCache {
    max_age: Duration,
    /// `public, max-age=…`: browsers and shared caches in front may keep a page as long as
    /// this one does.
    cache_control: HeaderValue,
    pages: Mutex<HashMap<String, Arc<Slot>>>,
}

/// One URL: its page, and the turn to render it.
#[derive(Default)]
struct Slot {
    page: RwLock<Option<Arc<Page>>>,
    rendering: tokio::sync::Mutex<()>,
}

/// A rendered answer, in each coding.
struct Page {
    content_type: HeaderValue,
    variants: Variants,
    rendered_at: Instant,
    /// [`Db::writes_committed`] read before rendering.
    writes: u64,
    /// When the content last differed from the one before (`Last-Modified`).
    modified: SystemTime,
}

impl PageCache {
    /// `max_age` zero turns the cache off.
    pub fn new(max_age: Duration) -> PageCache {
        let cache_control =
            HeaderValue::from_str(&format!("public, max-age={}", max_age.as_secs()))
                .unwrap_or(HeaderValue::from_static("no-cache"));
        PageCache {
            max_age,
            cache_control,
            pages: Mutex::default(),
        }
    }

    fn is_on(&self) -> bool {
        !self.max_age.is_zero()
    }

    /// The slot for `key`, made if there is room: stale pages are dropped to make some.
    fn slot(&self, key: &str, db: &Db) -> Option<Arc<Slot>> {
        let mut pages = self.pages.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(slot) = pages.get(key) {
            return Some(Arc::clone(slot));
        }
        if pages.len() >= MAX_PAGES {
            pages.retain(|_, slot| slot.fresh(self, db).is_some());
        }
        if pages.len() >= MAX_PAGES {
            return None;
        }
        let slot = Arc::new(Slot::default());
        pages.insert(key.to_owned(), Arc::clone(&slot));
        Some(slot)
    }

    fn forget(&self, key: &str) {
        self.pages
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(key);
    }

    fn respond(&self, page: &Page, request: &HeaderMap) -> Response {
        Prepared {
            variants: &page.variants,
            content_type: &page.content_type,
            cache_control: &self.cache_control,
            last_modified: Some(page.modified),
        }
        .respond(request)
    }
}

impl Slot {
    fn fresh(&self, cache: &PageCache, db: &Db) -> Option<Arc<Page>> {
        let page = self.page.read().unwrap_or_else(PoisonError::into_inner);
        page.as_ref()
            .filter(|page| {
                page.writes == db.writes_committed() && page.rendered_at.elapsed() < cache.max_age
            })
            .cloned()
    }

    fn current(&self) -> Option<Arc<Page>> {
        self.page
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn store(&self, page: Arc<Page>) {
        *self.page.write().unwrap_or_else(PoisonError::into_inner) = Some(page);
    }
}

/// The middleware, for the routes of the public pages and the API.
pub async fn serve(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let cache = &state.page_cache;
    if !cache.is_on() || !anonymous_get(&request) {
        return next.run(request).await;
    }
    let key = request.uri().to_string();
    let Some(slot) = cache.slot(&key, &state.db) else {
        return next.run(request).await;
    };
    let headers = request.headers().clone();
    if let Some(page) = slot.fresh(cache, &state.db) {
        return cache.respond(&page, &headers);
    }
    let _turn = slot.rendering.lock().await;
    // Rendered by the request before us in line?
    if let Some(page) = slot.fresh(cache, &state.db) {
        return cache.respond(&page, &headers);
    }
    // Read before rendering: a write committed meanwhile makes this page stale at once.
    let writes = state.db.writes_committed();
    let response = next.run(request).await;
    if !storable(&response) {
        cache.forget(&key);
        return response;
    }
    let (parts, body) = response.into_parts();
    let Ok(body) = to_bytes(body, MAX_BODY).await else {
        cache.forget(&key);
        return Response::from_parts(parts, Body::empty());
    };
    let variants = Variants::compressed(body, Effort::Fast);
    let modified = match slot.current() {
        Some(previous) if previous.variants.hash() == variants.hash() => previous.modified,
        _ => SystemTime::now(),
    };
    let page = Arc::new(Page {
        content_type: parts
            .headers
            .get(header::CONTENT_TYPE)
            .cloned()
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
        variants,
        rendered_at: Instant::now(),
        writes,
        modified,
    });
    slot.store(Arc::clone(&page));
    cache.respond(&page, &headers)
}

/// A `GET` from a visitor without a session: the page is the same for everyone.
fn anonymous_get(request: &Request) -> bool {
    request.method() == Method::GET
        && !request.headers().contains_key(header::AUTHORIZATION)
        && !request
            .headers()
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(';'))
            .any(|cookie| session::is_session_cookie(cookie.trim()))
}

/// A plain `200` for everyone: no cookie set, shared caching allowed, not yet encoded.
fn storable(response: &Response) -> bool {
    let headers = response.headers();
    let private = headers
        .get(header::CACHE_CONTROL)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.contains("private") || value.contains("no-store"));
    response.status() == StatusCode::OK
        && !private
        && !headers.contains_key(header::SET_COOKIE)
        && !headers.contains_key(header::CONTENT_ENCODING)
        && !headers.contains_key(header::VARY)
}

#[cfg(test)]
mod tests {
    use axum::body::Body;

    use super::*;

    fn request(method: Method, cookie: Option<&str>) -> Request {
        let mut builder = Request::builder().method(method).uri("/");
        if let Some(cookie) = cookie {
            builder = builder.header(header::COOKIE, cookie);
        }
        builder.body(Body::empty()).unwrap()
    }

    #[test]
    fn only_gets_without_a_session_are_answered_from_memory() {
        assert!(anonymous_get(&request(Method::GET, None)));
        assert!(anonymous_get(&request(
            Method::GET,
            Some("obole_form=n0nce")
        )));
        assert!(!anonymous_get(&request(Method::HEAD, None)));
        assert!(!anonymous_get(&request(Method::POST, None)));
        assert!(!anonymous_get(&request(
            Method::GET,
            Some("obole_form=n0nce; obole_session=abc")
        )));
    }

    fn response(status: StatusCode, header: Option<(header::HeaderName, &str)>) -> Response {
        let mut response = Response::new(Body::from("page"));
        *response.status_mut() = status;
        if let Some((name, value)) = header {
            response
                .headers_mut()
                .insert(name, HeaderValue::from_str(value).unwrap());
        }
        response
    }

    #[test]
    fn only_plain_answers_for_everyone_are_kept() {
        assert!(storable(&response(StatusCode::OK, None)));
        assert!(storable(&response(
            StatusCode::OK,
            Some((header::CACHE_CONTROL, "public, max-age=60"))
        )));
        assert!(!storable(&response(StatusCode::NOT_FOUND, None)));
        assert!(!storable(&response(
            StatusCode::OK,
            Some((header::SET_COOKIE, "a=b"))
        )));
        assert!(!storable(&response(
            StatusCode::OK,
            Some((header::CACHE_CONTROL, "no-store"))
        )));
        assert!(!storable(&response(
            StatusCode::OK,
            Some((header::CACHE_CONTROL, "private"))
        )));
        assert!(!storable(&response(
            StatusCode::OK,
            Some((header::CONTENT_ENCODING, "gzip"))
        )));
    }
}
