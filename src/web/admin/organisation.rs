//! `/admin/organisation` (admins): the organisation as its tax receipts and legal pages
//! describe it. The page names what receipts still need; each save is journaled with the
//! state before and after.

use askama::Template;
use axum::extract::State;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::{Staff, StaffBar, form_token, page, uploads};
use crate::domain::dates;
use crate::domain::gift::FieldErrors;
use crate::domain::organisation::{CATEGORIES, CGI_ARTICLES, Organisation};
use crate::domain::staff::Role;
use crate::error::Result;
use crate::media;
use crate::store::audit;
use crate::store::settings::{self, Picture};
use crate::web::AppState;
use crate::web::extract::{AppForm, AppQuery};
use crate::web::layout::Layout;

#[derive(Template)]
#[template(path = "admin/organisation.html")]
struct OrganisationTemplate {
    layout: Layout,
    staff: Option<StaffBar>,
    csrf_token: String,
    o: Organisation,
    errors: FieldErrors,
    missing: Vec<&'static str>,
    categories: &'static [(&'static str, &'static str)],
    articles: Vec<(&'static str, String, bool)>,
    done: bool,
}

async fn organisation_page(
    state: &AppState,
    headers: &HeaderMap,
    me: &Staff,
    o: Organisation,
    errors: FieldErrors,
    done: bool,
    status: StatusCode,
) -> Result<Response> {
    let (csrf_token, cookie) = form_token(state, headers);
    let html = OrganisationTemplate {
        layout: Layout::new(state, "Organisation"),
        staff: Some(me.bar()),
        csrf_token,
        missing: o.missing_for_receipts(),
        articles: CGI_ARTICLES
            .iter()
            .map(|a| (*a, format!("cgi_{}", a.replace(' ', "_")), o.has_article(a)))
            .collect(),
        categories: CATEGORIES,
        o,
        errors,
        done,
    }
    .render()?;
    Ok(page(status, html, cookie))
}

#[derive(Debug, Deserialize)]
pub struct DoneQuery {
    fait: Option<String>,
}

/// `POST /admin/organisation/signature`: the signature printed on receipts (PNG or JPEG,
/// checked by content).
pub async fn upload_signature(
    State(state): State<AppState>,
    headers: HeaderMap,
    me: Staff,
    multipart: std::result::Result<Multipart, MultipartRejection>,
) -> Result<Response> {
    upload(&state, &headers, &me, multipart, Picture::Signature).await
}

/// `POST /admin/organisation/logo`: the logo every page's header shows (PNG, JPEG or WebP,
/// checked by content).
pub async fn upload_logo(
    State(state): State<AppState>,
    headers: HeaderMap,
    me: Staff,
    multipart: std::result::Result<Multipart, MultipartRejection>,
) -> Result<Response> {
    upload(&state, &headers, &me, multipart, Picture::Logo).await
}

/// Stores one of the organisation's pictures, journaled; the form again with the reason when
/// the file is refused.
async fn upload(
    state: &AppState,
    headers: &HeaderMap,
    me: &Staff,
    multipart: std::result::Result<Multipart, MultipartRejection>,
    picture: Picture,
) -> Result<Response> {
    let rules = match picture {
        Picture::Signature => media::SIGNATURE,
        Picture::Logo => media::LOGO,
    };
    let sent = uploads::read(multipart, rules).await?;
    let now = dates::now();
    state
        .form_key
        .check(headers, sent.csrf_token.as_deref(), now)?;
    me.require(Role::Admin)?;
    let o = settings::organisation(state.db.pool()).await?;
    let field = match picture {
        Picture::Signature => "signature",
        Picture::Logo => "logo",
    };
    let image = match sent.image {
        Ok(image) => image,
        Err(message) => {
            let mut errors = FieldErrors::new();
            errors.insert(field, message);
            return organisation_page(
                state,
                headers,
                me,
                o,
                errors,
                false,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let address = uploads::store(&state.config.data_dir, image).await?;
    let mut tx = state.db.begin_write().await?;
    settings::set_picture(&mut tx, picture, &address, now).await?;
    let entry = audit::Entry {
        staff_id: Some(me.id),
        action: match picture {
            Picture::Signature => "organisation.signature",
            Picture::Logo => "organisation.logo",
        },
        subject: "organisation".to_owned(),
        before: Some(serde_json::json!({ picture.column(): picture.of(&o) })),
        after: Some(serde_json::json!({ picture.column(): address })),
    };
    audit::record(&mut tx, &entry, now).await?;
    tx.commit().await?;
    state.identity.refresh(&state.db).await?;
    Ok(Redirect::to("/admin/organisation?fait=1").into_response())
}

/// `GET /admin/organisation`.
pub async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    me: Staff,
    AppQuery(query): AppQuery<DoneQuery>,
) -> Result<Response> {
    me.require(Role::Admin)?;
    let o = settings::organisation(state.db.pool()).await?;
    let done = query.fait.is_some();
    organisation_page(
        &state,
        &headers,
        &me,
        o,
        FieldErrors::new(),
        done,
        StatusCode::OK,
    )
    .await
}

#[derive(Debug, Deserialize)]
pub struct OrganisationForm {
    csrf_token: Option<String>,
    #[serde(flatten)]
    o: Organisation,
    cgi_200: Option<String>,
    cgi_238_bis: Option<String>,
    cgi_978: Option<String>,
    utility: Option<String>,
}

/// `POST /admin/organisation`.
pub async fn save(
    State(state): State<AppState>,
    headers: HeaderMap,
    me: Staff,
    AppForm(form): AppForm<OrganisationForm>,
) -> Result<Response> {
    let now = dates::now();
    state
        .form_key
        .check(&headers, form.csrf_token.as_deref(), now)?;
    me.require(Role::Admin)?;
    let ticked: Vec<&str> = [
        (form.cgi_200.is_some(), "200"),
        (form.cgi_238_bis.is_some(), "238 bis"),
        (form.cgi_978.is_some(), "978"),
    ]
    .into_iter()
    .filter_map(|(on, article)| on.then_some(article))
    .collect();
    let before = settings::organisation(state.db.pool()).await?;
    let typed = Organisation {
        cgi_articles: ticked.join(","),
        public_utility: i64::from(form.utility.is_some()),
        signature_image: before.signature_image.clone(),
        logo_image: before.logo_image.clone(),
        ..form.o
    };
    let checked = match typed.clone().checked() {
        Ok(checked) => checked,
        Err(errors) => {
            return organisation_page(
                &state,
                &headers,
                &me,
                typed,
                errors,
                false,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let mut tx = state.db.begin_write().await?;
    settings::save(&mut tx, &checked, now).await?;
    let entry = audit::Entry {
        staff_id: Some(me.id),
        action: "organisation.update",
        subject: "organisation".to_owned(),
        before: serde_json::to_value(json_of(&before)).ok(),
        after: serde_json::to_value(json_of(&checked)).ok(),
    };
    audit::record(&mut tx, &entry, now).await?;
    tx.commit().await?;
    state.identity.refresh(&state.db).await?;
    Ok(Redirect::to("/admin/organisation?fait=1").into_response())
}

/// The settings as the journal keeps them.
fn json_of(o: &Organisation) -> serde_json::Value {
    serde_json::json!({
        "name": o.name, "address_line1": o.address_line1, "postal_code": o.postal_code,
        "city": o.city, "object": o.object, "category": o.category, "siren": o.siren,
        "rna": o.rna, "cgi_articles": o.cgi_articles, "signatory_name": o.signatory_name,
        "signatory_role": o.signatory_role, "publication_director": o.publication_director,
        "contact_email": o.contact_email, "host": o.host, "public_utility": o.public_utility,
        "signature_image": o.signature_image, "logo_image": o.logo_image,
    })
}
