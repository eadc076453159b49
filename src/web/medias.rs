//! `/medias/{name}`: the pictures the team uploaded, named by their content's hash, so each
//! address holds the same bytes for ever and browsers may keep them a year.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::AppState;
use super::extract::AppPath;
use crate::error::AppError;
use crate::media;

pub fn router() -> Router<AppState> {
    Router::new().route("/medias/{name}", get(serve))
}

async fn serve(
    State(state): State<AppState>,
    AppPath(name): AppPath<String>,
) -> Result<Response, AppError> {
    media::parse_name(&name).ok_or(AppError::NotFound)?;
    let data_dir = state.config.data_dir.clone();
    let address = format!("/medias/{name}");
    let found = tokio::task::spawn_blocking(move || media::read(&data_dir, &address))
        .await
        .map_err(|e| AppError::Other(e.into()))?;
    let (kind, bytes) = found.ok_or(AppError::NotFound)?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(kind.content_type()),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            ),
        ],
        bytes,
    )
        .into_response())
}
