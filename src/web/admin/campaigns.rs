//! `/admin/campagnes`: the campaigns, drafts included; a new one (a draft), its texts, goal,
//! dates, suggested amounts, impact tiers and place on the home page edited; published,
//! closed or taken back to draft. Editors change, viewers read; each change is journaled,
//! and the public pages show it at once (the page cache drops on any write).

use askama::Template;
use axum::extract::State;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::json;

use super::{Publication, Staff, StaffBar, form_token, page, uploads};
use crate::domain::campaign::{self, CampaignStatus};
use crate::domain::campaign_form::{CampaignDraft, CampaignForm};
use crate::domain::dates::{self, DAY, french_date};
use crate::domain::frequency::Frequency;
use crate::domain::gift::FieldErrors;
use crate::domain::money::{Currency, euros_as_typed, format_money};
use crate::domain::progress::Progress;
use crate::domain::staff::Role;
use crate::error::{AppError, Result};
use crate::media;
use crate::store::campaign_admin::{self, Editable};
use crate::store::{audit, campaigns, project_admin, projects};
use crate::web::AppState;
use crate::web::extract::{AppForm, AppPath, AppQuery};
use crate::web::layout::Layout;
use crate::web::once::{self, OnceForm, Sending};
use crate::web::public;

#[derive(Template)]
#[template(path = "admin/campaigns.html")]
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
    title: String,
    project: String,
    status: &'static str,
    raised: String,
    goal: String,
    percent: i64,
    dates: String,
    position: i64,
}

fn status_label(status: CampaignStatus) -> &'static str {
    match status {
        CampaignStatus::Draft => "Brouillon",
        CampaignStatus::Published => "En ligne",
        CampaignStatus::Closed => "Terminée",
    }
}

/// `GET /admin/campagnes`.
pub async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    me: Staff,
) -> Result<Response> {
    me.require(Role::Viewer)?;
    let campaigns = campaign_admin::all(state.db.pool()).await?;
    let (csrf_token, cookie) = form_token(&state, &headers);
    let html = ListTemplate {
        layout: Layout::new(&state, "Campagnes"),
        staff: Some(me.bar()),
        csrf_token,
        rows: campaigns
            .iter()
            .map(|c| Row {
                id: c.id,
                slug: c.slug.clone(),
                title: c.title.clone(),
                project: c.project_name.clone(),
                status: status_label(c.status),
                raised: format_money(c.raised_cents, Currency::EUR),
                goal: format_money(c.goal_cents, Currency::EUR),
                percent: Progress {
                    raised_cents: c.raised_cents,
                    goal_cents: c.goal_cents,
                }
                .percent(),
                dates: match c.ends_at {
                    Some(end) => format!(
                        "du {} au {}",
                        french_date(c.starts_at),
                        french_date(end - DAY)
                    ),
                    None => format!("depuis le {}", french_date(c.starts_at)),
                },
                position: c.position,
            })
            .collect(),
        can_edit: me.role.allows(Role::Editor),
    }
    .render()?;
    Ok(page(StatusCode::OK, html, cookie))
}

#[derive(Template)]
#[template(path = "admin/campaign_form.html")]
struct FormTemplate {
    layout: Layout,
    staff: Option<StaffBar>,
    csrf_token: String,
    /// `None` for a new campaign.
    publication: Option<Publication>,
    form: CampaignForm,
    errors: FieldErrors,
    projects: Vec<(String, String)>,
    done: Option<&'static str>,
}

impl FormTemplate {
    fn value<'a>(&self, field: &'a Option<String>) -> &'a str {
        field.as_deref().unwrap_or("")
    }
}

/// `YYYY-MM-DD` of a time (UTC).
fn iso_day(at: i64) -> String {
    dates::rfc3339(at)
        .and_then(|t| t.get(..10).map(str::to_owned))
        .unwrap_or_default()
}

