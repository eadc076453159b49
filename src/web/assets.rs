//! Static files (CSS, images), embedded in the binary so it runs from any directory.
//! URLs carry a content hash (`?v=…`) so browsers may cache them for a year.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rust_embed::Embed;

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

async fn serve(Path(path): Path<String>, headers: HeaderMap, uri: axum::http::Uri) -> Response {
    let Some(file) = Static::get(&path) else {
        return AppError::NotFound.into_response();
    };
    let etag = format!("\"{}\"", short_hash(&file.metadata.sha256_hash()));
    // Versioned URLs never change content; others may, so they are revalidated hourly.
    let cache = if uri.query().is_some_and(|q| q.starts_with("v=")) {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=3600"
    };
    let mut response = if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        == Some(etag.as_str())
    {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(header::CONTENT_TYPE, file.metadata.mimetype().to_owned())],
            file.data.into_owned(),
        )
            .into_response()
    };
    let response_headers = response.headers_mut();
    response_headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(value) = HeaderValue::from_str(&etag) {
        response_headers.insert(header::ETAG, value);
    }
    response
}
