//! Static files (CSS, scripts, images), embedded in the binary so it runs from any directory.
//! URLs carry a content hash (`?v=…`) so browsers may cache them for a year. Text files are
//! compressed once, at their first request, with the slowest and smallest settings, and each
//! client gets the variant its `Accept-Encoding` allows: nothing is compressed per request.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use axum::Router;
use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::Response;
use axum::routing::get;
use rust_embed::{Embed, EmbeddedFile};

use super::AppState;
use super::encoded::{Effort, Prepared, Variants, hex_prefix};
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
            hex_prefix(&file.metadata.sha256_hash())
        ),
        None => format!("/static/{path}"),
    }
}

/// One static file, held in each coding worth sending.
struct Encoded {
    content_type: HeaderValue,
    variants: Variants,
}

impl Encoded {
    fn new(file: EmbeddedFile) -> Encoded {
        let mimetype = file.metadata.mimetype();
        let content_type = HeaderValue::from_str(mimetype)
            .unwrap_or(HeaderValue::from_static("application/octet-stream"));
        let data = Bytes::from(file.data.into_owned());
        let variants = if compressible(mimetype) {
            Variants::compressed(data, Effort::Best)
        } else {
            Variants::plain(data)
        };
        Encoded {
            content_type,
            variants,
        }
    }
}

fn compressible(content_type: &str) -> bool {
    content_type.starts_with("text/")
        || ["javascript", "json", "xml", "svg"]
            .iter()
            .any(|kind| content_type.contains(kind))
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

async fn serve(
    Path(path): Path<String>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Result<Response, AppError> {
    let Some(file) = encoded(&path).await? else {
        return Err(AppError::NotFound);
    };
    // Versioned URLs never change content; others may, so they are revalidated hourly.
    let cache_control = if uri.query().is_some_and(|q| q.starts_with("v=")) {
        HeaderValue::from_static("public, max-age=31536000, immutable")
    } else {
        HeaderValue::from_static("public, max-age=3600")
    };
    Ok(Prepared {
        variants: &file.variants,
        content_type: &file.content_type,
        cache_control: &cache_control,
        last_modified: None,
    }
    .respond(&headers))
}