/// The form filled with what is stored.
async fn stored_form(state: &AppState, c: &Editable) -> Result<CampaignForm> {
    let (amounts, tiers) = campaign_admin::offers(state.db.pool(), c.id).await?;
    let list = |frequency: Frequency| {
        amounts
            .iter()
            .filter(|(f, _)| *f == frequency)
            .map(|(_, cents)| euros_as_typed(*cents))
            .collect::<Vec<_>>()
            .join(" ; ")
    };
    Ok(CampaignForm {
        project: Some(c.project_id.to_string()),
        title: Some(c.title.clone()),
        slug: Some(c.slug.clone()),
        summary: Some(c.summary.clone()),
        story: Some(c.story.clone()),
        goal: Some(euros_as_typed(c.goal_cents)),
        starts_on: Some(iso_day(c.starts_at)),
        ends_on: c.ends_at.map(|end| iso_day(end - DAY)),
        amounts_once: Some(list(Frequency::Once)),
        amounts_monthly: Some(list(Frequency::Monthly)),
        amounts_yearly: Some(list(Frequency::Yearly)),
        tiers: Some(
            tiers
                .iter()
                .map(|(cents, label)| format!("{} = {label}", euros_as_typed(*cents)))
                .collect::<Vec<_>>()
                .join("\n"),
        ),
        position: Some(c.position.to_string()),
    })
}

#[allow(clippy::too_many_arguments)]
async fn form_page(
    state: &AppState,
    headers: &HeaderMap,
    me: &Staff,
    campaign: Option<&Editable>,
    form: CampaignForm,
    errors: FieldErrors,
    done: Option<&'static str>,
    status: StatusCode,
) -> Result<Response> {
    let projects = campaign_admin::projects(state.db.pool()).await?;
    let (csrf_token, cookie) = form_token(state, headers);
    let title = match campaign {
        Some(c) => format!("Campagne « {} »", c.title),
        None => "Nouvelle campagne".to_owned(),
    };
    let html = FormTemplate {
        layout: Layout::new(state, title),
        staff: Some(me.bar()),
        csrf_token,
        publication: campaign.map(|c| Publication {
            edit_path: format!("/admin/campagnes/{}", c.id),
            public_path: format!("/campagnes/{}", c.slug),
            status: c.status,
            status_label: status_label(c.status),
            close_label: "Terminer la collecte",
            cover_image: c.cover_image.clone(),
        }),
        form,
        errors,
        projects: projects
            .into_iter()
            .map(|(id, name)| (id.to_string(), name))
            .collect(),
        done,
    }
    .render()?;
    Ok(page(status, html, cookie))
}

/// `GET /admin/campagnes/nouvelle` (editors).
pub async fn new(State(state): State<AppState>, headers: HeaderMap, me: Staff) -> Result<Response> {
    me.require(Role::Editor)?;
    let form = CampaignForm {
        starts_on: Some(iso_day(dates::now())),
        ..CampaignForm::default()
    };
    form_page(
        &state,
        &headers,
        &me,
        None,
        form,
        FieldErrors::new(),
        None,
        StatusCode::OK,
    )
    .await
}

#[derive(Debug, Deserialize)]
pub struct Submitted {
    csrf_token: Option<String>,
    #[serde(flatten)]
    form: CampaignForm,
}

/// The form checked, the slug free.
async fn checked(
    state: &AppState,
    form: &CampaignForm,
    id: Option<i64>,
) -> Result<std::result::Result<CampaignDraft, FieldErrors>> {
    let pool = state.db.pool();
    let project_ids: Vec<i64> = campaign_admin::projects(pool)
        .await?
        .iter()
        .map(|(id, _)| *id)
        .collect();
    let draft = match form.validate(&project_ids) {
        Ok(draft) => draft,
        Err(errors) => return Ok(Err(errors)),
    };
    if campaign_admin::slug_taken(pool, draft.slug.as_str(), id).await? {
        let mut errors = FieldErrors::new();
        errors.insert(
            "slug",
            "Une autre campagne a déjà cette adresse.".to_owned(),
        );
        return Ok(Err(errors));
    }
    Ok(Ok(draft))
}

