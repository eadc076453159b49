//! Static files (CSS, scripts, images), embedded in the binary so it runs from any directory.
//! URLs carry a content hash (`?v=…`) so browsers may cache them for a year. Text files are
//! compressed once, at their first request, with the slowest and smallest settings, and each
//! client gets the variant its `Accept-Encoding` allows: nothing is compressed per request.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use axum::Router;
use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{Extensions, HeaderMap, HeaderValue, StatusCode, Version, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rust_embed::{Embed, EmbeddedFile};

use super::AppState;
use crate::error::AppError;

#[derive(Embed)]
#[folder = "static/"]
struct Static;

pub fn router() -> Router<AppState> {
    Router::new().route("/static/{*path}", get(serve))
}

/// The file's URL with its content hash, e.g. `/static/app.css?v=3f2a…`.
pub fn versioned_url(path: &str) -> String {
    match Static::get(path) {
        Some(file) => format!(
            "/static/{path}?v={}",
            short_hash(&file.metadata.sha256_hash())
        ),
        None => format!("/static/{path}"),
    }
}

fn short_hash(hash: &[u8; 32]) -> String {
    hash[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// Marks a response whose encoding this module chose (compressed ahead of time, or plain
/// because the client accepts nothing else), so that the compression layer leaves it alone.
#[derive(Debug, Clone, Copy)]
struct Precompressed;

/// The compression layer's predicate: false for responses this module already encoded.
pub fn not_precompressed(
    _: StatusCode,
    _: Version,
    _: &HeaderMap,
    extensions: &Extensions,
) -> bool {
    extensions.get::<Precompressed>().is_none()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Coding {
    Brotli,
    Gzip,
    Identity,
}

impl Coding {
    fn token(self) -> Option<&'static str> {
        match self {
            Coding::Brotli => Some("br"),
            Coding::Gzip => Some("gzip"),
            Coding::Identity => None,
        }
    }
}

/// The coding to send for `Accept-Encoding`: the one with the highest weight among brotli and
/// gzip (brotli on a tie, as it is smaller), `*` standing for those not named, identity when
/// neither is acceptable.
fn negotiate(headers: &HeaderMap) -> Coding {
    let (mut brotli, mut gzip, mut any) = (None, None, None);
    let items = headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','));
    for item in items {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let weight = parts
            .find_map(|param| {
                let (key, value) = param.split_once('=')?;
                key.trim()
                    .eq_ignore_ascii_case("q")
                    .then(|| value.trim().parse::<f32>().ok())?
            })
            .unwrap_or(1.0);
        match name.as_str() {
            "br" => brotli = Some(weight),
            "gzip" | "x-gzip" => gzip = Some(weight),
            "*" => any = Some(weight),
            _ => {}
        }
    }
    let brotli = brotli.or(any).unwrap_or(0.0);
    let gzip = gzip.or(any).unwrap_or(0.0);
    if brotli > 0.0 && brotli >= gzip {
        Coding::Brotli
    } else if gzip > 0.0 {
        Coding::Gzip
    } else {
        Coding::Identity
    }
}

/// One static file with its compressed variants (absent for types that don't compress, such
/// as raster images, or when compression would not make it smaller).
struct Encoded {
    content_type: String,
    hash: String,
    identity: Bytes,
    gzip: Option<Bytes>,
    brotli: Option<Bytes>,
}

impl Encoded {
    fn new(file: EmbeddedFile) -> Encoded {
        let content_type = file.metadata.mimetype().to_owned();
        let hash = short_hash(&file.metadata.sha256_hash());
        let identity = Bytes::from(file.data.into_owned());
        let (gzip, brotli) = if compressible(&content_type) {
            let smaller = |body: Vec<u8>| (body.len() < identity.len()).then(|| Bytes::from(body));
            (
                gzip(&identity).and_then(smaller),
                brotli(&identity).and_then(smaller),
            )
        } else {
            (None, None)
        };
        Encoded {
            content_type,
            hash,
            identity,
            gzip,
            brotli,
        }
    }

    fn has_variants(&self) -> bool {
        self.gzip.is_some() || self.brotli.is_some()
    }

    /// The body for `coding`, falling back to the plain file when that variant is absent.
    fn body(&self, coding: Coding) -> (Coding, Bytes) {
        let variant = match coding {
            Coding::Brotli => self.brotli.as_ref(),
            Coding::Gzip => self.gzip.as_ref(),
            Coding::Identity => None,
        };
        match variant {
            Some(body) => (coding, body.clone()),
            None => (Coding::Identity, self.identity.clone()),
        }
    }

    /// Each encoding is its own representation, so it gets its own strong validator.
    fn etag(&self, coding: Coding) -> String {
        match coding.token() {
            Some(token) => format!("\"{}-{token}\"", self.hash),
            None => format!("\"{}\"", self.hash),
        }
    }
}

fn compressible(content_type: &str) -> bool {
    content_type.starts_with("text/")
        || ["javascript", "json", "xml", "svg"]
            .iter()
            .any(|kind| content_type.contains(kind))
}

fn gzip(data: &[u8]) -> Option<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(data).ok()?;
    encoder.finish().ok()
}

