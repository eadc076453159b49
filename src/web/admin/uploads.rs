//! Pictures sent from the back-office's forms (`multipart/form-data`): the form's CSRF token
//! and one file, read no further than the picture's size limit, then checked by content.

use axum::extract::DefaultBodyLimit;
use axum::extract::multipart::{Multipart, MultipartError, MultipartRejection};
use axum::http::{HeaderValue, header};
use tower_http::set_header::SetResponseHeaderLayer;

use axum::response::{IntoResponse, Redirect, Response};
use serde_json::json;
use sqlx::AnyConnection;

use super::Staff;
use crate::domain::dates;
use crate::error::AppError;
use crate::media::{self, CheckedImage, ImageRules};
use crate::store::audit;
use crate::web::AppState;

/// What the form sent.
pub struct Sent {
    pub csrf_token: Option<String>,
    /// The picture, or why it is refused (for the form).
    pub image: Result<CheckedImage, String>,
}

/// The body limit of a route taking pictures of these rules (the form's other fields are
/// small).
pub fn body_limit(rules: ImageRules) -> DefaultBodyLimit {
    DefaultBodyLimit::max(rules.max_bytes + 16 * 1024)
}

/// Upload routes end their connection with their answer: one refused past the body limit is
/// answered before its body was read, and the client must not send its next request on it.
pub fn closing() -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::overriding(header::CONNECTION, HeaderValue::from_static("close"))
}

fn unreadable(_: MultipartError) -> AppError {
    AppError::BadRequest(
        "L’envoi n’a pas abouti, ou le fichier dépasse la taille permise : rien n’est enregistré."
            .to_owned(),
    )
}

/// Reads the form: its `csrf_token` and its `image`.
pub async fn read(
    multipart: Result<Multipart, MultipartRejection>,
    rules: ImageRules,
) -> Result<Sent, AppError> {
    // Not a file form: no token either, so the CSRF check refuses it as any forged form.
    let Ok(mut multipart) = multipart else {
        return Ok(Sent {
            csrf_token: None,
            image: Err("Ce formulaire attend un fichier image.".to_owned()),
        });
    };
    let mut csrf_token = None;
    let mut image = Err("Choisissez un fichier.".to_owned());
    while let Some(mut field) = multipart.next_field().await.map_err(unreadable)? {
        match field.name() {
            Some("csrf_token") => csrf_token = Some(field.text().await.map_err(unreadable)?),
            Some("image") => {
                let mut bytes = Vec::new();
                let mut within = true;
                while let Some(chunk) = field.chunk().await.map_err(unreadable)? {
                    // Past the limit the rest is read and dropped (the body limit bounds it):
                    // answering before the upload ends would cut the browser off mid-send.
                    if within && bytes.len() + chunk.len() <= rules.max_bytes {
                        bytes.extend_from_slice(&chunk);
                    } else {
                        within = false;
                    }
                }
                image = if within {
                    media::check(bytes, rules)
                } else {
                    Err(media::wanted(rules))
                };
            }
            _ => {}
        }
    }
    Ok(Sent { csrf_token, image })
}

/// Keeps a checked picture under `DATA_DIR/medias/`; its address.
pub async fn store(data_dir: &std::path::Path, image: CheckedImage) -> Result<String, AppError> {
    let data_dir = data_dir.to_owned();
    tokio::task::spawn_blocking(move || media::store(&data_dir, &image))
        .await
        .map_err(|e| AppError::Other(e.into()))?
        .map_err(|e| AppError::Other(anyhow::anyhow!("storing a picture: {e}")))
}

/// What has a cover: a project or a campaign.
#[derive(Debug, Clone, Copy)]
pub enum Covered {
    Project(i64),
    Campaign(i64),
}

impl Covered {
    fn table(self) -> &'static str {
        match self {
            Covered::Project(_) => "projects",
            Covered::Campaign(_) => "campaigns",
        }
    }

    fn id(self) -> i64 {
        match self {
            Covered::Project(id) | Covered::Campaign(id) => id,
        }
    }

    fn kind(self) -> &'static str {
        match self {
            Covered::Project(_) => "project",
            Covered::Campaign(_) => "campaign",
        }
    }

    fn edit_page(self) -> String {
        match self {
            Covered::Project(id) => format!("/admin/projets/{id}"),
            Covered::Campaign(id) => format!("/admin/campagnes/{id}"),
        }
    }
}

async fn set_cover(
    conn: &mut AnyConnection,
    of: Covered,
    address: &str,
    now: i64,
) -> sqlx::Result<()> {
    // The table's name comes from the enum above, never from the request.
    let sql = format!(
        "UPDATE {} SET cover_image = $1, updated_at = $2 WHERE id = $3",
        of.table()
    );
    sqlx::query(&sql)
        .bind(address)
        .bind(now)
        .bind(of.id())
        .execute(conn)
        .await
        .map(|_| ())
}

/// Keeps a checked cover, puts it on the project or campaign (it was `before`), journals it,
/// and goes back to the edit page.
pub async fn replace_cover(
    state: &AppState,
    me: &Staff,
    of: Covered,
    before: &str,
    image: CheckedImage,
) -> Result<Response, AppError> {
    let address = store(&state.config.data_dir, image).await?;
    let now = dates::now();
    let mut tx = state.db.begin_write().await?;
    set_cover(&mut tx, of, &address, now).await?;
    let action = format!("{}.cover", of.kind());
    let entry = audit::Entry {
        staff_id: Some(me.id),
        action: &action,
        subject: format!("{}:{}", of.kind(), of.id()),
        before: Some(json!({ "cover_image": before })),
        after: Some(json!({ "cover_image": address })),
    };
    audit::record(&mut tx, &entry, now).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("{}?fait=image", of.edit_page())).into_response())
}