fn journaled(draft: &CampaignDraft) -> serde_json::Value {
    json!({
        "title": draft.title,
        "slug": draft.slug.as_str(),
        "goal_cents": draft.goal_cents,
        "starts_at": draft.starts_at,
        "ends_at": draft.ends_at,
        "position": draft.position,
    })
}

/// `POST /admin/campagnes/nouvelle`: a draft, to publish when ready.
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
            return form_page(
                &state,
                &headers,
                &me,
                None,
                submitted.form,
                errors,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let cover = projects::cover_image(state.db.pool(), draft.project_id)
        .await?
        .unwrap_or_default();
    let mut tx = state.db.begin_write().await?;
    let id = campaign_admin::create(&mut tx, &draft, &cover, now).await?;
    let entry = audit::Entry {
        staff_id: Some(me.id),
        action: "campaign.create",
        subject: format!("campaign:{id}"),
        before: None,
        after: Some(journaled(&draft)),
    };
    audit::record(&mut tx, &entry, now).await?;
    tx.commit().await?;
    let location = format!("/admin/campagnes/{id}?fait=creation");
    first.done(&location).await;
    Ok(Redirect::to(&location).into_response())
}

#[derive(Debug, Deserialize)]
pub struct DoneQuery {
    fait: Option<String>,
}

fn done_message(done: Option<&str>) -> Option<&'static str> {
    Some(match done? {
        "creation" => "La campagne est créée en brouillon : relisez-la, puis mettez-la en ligne.",
        "enregistre" => "C’est enregistré ; les pages publiques le montrent déjà.",
        "statut" => "Le statut est changé.",
        "image" => "L’image est enregistrée.",
        _ => return None,
    })
}

async fn own(state: &AppState, id: i64) -> Result<Editable> {
    campaign_admin::editable(state.db.pool(), id)
        .await?
        .ok_or(AppError::NotFound)
}

/// `GET /admin/campagnes/{id}`.
pub async fn edit(
    State(state): State<AppState>,
    headers: HeaderMap,
    me: Staff,
    AppPath(id): AppPath<i64>,
    AppQuery(query): AppQuery<DoneQuery>,
) -> Result<Response> {
    me.require(Role::Editor)?;
    let campaign = own(&state, id).await?;
    let form = stored_form(&state, &campaign).await?;
    let done = done_message(query.fait.as_deref());
    form_page(
        &state,
        &headers,
        &me,
        Some(&campaign),
        form,
        FieldErrors::new(),
        done,
        StatusCode::OK,
    )
    .await
}

