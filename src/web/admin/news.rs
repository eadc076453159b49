//! `/admin/nouvelles`: news from the field, posted to a project (or one of its campaigns) by
//! editors; shown on the public pages and in « Mon espace » from their date, and, if asked,
//! emailed then to the supporters of the project who want news (`jobs::news`).

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::json;

use super::{Staff, StaffBar, form_token, page};
use crate::domain::campaign_form::{day, slug_of};
use crate::domain::dates::{self, french_datetime};
use crate::domain::gift::FieldErrors;
use crate::domain::staff::Role;
use crate::error::Result;
use crate::jobs::{self, Job};
use crate::store::news::{self, NewNewsPost};
use crate::store::{audit, campaign_admin};
use crate::web::AppState;
use crate::web::extract::AppQuery;
use crate::web::layout::Layout;
use crate::web::once::{self, OnceForm, Sending};

const SHOWN: i64 = 50;
const MAX_TITLE: usize = 150;
const MAX_BODY: usize = 10_000;

#[derive(Template)]
#[template(path = "admin/news.html")]
struct NewsTemplate {
    layout: Layout,
    staff: Option<StaffBar>,
    csrf_token: String,
    posts: Vec<PostRow>,
    projects: Vec<(String, String)>,
    campaigns: Vec<(String, String)>,
    form: NewsForm,
    errors: FieldErrors,
    can_edit: bool,
    done: bool,
}

impl NewsTemplate {
    fn value<'a>(&self, field: &'a Option<String>) -> &'a str {
        field.as_deref().unwrap_or("")
    }
}

struct PostRow {
    title: String,
    project: String,
    campaign: String,
    at: String,
    scheduled: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewsForm {
    csrf_token: Option<String>,
    project: Option<String>,
    campaign: Option<String>,
    title: Option<String>,
    body: Option<String>,
    date: Option<String>,
    notify: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct DoneQuery {
    fait: Option<String>,
}

async fn news_page(
    state: &AppState,
    headers: &HeaderMap,
    me: &Staff,
    form: NewsForm,
    errors: FieldErrors,
    done: bool,
    status: StatusCode,
) -> Result<Response> {
    let pool = state.db.pool();
    let now = dates::now();
    let (posts, projects, campaigns) = tokio::try_join!(
        news::latest(pool, SHOWN),
        campaign_admin::projects(pool),
        campaign_admin::all(pool),
    )?;
    let (csrf_token, cookie) = form_token(state, headers);
    let html = NewsTemplate {
        layout: Layout::new(state, "Nouvelles"),
        staff: Some(me.bar()),
        csrf_token,
        posts: posts
            .into_iter()
            .map(|p| PostRow {
                scheduled: p.published_at > now,
                at: french_datetime(p.published_at),
                title: p.title,
                project: p.project_name,
                campaign: p.campaign_title.unwrap_or_default(),
            })
            .collect(),
        projects: projects
            .into_iter()
            .map(|(id, name)| (id.to_string(), name))
            .collect(),
        campaigns: campaigns
            .into_iter()
            .map(|c| {
                (
                    c.id.to_string(),
                    format!("{} — {}", c.project_name, c.title),
                )
            })
            .collect(),
        form,
        errors,
        can_edit: me.role.allows(Role::Editor),
        done,
    }
    .render()?;
    Ok(page(status, html, cookie))
}

/// `GET /admin/nouvelles`.
pub async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    me: Staff,
    AppQuery(query): AppQuery<DoneQuery>,
) -> Result<Response> {
    me.require(Role::Viewer)?;
    let done = query.fait.as_deref() == Some("publication");
    let form = NewsForm {
        notify: Some("1".to_owned()),
        ..NewsForm::default()
    };
    news_page(
        &state,
        &headers,
        &me,
        form,
        FieldErrors::new(),
        done,
        StatusCode::OK,
    )
    .await
}

/// A post, checked.
struct Checked {
    project_id: i64,
    campaign_id: Option<i64>,
    title: String,
    body: String,
    published_at: i64,
}

async fn check(
    state: &AppState,
    form: &NewsForm,
    now: i64,
) -> Result<std::result::Result<Checked, FieldErrors>> {
    let pool = state.db.pool();
    let mut errors = FieldErrors::new();
    let projects = campaign_admin::projects(pool).await?;
    let project_id = form
        .project
        .as_deref()
        .and_then(|p| p.parse::<i64>().ok())
        .filter(|id| projects.iter().any(|(p, _)| p == id));
    if project_id.is_none() {
        errors.insert("project", "Choisissez le projet dans la liste.".to_owned());
    }
    let campaign_id = match form.campaign.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(raw) => {
            let campaigns = campaign_admin::all(pool).await?;
            let found = raw.parse::<i64>().ok().and_then(|id| {
                campaigns
                    .iter()
                    .find(|c| c.id == id)
                    .map(|c| (c.id, c.project_name.clone()))
            });
            let project_name = project_id
                .and_then(|id| projects.iter().find(|(p, _)| *p == id))
                .map(|(_, name)| name.clone());
            match found {
                Some((id, name)) if Some(&name) == project_name.as_ref() => Some(id),
                _ => {
                    errors.insert(
                        "campaign",
                        "Choisissez une campagne de ce projet, ou aucune.".to_owned(),
                    );
                    None
                }
            }
        }
    };
    let title = form.title.as_deref().unwrap_or("").trim().to_owned();
    if title.is_empty() || title.chars().count() > MAX_TITLE || title.chars().any(char::is_control)
    {
        errors.insert("title", format!("Un titre de 1 à {MAX_TITLE} caractères."));
    }
    let body = form
        .body
        .as_deref()
        .unwrap_or("")
        .trim()
        .replace("\r\n", "\n");
    if body.is_empty() || body.chars().count() > MAX_BODY {
        errors.insert("body", format!("Un texte de 1 à {MAX_BODY} caractères."));
    }
    let published_at = match form.date.as_deref().map(str::trim) {
        None | Some("") => Some(now),
        // A day to come: published that day (from midnight, UTC); today: now; a past day:
        // dated then (news written up afterwards).
        Some(typed) => day(typed).map(|at| {
            if at + dates::DAY > now && at <= now {
                now
            } else {
                at
            }
        }),
    };
    if published_at.is_none() {
        errors.insert(
            "date",
            "La date de publication (exemple : 2026-12-24), ou rien pour tout de suite.".to_owned(),
        );
    }
    Ok(match (project_id, published_at, errors.is_empty()) {
        (Some(project_id), Some(published_at), true) => Ok(Checked {
            project_id,
            campaign_id,
            title,
            body,
            published_at,
        }),
        _ => Err(errors),
    })
}