fn brotli(data: &[u8]) -> Option<Vec<u8>> {
    // Quality 11 (the best) and a 4 MB window (brotli's default): done once per file.
    let mut encoder = brotli::CompressorWriter::new(Vec::new(), 4096, 11, 22);
    encoder.write_all(data).ok()?;
    encoder.flush().ok()?;
    Some(encoder.into_inner())
}

/// The files encoded so far, by path.
static ENCODED: LazyLock<Mutex<HashMap<String, Arc<Encoded>>>> = LazyLock::new(Mutex::default);

/// The encoded file at `path`, compressed on its first request (off the async workers: best
/// quality brotli takes milliseconds). Two first requests at once may both compress it; the
/// result is the same.
async fn encoded(path: &str) -> Result<Option<Arc<Encoded>>, AppError> {
    let cached = ENCODED
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(path)
        .cloned();
    if let Some(found) = cached {
        return Ok(Some(found));
    }
    let Some(file) = Static::get(path) else {
        return Ok(None);
    };
    let encoded = tokio::task::spawn_blocking(move || Arc::new(Encoded::new(file)))
        .await
        .map_err(|error| AppError::Other(error.into()))?;
    ENCODED
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(path.to_owned(), Arc::clone(&encoded));
    Ok(Some(encoded))
}

/// Whether `If-None-Match` names `etag`, compared weakly as the header asks (a proxy may have
/// weakened the validator it got).
fn matches(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|tag| tag.trim())
        .any(|tag| tag == "*" || tag.trim_start_matches("W/") == etag)
}

async fn serve(
    Path(path): Path<String>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Result<Response, AppError> {
    let Some(file) = encoded(&path).await? else {
        return Err(AppError::NotFound);
    };
    let (coding, body) = file.body(negotiate(&headers));
    let etag = file.etag(coding);
    // Versioned URLs never change content; others may, so they are revalidated hourly.
    let cache = if uri.query().is_some_and(|q| q.starts_with("v=")) {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=3600"
    };
    let mut response = if matches(&headers, &etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut response = body.into_response();
        if let Ok(value) = HeaderValue::from_str(&file.content_type) {
            response.headers_mut().insert(header::CONTENT_TYPE, value);
        }
        if let Some(token) = coding.token() {
            response
                .headers_mut()
                .insert(header::CONTENT_ENCODING, HeaderValue::from_static(token));
        }
        response
    };
    response.extensions_mut().insert(Precompressed);
    let response_headers = response.headers_mut();
    response_headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if file.has_variants() {
        response_headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    if let Ok(value) = HeaderValue::from_str(&etag) {
        response_headers.insert(header::ETAG, value);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accepting(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_str(value).unwrap(),
        );
        headers
    }

    #[test]
    fn negotiation_follows_the_weights() {
        assert_eq!(negotiate(&HeaderMap::new()), Coding::Identity);
        assert_eq!(negotiate(&accepting("gzip, deflate, br")), Coding::Brotli);
        assert_eq!(negotiate(&accepting("gzip")), Coding::Gzip);
        assert_eq!(negotiate(&accepting("br;q=0.5, gzip")), Coding::Gzip);
        assert_eq!(negotiate(&accepting("br;q=0, gzip;q=0")), Coding::Identity);
        assert_eq!(negotiate(&accepting("*")), Coding::Brotli);
        assert_eq!(negotiate(&accepting("*;q=0.1, gzip")), Coding::Gzip);
        assert_eq!(negotiate(&accepting("identity, zstd")), Coding::Identity);
        assert_eq!(negotiate(&accepting("GZIP;Q=1")), Coding::Gzip);
    }

    #[test]
    fn if_none_match_compares_weakly_and_reads_lists() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_static("\"other\", W/\"abc-br\""),
        );
        assert!(matches(&headers, "\"abc-br\""));
        assert!(!matches(&headers, "\"abc\""));
    }
}
