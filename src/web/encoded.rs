//! Bodies prepared once in each content coding and served with their validators: the static
//! files and the cached public pages. Nothing here compresses per request; the compression
//! layer does that for the other responses, and leaves these alone ([`not_precompressed`]).

use std::io::Write;
use std::time::SystemTime;

use axum::body::Bytes;
use axum::http::{Extensions, HeaderMap, HeaderValue, StatusCode, Version, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
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
pub fn negotiate(headers: &HeaderMap) -> Coding {
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

/// Marks a response whose encoding was chosen here, so that the compression layer leaves it
/// alone.
#[derive(Debug, Clone, Copy)]
struct Precompressed;

/// The compression layer's predicate: false for responses encoded here.
pub fn not_precompressed(
    _: StatusCode,
    _: Version,
    _: &HeaderMap,
    extensions: &Extensions,
) -> bool {
    extensions.get::<Precompressed>().is_none()
}

/// How hard to compress: as hard as possible for what is compressed once per process (static
/// files), at fast settings for what is compressed again whenever it changes (pages).
#[derive(Debug, Clone, Copy)]
pub enum Effort {
    Best,
    Fast,
}

/// A body in each coding worth having, with a hash of its content for validators.
pub struct Variants {
    identity: Bytes,
    gzip: Option<Bytes>,
    brotli: Option<Bytes>,
    hash: String,
}

impl Variants {
    /// The body and its compressed forms (kept only when smaller).
    pub fn compressed(identity: Bytes, effort: Effort) -> Variants {
        let smaller = |body: Vec<u8>| (body.len() < identity.len()).then(|| Bytes::from(body));
        let gzip = gzip(&identity, effort).and_then(smaller);
        let brotli = brotli(&identity, effort).and_then(smaller);
        Variants {
            hash: short_hash(&identity),
            identity,
            gzip,
            brotli,
        }
    }

    /// A body that does not compress (raster images).
    pub fn plain(identity: Bytes) -> Variants {
        Variants {
            hash: short_hash(&identity),
            identity,
            gzip: None,
            brotli: None,
        }
    }

    /// A short hex digest of the content: equal bodies, equal hashes.
    pub fn hash(&self) -> &str {
        &self.hash
    }

    /// How many bytes all the variants hold, for the cache's accounting.
    pub fn size(&self) -> usize {
        self.identity.len()
            + self.gzip.as_ref().map_or(0, Bytes::len)
            + self.brotli.as_ref().map_or(0, Bytes::len)
    }

    /// The body for `coding`, falling back to the plain one when that variant is absent.
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

    /// Each coding is its own representation, so it gets its own strong validator.
    fn etag(&self, coding: Coding) -> String {
        match coding.token() {
            Some(token) => format!("\"{}-{token}\"", self.hash),
            None => format!("\"{}\"", self.hash),
        }
    }

    fn has_variants(&self) -> bool {
        self.gzip.is_some() || self.brotli.is_some()
    }
}

/// The first 8 bytes of the content's SHA-256, in hex.
pub fn short_hash(data: &[u8]) -> String {
    hex_prefix(&Sha256::digest(data))
}

/// The first 8 bytes of a digest, in hex.
pub fn hex_prefix(digest: &[u8]) -> String {
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

fn gzip(data: &[u8], effort: Effort) -> Option<Vec<u8>> {
    let level = match effort {
        Effort::Best => flate2::Compression::best(),
        Effort::Fast => flate2::Compression::new(5),
    };
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), level);
    encoder.write_all(data).ok()?;
    encoder.finish().ok()
}

fn brotli(data: &[u8], effort: Effort) -> Option<Vec<u8>> {
    // Quality 11 is the best and takes milliseconds on a page; 5 takes a fraction of one
    // and loses a few percent. The window is brotli's default (4 MB).
    let quality = match effort {
        Effort::Best => 11,
        Effort::Fast => 5,
    };
    let mut encoder = brotli::CompressorWriter::new(Vec::new(), 4096, quality, 22);
    encoder.write_all(data).ok()?;
    encoder.flush().ok()?;
    Some(encoder.into_inner())
}

/// A prepared body with what a response needs besides: its type, how long others may keep
/// it, and when it last changed (for `Last-Modified`, when known).
pub struct Prepared<'a> {
    pub variants: &'a Variants,
    pub content_type: &'a HeaderValue,
    pub cache_control: &'a HeaderValue,
    pub last_modified: Option<SystemTime>,
}

