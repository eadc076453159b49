//! Turns every error response into our styled French page (or JSON under `/api/` and
//! `/webhooks/`), whatever produced it: a handler's `AppError`, an unknown route, axum itself
//! (405, 413), the request's limits (408, 414, 431), its timeout (503) or a panic.

use std::any::Any;

use askama::Template;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use serde_json::json;

use super::AppState;
use super::layout::Layout;
use crate::error::{AppError, ErrorPage};

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorTemplate {
    layout: Layout,
    page: ErrorPage,
}

pub async fn not_found() -> AppError {
    AppError::NotFound
}

/// A panicking handler answers like any other server error (the panic is logged by the hook).
pub fn panic_response(_: Box<dyn Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    status_page(StatusCode::INTERNAL_SERVER_ERROR)
}

/// An error response with the status's generic page, for the layer below to render.
pub fn status_page(status: StatusCode) -> Response {
    let mut response = status.into_response();
    response
        .extensions_mut()
        .insert(ErrorPage::for_status(status));
    response
}

/// Renders error responses; successful ones pass through untouched.
pub async fn render_error_pages(
    State(state): State<AppState>,
    uri: Uri,
    response: Response,
) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let page = match response.extensions().get::<ErrorPage>() {
        Some(page) => page.clone(),
        // Responses built elsewhere keep their own body when they already speak HTML or JSON.
        None if has_own_body(&response) => return response,
        None => ErrorPage::for_status(status),
    };
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    if speaks_json(uri.path()) {
        let body = json!({ "error": { "status": status.as_u16(), "message": page.message } });
        parts.headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        return Response::from_parts(parts, Body::from(body.to_string()));
    }
    let title = page.title.to_owned();
    let template = ErrorTemplate {
        layout: Layout::new(&state, title),
        page,
    };
    match template.render() {
        Ok(html) => {
            let rendered = Html(html).into_response();
            parts.headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            Response::from_parts(parts, rendered.into_body())
        }
        Err(error) => {
            tracing::error!(%error, "error page failed to render");
            Response::from_parts(
                parts,
                Body::from(status.canonical_reason().unwrap_or("Erreur")),
            )
        }
    }
}

/// The API's clients and Stripe's webhooks read JSON, never a page.
fn speaks_json(path: &str) -> bool {
    path.starts_with("/api/") || path.starts_with("/webhooks/")
}

fn has_own_body(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/html") || ct.starts_with("application/json"))
}