/// `POST /admin/campagnes/{id}`.
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
    let campaign = own(&state, id).await?;
    let draft = match checked(&state, &submitted.form, Some(id)).await? {
        Ok(draft) => draft,
        Err(errors) => {
            return form_page(
                &state,
                &headers,
                &me,
                Some(&campaign),
                submitted.form,
                errors,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let mut tx = state.db.begin_write().await?;
    campaign_admin::update(&mut tx, id, &draft, now).await?;
    let entry = audit::Entry {
        staff_id: Some(me.id),
        action: "campaign.update",
        subject: format!("campaign:{id}"),
        before: Some(json!({
            "title": campaign.title,
            "slug": campaign.slug,
            "goal_cents": campaign.goal_cents,
            "starts_at": campaign.starts_at,
            "ends_at": campaign.ends_at,
            "position": campaign.position,
        })),
        after: Some(journaled(&draft)),
    };
    audit::record(&mut tx, &entry, now).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/admin/campagnes/{id}?fait=enregistre")).into_response())
}

#[derive(Debug, Deserialize)]
pub struct StatusForm {
    csrf_token: Option<String>,
    #[serde(default)]
    status: String,
}

/// `POST /admin/campagnes/{id}/statut`: publish, close, or back to draft.
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
    let status: CampaignStatus = form.status.parse().map_err(|_| {
        AppError::BadRequest("Choisissez un statut : brouillon, en ligne ou terminée.".to_owned())
    })?;
    let campaign = own(&state, id).await?;
    let mut tx = state.db.begin_write().await?;
    let project_status = project_admin::status(&mut tx, campaign.project_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !campaign::may_belong(status, project_status) {
        return Err(AppError::Conflict(
            "Le projet de cette campagne est en brouillon : mettez d’abord le projet en ligne."
                .to_owned(),
        ));
    }
    campaign_admin::set_status(&mut tx, id, status, now).await?;
    let entry = audit::Entry {
        staff_id: Some(me.id),
        action: "campaign.status",
        subject: format!("campaign:{id}"),
        before: Some(json!({ "status": campaign.status.as_str() })),
        after: Some(json!({ "status": status.as_str() })),
    };
    audit::record(&mut tx, &entry, now).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/admin/campagnes/{id}?fait=statut")).into_response())
}

/// `POST /admin/campagnes/{id}/image`: a new cover (JPEG, PNG or WebP, checked by content).
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
    let campaign = own(&state, id).await?;
    let image = match sent.image {
        Ok(image) => image,
        Err(message) => {
            let mut errors = FieldErrors::new();
            errors.insert("image", message);
            let form = stored_form(&state, &campaign).await?;
            return form_page(
                &state,
                &headers,
                &me,
                Some(&campaign),
                form,
                errors,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    uploads::replace_cover(
        &state,
        &me,
        uploads::Covered::Campaign(id),
        &campaign.cover_image,
        image,
    )
    .await
}

/// `GET /admin/campagnes/{id}/apercu`: the public page, drafts included, for the team.
pub async fn preview(
    State(state): State<AppState>,
    headers: HeaderMap,
    me: Staff,
    AppPath(id): AppPath<i64>,
) -> Result<Response> {
    me.require(Role::Viewer)?;
    let campaign = campaigns::find_by_id(state.db.pool(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let html = public::campaign_html(
        &state,
        &campaign,
        public::Tags::default(),
        Some(format!("/admin/campagnes/{id}")),
    )
    .await?;
    let (_, cookie) = form_token(&state, &headers);
    Ok(page(StatusCode::OK, html, cookie))
}

/// The campaign form's body as the handler receives it: whatever is sent, the form reads
/// back exactly what was sent, or the request is refused with the French message.
#[cfg(test)]
mod properties {
    use super::Submitted;
    use crate::web::extract::testing::form_decoding_properties;

    const KEYS: &[&str] = &[
        "csrf_token",
        "project",
        "title",
        "slug",
        "summary",
        "story",
        "goal",
        "starts_on",
        "ends_on",
        "amounts_once",
        "amounts_monthly",
        "amounts_yearly",
        "tiers",
        "position",
    ];

    fn read_back(submitted: &Submitted, key: &str) -> Option<String> {
        let form = &submitted.form;
        match key {
            "csrf_token" => submitted.csrf_token.clone(),
            "project" => form.project.clone(),
            "title" => form.title.clone(),
            "slug" => form.slug.clone(),
            "summary" => form.summary.clone(),
            "story" => form.story.clone(),
            "goal" => form.goal.clone(),
            "starts_on" => form.starts_on.clone(),
            "ends_on" => form.ends_on.clone(),
            "amounts_once" => form.amounts_once.clone(),
            "amounts_monthly" => form.amounts_monthly.clone(),
            "amounts_yearly" => form.amounts_yearly.clone(),
            "tiers" => form.tiers.clone(),
            "position" => form.position.clone(),
            other => panic!("not a field of the form: {other}"),
        }
    }

    form_decoding_properties!(Submitted, KEYS, read_back);
}
