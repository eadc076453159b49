//! `/admin/projets`: the projects, drafts included; a new one (a draft), its texts, what one
//! person reached costs and its impact tiers edited; its cover uploaded; previewed, published,
//! closed or taken back to draft. Editors change, viewers read; each change is journaled, and
//! the public pages show it at once (the page cache drops on any write).

use askama::Template;
use axum::extract::State;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::json;

use super::{Publication, Staff, StaffBar, form_token, page, uploads};
use crate::domain::campaign::ProjectStatus;
use crate::domain::dates;
use crate::domain::gift::FieldErrors;
use crate::domain::money::{Currency, euros_as_typed, format_money};
use crate::domain::project_form::{ProjectDraft, ProjectForm};
use crate::domain::staff::Role;
use crate::error::{AppError, Result};
use crate::media;
use crate::store::project_admin::{self, Editable};
use crate::store::{audit, projects};
use crate::web::AppState;
use crate::web::extract::{AppForm, AppPath, AppQuery};
use crate::web::layout::Layout;
use crate::web::once::{self, OnceForm, Sending};
use crate::web::public;

#[derive(Template)]
#[template(path = "admin/projects.html")]
struct ListTemplate {
    layout: Layout,
    staff: Option<StaffBar>,
    csrf_token: String,
    rows: Vec<Row>,
    can_edit: bool,
}

struct Row {
    id: i64,
    slug: String,
    name: String,
    full_name: String,
    status: &'static str,
    campaigns: i64,
    raised: String,
}

pub fn status_label(status: ProjectStatus) -> &'static str {
    match status {
        ProjectStatus::Draft => "Brouillon",
        ProjectStatus::Published => "En ligne",
        ProjectStatus::Closed => "Terminé",
    }
}

/// `GET /admin/projets`.
pub async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    me: Staff,
) -> Result<Response> {
    me.require(Role::Viewer)?;
    let rows = project_admin::all(state.db.pool())
        .await?
        .into_iter()
        .map(|p| Row {
            id: p.id,
            slug: p.slug,
            name: p.name,
            full_name: p.full_name,
            status: status_label(p.status),
            campaigns: p.campaigns,
            raised: format_money(p.raised_cents, Currency::EUR),
        })
        .collect();
    let (csrf_token, cookie) = form_token(&state, &headers);
    let html = ListTemplate {
        layout: Layout::new(&state, "Projets"),
        staff: Some(me.bar()),
        csrf_token,
        rows,
        can_edit: me.role.allows(Role::Editor),
    }
    .render()?;
    Ok(page(StatusCode::OK, html, cookie))
}

#[derive(Template)]
#[template(path = "admin/project_form.html")]
struct FormTemplate {
    layout: Layout,
    staff: Option<StaffBar>,
    csrf_token: String,
    /// `None` for a new project.
    publication: Option<Publication>,
    form: ProjectForm,
    errors: FieldErrors,
    done: Option<&'static str>,
}

impl FormTemplate {
    fn value<'a>(&self, field: &'a Option<String>) -> &'a str {
        field.as_deref().unwrap_or("")
    }
}

/// The form filled with what is stored.
async fn stored_form(state: &AppState, p: &Editable) -> Result<ProjectForm> {
    let tiers = project_admin::tiers(state.db.pool(), p.id).await?;
    Ok(ProjectForm {
        name: Some(p.name.clone()),
        full_name: Some(p.full_name.clone()),
        slug: Some(p.slug.clone()),
        tagline: Some(p.tagline.clone()),
        description: Some(p.description.clone()),
        location: Some(p.location.clone()),
        impact_unit: p.impact_unit_cents.map(euros_as_typed),
        impact_unit_label: p.impact_unit_label.clone(),
        tiers: Some(
            tiers
                .iter()
                .map(|(cents, label)| format!("{} = {label}", euros_as_typed(*cents)))
                .collect::<Vec<_>>()
                .join("\n"),
        ),
    })
}

struct FormPage<'a> {
    project: Option<&'a Editable>,
    form: ProjectForm,
    errors: FieldErrors,
    done: Option<&'static str>,
    status: StatusCode,
}

async fn form_page(
    state: &AppState,
    headers: &HeaderMap,
    me: &Staff,
    shown: FormPage<'_>,
) -> Result<Response> {
    let (csrf_token, cookie) = form_token(state, headers);
    let title = match shown.project {
        Some(p) => format!("Projet « {} »", p.name),
        None => "Nouveau projet".to_owned(),
    };
    let html = FormTemplate {
        layout: Layout::new(state, title),
        staff: Some(me.bar()),
        csrf_token,
        publication: shown.project.map(|p| Publication {
            edit_path: format!("/admin/projets/{}", p.id),
            public_path: format!("/projets/{}", p.slug),
            status: p.status,
            status_label: status_label(p.status),
            close_label: "Terminer le projet",
            cover_image: p.cover_image.clone(),
        }),
        form: shown.form,
        errors: shown.errors,
        done: shown.done,
    }
    .render()?;
    Ok(page(shown.status, html, cookie))
}

