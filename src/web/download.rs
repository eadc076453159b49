//! A file to save (a data export, a tax receipt): never cached, with its name.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use super::AppState;
use crate::error::AppError;
use crate::receipts;
use crate::store::receipts as store;

pub fn download(content_type: &'static str, name: &str, body: Vec<u8>) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(disposition) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, disposition);
    }
    response
}

/// A tax receipt's PDF; with `owner`, only if it is that supporter's (another's is not found).
pub async fn receipt(state: &AppState, id: i64, owner: Option<i64>) -> Result<Response, AppError> {
    let mut conn = state.db.pool().acquire().await?;
    let receipt = store::find(&mut conn, id)
        .await?
        .filter(|r| owner.is_none_or(|supporter_id| r.supporter_id == supporter_id))
        .ok_or(AppError::NotFound)?;
    drop(conn);
    let bytes = receipts::pdf_of(&state.db, &state.config.data_dir, id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(download(
        "application/pdf",
        &format!("recu-fiscal-{}.pdf", receipt.number),
        bytes,
    ))
}