/// `POST /admin/nouvelles` (editors).
pub async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    me: Staff,
    OnceForm(form, post): OnceForm<NewsForm>,
) -> Result<Response> {
    let now = dates::now();
    state
        .form_key
        .check(&headers, form.csrf_token.as_deref(), now)?;
    me.require(Role::Editor)?;
    let first = match once::claim(&state, &post).await? {
        Sending::First(first) => first,
        Sending::Again(location) => return Ok(Redirect::to(&location).into_response()),
    };
    let post = match check(&state, &form, now).await? {
        Ok(post) => post,
        Err(errors) => {
            return news_page(
                &state,
                &headers,
                &me,
                form,
                errors,
                false,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let notify = form.notify.is_some();
    let mut tx = state.db.begin_write().await?;
    let base = match slug_of(&post.title) {
        empty if empty.is_empty() => "nouvelle".to_owned(),
        slug => slug,
    };
    let slug = news::free_slug(&mut tx, post.project_id, &base).await?;
    let new = NewNewsPost {
        project_id: post.project_id,
        campaign_id: post.campaign_id,
        slug: &slug,
        title: &post.title,
        body: &post.body,
        published_at: post.published_at,
    };
    let id = news::insert(&mut tx, &new, now).await?;
    if notify {
        // Told when it is published: now, or on the day chosen.
        let fan_out = Job::NewsFanOut {
            post_id: id,
            after: 0,
        };
        jobs::enqueue_at(&mut tx, &fan_out, post.published_at, now).await?;
    }
    let entry = audit::Entry {
        staff_id: Some(me.id),
        action: "news.create",
        subject: format!("news:{id}"),
        before: None,
        after: Some(json!({
            "title": post.title,
            "project_id": post.project_id,
            "campaign_id": post.campaign_id,
            "published_at": post.published_at,
            "emailed": notify,
        })),
    };
    audit::record(&mut tx, &entry, now).await?;
    tx.commit().await?;
    let location = "/admin/nouvelles?fait=publication";
    first.done(location).await;
    Ok(Redirect::to(location).into_response())
}