impl Prepared<'_> {
    /// The variant `request` accepts, or `304 Not Modified` when its validators match.
    pub fn respond(&self, request: &HeaderMap) -> Response {
        let (coding, body) = self.variants.body(negotiate(request));
        let etag = self.variants.etag(coding);
        let mut response = if self.not_modified(request, &etag) {
            StatusCode::NOT_MODIFIED.into_response()
        } else {
            let mut response = body.into_response();
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_TYPE, self.content_type.clone());
            if let Some(token) = coding.token() {
                headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(token));
            }
            response
        };
        response.extensions_mut().insert(Precompressed);
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, self.cache_control.clone());
        if self.variants.has_variants() {
            headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        }
        if let Ok(value) = HeaderValue::from_str(&etag) {
            headers.insert(header::ETAG, value);
        }
        if let Some(value) = self
            .last_modified
            .and_then(|time| HeaderValue::from_str(&httpdate::fmt_http_date(time)).ok())
        {
            headers.insert(header::LAST_MODIFIED, value);
        }
        response
    }

    /// `If-None-Match` decides when present (RFC 9110 §13.2.2); otherwise `If-Modified-Since`.
    fn not_modified(&self, request: &HeaderMap, etag: &str) -> bool {
        if request.contains_key(header::IF_NONE_MATCH) {
            return matches(request, etag);
        }
        let (Some(modified), Some(since)) = (
            self.last_modified,
            request
                .get(header::IF_MODIFIED_SINCE)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| httpdate::parse_http_date(value).ok()),
        ) else {
            return false;
        };
        // HTTP dates have whole seconds.
        let seconds = |time: SystemTime| {
            time.duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |elapsed| elapsed.as_secs())
        };
        seconds(modified) <= seconds(since)
    }
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn with(name: header::HeaderName, value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(name, HeaderValue::from_str(value).unwrap());
        headers
    }

    fn accepting(value: &str) -> HeaderMap {
        with(header::ACCEPT_ENCODING, value)
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
        let headers = with(header::IF_NONE_MATCH, "\"other\", W/\"abc-br\"");
        assert!(matches(&headers, "\"abc-br\""));
        assert!(!matches(&headers, "\"abc\""));
    }

    #[test]
    fn compressed_variants_decode_to_the_body_and_differ_in_validator() {
        let page = Bytes::from("<p>Grâce à vous</p>".repeat(200));
        let variants = Variants::compressed(page.clone(), Effort::Fast);
        let (coding, gzipped) = variants.body(Coding::Gzip);
        assert_eq!(coding, Coding::Gzip);
        let mut decoded = String::new();
        std::io::Read::read_to_string(
            &mut flate2::read::GzDecoder::new(&gzipped[..]),
            &mut decoded,
        )
        .unwrap();
        assert_eq!(decoded.as_bytes(), &page[..]);
        assert!(gzipped.len() < page.len() / 10);
        assert_ne!(variants.etag(Coding::Gzip), variants.etag(Coding::Brotli));
        assert_eq!(variants.hash(), short_hash(&page));
    }

    #[test]
    fn if_modified_since_answers_304_only_when_nothing_changed_since() {
        let variants = Variants::plain(Bytes::from_static(b"x"));
        let content_type = HeaderValue::from_static("text/plain");
        let modified = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let prepared = Prepared {
            variants: &variants,
            content_type: &content_type,
            cache_control: &content_type,
            last_modified: Some(modified),
        };
        let at = |time| with(header::IF_MODIFIED_SINCE, &httpdate::fmt_http_date(time));
        let status = |request: &HeaderMap| prepared.respond(request).status();
        assert_eq!(status(&at(modified)), StatusCode::NOT_MODIFIED);
        assert_eq!(
            status(&at(modified + Duration::from_secs(60))),
            StatusCode::NOT_MODIFIED
        );
        assert_eq!(
            status(&at(modified - Duration::from_secs(1))),
            StatusCode::OK
        );
        // An ETag that does not match wins over a date that would.
        let mut both = at(modified);
        both.insert(header::IF_NONE_MATCH, HeaderValue::from_static("\"other\""));
        assert_eq!(status(&both), StatusCode::OK);
    }
}