/// `GET /admin/projets/nouveau` (editors).
pub async fn new(State(state): State<AppState>, headers: HeaderMap, me: Staff) -> Result<Response> {
    me.require(Role::Editor)?;
    let shown = FormPage {
        project: None,
        form: ProjectForm::default(),
        errors: FieldErrors::new(),
        done: None,
        status: StatusCode::OK,
    };
    form_page(&state, &headers, &me, shown).await
}

#[derive(Debug, Deserialize)]
pub struct Submitted {
    csrf_token: Option<String>,
    #[serde(flatten)]
    form: ProjectForm,
}

/// The form checked, the slug free.
async fn checked(
    state: &AppState,
    form: &ProjectForm,
    id: Option<i64>,
) -> Result<std::result::Result<ProjectDraft, FieldErrors>> {
    let draft = match form.validate() {
        Ok(draft) => draft,
        Err(errors) => return Ok(Err(errors)),
    };
    if project_admin::slug_taken(state.db.pool(), draft.slug.as_str(), id).await? {
        let mut errors = FieldErrors::new();
        errors.insert("slug", "Un autre projet a déjà cette adresse.".to_owned());
        return Ok(Err(errors));
    }
    Ok(Ok(draft))
}

fn journaled(p: &ProjectDraft) -> serde_json::Value {
    json!({
        "name": p.name,
        "slug": p.slug.as_str(),
        "impact_unit_cents": p.impact_unit.as_ref().map(|(cents, _)| cents),
    })
}

/// The default cover of a new project, until one is uploaded.
const DEFAULT_COVER: &str = "/static/img/communautes.svg";

/// `POST /admin/projets/nouveau`: a draft, to publish when ready.
pub async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    me: Staff,
    OnceForm(submitted, post): OnceForm<Submitted>,
) -> Result<Response> {
    let now = dates::now();
    state
        .form_key
        .check(&headers, submitted.csrf_token.as_deref(), now)?;
    me.require(Role::Editor)?;
    let first = match once::claim(&state, &post).await? {
        Sending::First(first) => first,
        Sending::Again(location) => return Ok(Redirect::to(&location).into_response()),
    };
    let draft = match checked(&state, &submitted.form, None).await? {
        Ok(draft) => draft,
        Err(errors) => {
            let shown = FormPage {
                project: None,
                form: submitted.form,
                errors,
                done: None,
                status: StatusCode::UNPROCESSABLE_ENTITY,
            };
            return form_page(&state, &headers, &me, shown).await;
        }
    };
    let mut tx = state.db.begin_write().await?;
    let id = project_admin::create(&mut tx, &draft, DEFAULT_COVER, now).await?;
    let entry = audit::Entry {
        staff_id: Some(me.id),
        action: "project.create",
        subject: format!("project:{id}"),
        before: None,
        after: Some(journaled(&draft)),
    };
    audit::record(&mut tx, &entry, now).await?;
    tx.commit().await?;
    let location = format!("/admin/projets/{id}?fait=creation");
    first.done(&location).await;
    Ok(Redirect::to(&location).into_response())
}

#[derive(Debug, Deserialize)]
pub struct DoneQuery {
    fait: Option<String>,
}

fn done_message(done: Option<&str>) -> Option<&'static str> {
    Some(match done? {
        "creation" => {
            "Le projet est créé en brouillon : ajoutez une image, relisez-le, puis mettez-le en ligne."
        }
        "enregistre" => "C’est enregistré ; les pages publiques le montrent déjà.",
        "statut" => "Le statut est changé.",
        "image" => "L’image est enregistrée.",
        _ => return None,
    })
}

async fn own(state: &AppState, id: i64) -> Result<Editable> {
    project_admin::editable(state.db.pool(), id)
        .await?
        .ok_or(AppError::NotFound)
}

/// `GET /admin/projets/{id}`.
pub async fn edit(
    State(state): State<AppState>,
    headers: HeaderMap,
    me: Staff,
    AppPath(id): AppPath<i64>,
    AppQuery(query): AppQuery<DoneQuery>,
) -> Result<Response> {
    me.require(Role::Editor)?;
    let project = own(&state, id).await?;
    let shown = FormPage {
        project: Some(&project),
        form: stored_form(&state, &project).await?,
        errors: FieldErrors::new(),
        done: done_message(query.fait.as_deref()),
        status: StatusCode::OK,
    };
    form_page(&state, &headers, &me, shown).await
}

