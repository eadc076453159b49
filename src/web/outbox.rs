//! The demonstration's outbox: with no SMTP server configured, emails are files under
//! `DATA_DIR/outbox/`; these pages list them and show each as its recipient would see it, so
//! that a newcomer follows a whole journey (thanks, failed payment, sign-in link) in the
//! browser. Mounted in demonstration mode only.

use std::path::PathBuf;

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

use super::AppState;
use super::extract::AppPath;
use super::layout::Layout;
use crate::domain::dates::french_datetime;
use crate::error::{AppError, Result};
use crate::jobs::email::{OutboxEntry, read_outbox, read_outbox_entry};

/// The newest emails listed; the files stay on disk.
const LISTED: usize = 200;

/// The pages, when emails go to the outbox of a demonstration.
pub fn router(state: &AppState) -> Option<Router<AppState>> {
    let shown = state.config.demo_mode() && state.config.smtp_url.is_none();
    shown.then(|| {
        Router::new()
            .route("/demo/emails", get(list))
            .route("/demo/emails/{id}", get(show))
            .route("/demo/emails/{id}/html", get(html_part))
    })
}

fn outbox_dir(state: &AppState) -> PathBuf {
    state.config.data_dir.join("outbox")
}

struct Listed {
    job_id: i64,
    subject: String,
    to: String,
    written: String,
}

#[derive(Template)]
#[template(path = "outbox.html")]
struct ListTemplate {
    layout: Layout,
    dir: String,
    entries: Vec<Listed>,
}

async fn list(State(state): State<AppState>) -> Result<Response> {
    let dir = outbox_dir(&state);
    let entries = read_outbox(&dir, LISTED)
        .await
        .map_err(|error| AppError::Other(error.into()))?;
    let html = ListTemplate {
        layout: Layout::new(&state, "Emails envoyés"),
        dir: dir.display().to_string(),
        entries: entries
            .into_iter()
            .map(|entry| Listed {
                written: french_datetime(entry.written_at),
                job_id: entry.job_id,
                subject: entry.subject,
                to: entry.to,
            })
            .collect(),
    }
    .render()?;
    Ok(no_store(Html(html).into_response()))
}

#[derive(Template)]
#[template(path = "outbox_email.html")]
struct EmailTemplate {
    layout: Layout,
    written: String,
    entry: OutboxEntry,
}

async fn show(State(state): State<AppState>, AppPath(id): AppPath<i64>) -> Result<Response> {
    let entry = read_outbox_entry(&outbox_dir(&state), id)
        .await
        .ok_or(AppError::NotFound)?;
    let html = EmailTemplate {
        layout: Layout::new(&state, entry.subject.clone()),
        written: french_datetime(entry.written_at),
        entry,
    }
    .render()?;
    Ok(no_store(Html(html).into_response()))
}

/// The HTML part alone, for the frame of [`show`]: sandboxed (no script, no form, nothing of
/// our origin), its links opening in the whole window.
async fn html_part(State(state): State<AppState>, AppPath(id): AppPath<i64>) -> Result<Response> {
    let entry = read_outbox_entry(&outbox_dir(&state), id)
        .await
        .ok_or(AppError::NotFound)?;
    let html = entry
        .html
        .replacen("<head>", "<head><base target=\"_top\">", 1);
    let mut response = no_store(Html(html).into_response());
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "sandbox allow-popups allow-popups-to-escape-sandbox allow-top-navigation-by-user-activation; \
             default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'",
        ),
    );
    headers.insert(
        header::X_FRAME_OPTIONS,
        HeaderValue::from_static("SAMEORIGIN"),
    );
    Ok(response)
}

fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