/// `POST /admin/projets/{id}`.
pub async fn save(
    State(state): State<AppState>,
    headers: HeaderMap,
    me: Staff,
    AppPath(id): AppPath<i64>,
    AppForm(submitted): AppForm<Submitted>,
) -> Result<Response> {
    let now = dates::now();
    state
        .form_key
        .check(&headers, submitted.csrf_token.as_deref(), now)?;
    me.require(Role::Editor)?;
    let project = own(&state, id).await?;
    let draft = match checked(&state, &submitted.form, Some(id)).await? {
        Ok(draft) => draft,
        Err(errors) => {
            let shown = FormPage {
                project: Some(&project),
                form: submitted.form,
                errors,
                done: None,
                status: StatusCode::UNPROCESSABLE_ENTITY,
            };
            return form_page(&state, &headers, &me, shown).await;
        }
    };
    let mut tx = state.db.begin_write().await?;
    project_admin::update(&mut tx, id, &draft, now).await?;
    let entry = audit::Entry {
        staff_id: Some(me.id),
        action: "project.update",
        subject: format!("project:{id}"),
        before: Some(json!({
            "name": project.name,
            "slug": project.slug,
            "impact_unit_cents": project.impact_unit_cents,
        })),
        after: Some(journaled(&draft)),
    };
    audit::record(&mut tx, &entry, now).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/admin/projets/{id}?fait=enregistre")).into_response())
}

#[derive(Debug, Deserialize)]
pub struct StatusForm {
    csrf_token: Option<String>,
    #[serde(default)]
    status: String,
}

/// `POST /admin/projets/{id}/statut`: publish, close, or back to draft (only when none of its
/// campaigns is public: a public page never leads to a hidden one).
pub async fn change_status(
    State(state): State<AppState>,
    headers: HeaderMap,
    me: Staff,
    AppPath(id): AppPath<i64>,
    AppForm(form): AppForm<StatusForm>,
) -> Result<Response> {
    let now = dates::now();
    state
        .form_key
        .check(&headers, form.csrf_token.as_deref(), now)?;
    me.require(Role::Editor)?;
    let status: ProjectStatus = form.status.parse().map_err(|_| {
        AppError::BadRequest("Choisissez un statut : brouillon, en ligne ou terminé.".to_owned())
    })?;
    let project = own(&state, id).await?;
    let mut tx = state.db.begin_write().await?;
    if status == ProjectStatus::Draft && project_admin::public_campaigns(&mut tx, id).await? > 0 {
        return Err(AppError::Conflict(
            "Une campagne de ce projet est publique : repassez-la d’abord en brouillon.".to_owned(),
        ));
    }
    project_admin::set_status(&mut tx, id, status, now).await?;
    let entry = audit::Entry {
        staff_id: Some(me.id),
        action: "project.status",
        subject: format!("project:{id}"),
        before: Some(json!({ "status": project.status.as_str() })),
        after: Some(json!({ "status": status.as_str() })),
    };
    audit::record(&mut tx, &entry, now).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/admin/projets/{id}?fait=statut")).into_response())
}

/// `POST /admin/projets/{id}/image`: a new cover (JPEG, PNG or WebP, checked by content).
pub async fn upload_cover(
    State(state): State<AppState>,
    headers: HeaderMap,
    me: Staff,
    AppPath(id): AppPath<i64>,
    multipart: std::result::Result<Multipart, MultipartRejection>,
) -> Result<Response> {
    let sent = uploads::read(multipart, media::COVER).await?;
    let now = dates::now();
    state
        .form_key
        .check(&headers, sent.csrf_token.as_deref(), now)?;
    me.require(Role::Editor)?;
    let project = own(&state, id).await?;
    let image = match sent.image {
        Ok(image) => image,
        Err(message) => {
            let mut errors = FieldErrors::new();
            errors.insert("image", message);
            let shown = FormPage {
                project: Some(&project),
                form: stored_form(&state, &project).await?,
                errors,
                done: None,
                status: StatusCode::UNPROCESSABLE_ENTITY,
            };
            return form_page(&state, &headers, &me, shown).await;
        }
    };
    uploads::replace_cover(
        &state,
        &me,
        uploads::Covered::Project(id),
        &project.cover_image,
        image,
    )
    .await
}

/// `GET /admin/projets/{id}/apercu`: the public page, drafts included, for the team.
pub async fn preview(
    State(state): State<AppState>,
    headers: HeaderMap,
    me: Staff,
    AppPath(id): AppPath<i64>,
) -> Result<Response> {
    me.require(Role::Viewer)?;
    let project = projects::find_by_id(state.db.pool(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let html = public::project_html(&state, &project, Some(format!("/admin/projets/{id}"))).await?;
    let (_, cookie) = form_token(&state, &headers);
    Ok(page(StatusCode::OK, html, cookie))
}
