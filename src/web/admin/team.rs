//! `/admin/equipe` (admins only): the staff accounts, a new one, a role changed, access
//! withdrawn or given back. Each change is in the journal with the state before and after;
//! the last admin can be neither demoted nor disabled.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::json;

use super::{Staff, StaffBar, form_token, page};
use crate::accounts::{self, CreateError};
use crate::domain::dates::{self, french_datetime};
use crate::domain::email::Email;
use crate::domain::staff::Role;
use crate::error::{AppError, Result};
use crate::store::{audit, staff};
use crate::web::AppState;
use crate::web::extract::{AppForm, AppPath, AppQuery};
use crate::web::layout::Layout;
use crate::web::once::{self, OnceForm, Sending};

#[derive(Template)]
#[template(path = "admin/team.html")]
struct TeamTemplate {
    layout: Layout,
    staff: Option<StaffBar>,
    csrf_token: String,
    me: i64,
    members: Vec<MemberRow>,
    roles: Vec<(&'static str, &'static str)>,
    email: String,
    role: String,
    error: Option<String>,
    done: Option<&'static str>,
}

struct MemberRow {
    id: i64,
    email: String,
    role: &'static str,
    state: String,
    disabled: bool,
}

#[derive(Debug, Deserialize)]
pub struct DoneQuery {
    fait: Option<String>,
}

fn done_message(done: Option<&str>) -> Option<&'static str> {
    Some(match done? {
        "creation" => "Le compte est créé. Communiquez-lui son mot de passe de vive voix.",
        "role" => "Le rôle est changé ; il s’applique dès la prochaine page.",
        "acces" => "C’est noté : l’accès est mis à jour, et ses sessions en cours sont fermées.",
        _ => return None,
    })
}

struct Typed<'a> {
    email: &'a str,
    role: &'a str,
    error: Option<String>,
}

async fn team_page(
    state: &AppState,
    headers: &HeaderMap,
    me: &Staff,
    typed: Typed<'_>,
    done: Option<&'static str>,
    status: StatusCode,
) -> Result<Response> {
    let now = dates::now();
    let members = staff::all(state.db.pool()).await?;
    let (csrf_token, cookie) = form_token(state, headers);
    let html = TeamTemplate {
        layout: Layout::new(state, "Équipe"),
        staff: Some(me.bar()),
        csrf_token,
        me: me.id,
        members: members
            .iter()
            .map(|m| MemberRow {
                id: m.id,
                email: m.email.as_str().to_owned(),
                role: m.role.as_str(),
                state: match (m.disabled_at, m.locked_until) {
                    (Some(at), _) => format!("Désactivé le {}", french_datetime(at)),
                    (None, Some(until)) if until > now => {
                        format!(
                            "Bloqué jusqu’à {} (échecs de connexion)",
                            french_datetime(until)
                        )
                    }
                    _ => "Actif".to_owned(),
                },
                disabled: m.disabled_at.is_some(),
            })
            .collect(),
        roles: Role::ALL
            .iter()
            .rev()
            .map(|r| (r.as_str(), r.label()))
            .collect(),
        email: typed.email.to_owned(),
        role: typed.role.to_owned(),
        error: typed.error,
        done,
    }
    .render()?;
    Ok(page(status, html, cookie))
}

/// `GET /admin/equipe`.
pub async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    me: Staff,
    AppQuery(query): AppQuery<DoneQuery>,
) -> Result<Response> {
    me.require(Role::Admin)?;
    let typed = Typed {
        email: "",
        role: Role::Viewer.as_str(),
        error: None,
    };
    let done = done_message(query.fait.as_deref());
    team_page(&state, &headers, &me, typed, done, StatusCode::OK).await
}

#[derive(Debug, Deserialize)]
pub struct NewMemberForm {
    csrf_token: Option<String>,
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    password: String,
}

/// `POST /admin/equipe`: a new account.
pub async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    me: Staff,
    OnceForm(form, post): OnceForm<NewMemberForm>,
) -> Result<Response> {
    let now = dates::now();
    state
        .form_key
        .check(&headers, form.csrf_token.as_deref(), now)?;
    me.require(Role::Admin)?;
    let first = match once::claim(&state, &post).await? {
        Sending::First(first) => first,
        Sending::Again(location) => return Ok(Redirect::to(&location).into_response()),
    };
    let typed_email = form.email.trim();
    let refuse = |message: String| Typed {
        email: typed_email,
        role: &form.role,
        error: Some(message),
    };
    let Some(email) = Email::parse(typed_email) else {
        let typed = refuse(
            "Indiquez une adresse e-mail valide (exemple : prenom@association.org).".to_owned(),
        );
        return team_page(
            &state,
            &headers,
            &me,
            typed,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let Ok(role) = form.role.parse::<Role>() else {
        let typed = refuse("Choisissez un rôle dans la liste.".to_owned());
        return team_page(
            &state,
            &headers,
            &me,
            typed,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    match accounts::create_staff(
        &state.db,
        &email,
        role,
        form.password.clone(),
        Some(me.id),
        now,
    )
    .await
    {
        Ok(_) => {
            let location = "/admin/equipe?fait=creation";
            first.done(location).await;
            Ok(Redirect::to(location).into_response())
        }
        Err(CreateError::Password(message)) => {
            team_page(
                &state,
                &headers,
                &me,
                refuse(message),
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(CreateError::Taken(_)) => {
            let typed = refuse("Cette adresse a déjà un compte.".to_owned());
            team_page(&state, &headers, &me, typed, None, StatusCode::CONFLICT).await
        }
        Err(other) => Err(AppError::Other(other.into())),
    }
}

#[derive(Debug, Deserialize)]
pub struct ChangeForm {
    csrf_token: Option<String>,
    #[serde(default)]
    role: String,
    #[serde(default)]
    access: String,
}

/// The account to change, and whether it is the last enabled admin's.
async fn member_to_change(state: &AppState, id: i64) -> Result<(staff::StaffMember, bool)> {
    let member = staff::find(state.db.pool(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut conn = state.db.pool().acquire().await?;
    let last_admin = member.role == Role::Admin
        && member.disabled_at.is_none()
        && staff::active_admins(&mut conn).await? <= 1;
    Ok((member, last_admin))
}

const LAST_ADMIN: &str =
    "C’est le dernier compte administrateur actif : nommez d’abord un autre administrateur.";

/// `POST /admin/equipe/{id}/role`.
pub async fn change_role(
    State(state): State<AppState>,
    headers: HeaderMap,
    me: Staff,
    AppPath(id): AppPath<i64>,
    AppForm(form): AppForm<ChangeForm>,
) -> Result<Response> {
    let now = dates::now();
    state
        .form_key
        .check(&headers, form.csrf_token.as_deref(), now)?;
    me.require(Role::Admin)?;
    let role: Role = form
        .role
        .parse()
        .map_err(|_| AppError::BadRequest("Choisissez un rôle dans la liste.".to_owned()))?;
    let (member, last_admin) = member_to_change(&state, id).await?;
    if member.role == role {
        return Ok(Redirect::to("/admin/equipe?fait=role").into_response());
    }
    if last_admin {
        return Err(AppError::Conflict(LAST_ADMIN.to_owned()));
    }
    let mut tx = state.db.begin_write().await?;
    staff::set_role(&mut tx, id, role, now).await?;
    let entry = audit::Entry {
        staff_id: Some(me.id),
        action: "staff.role",
        subject: format!("staff:{id}"),
        before: Some(json!({ "role": member.role.as_str() })),
        after: Some(json!({ "role": role.as_str() })),
    };
    audit::record(&mut tx, &entry, now).await?;
    tx.commit().await?;
    Ok(Redirect::to("/admin/equipe?fait=role").into_response())
}

/// `POST /admin/equipe/{id}/acces`: `access` is `retirer` or `rendre`.
pub async fn change_access(
    State(state): State<AppState>,
    headers: HeaderMap,
    me: Staff,
    AppPath(id): AppPath<i64>,
    AppForm(form): AppForm<ChangeForm>,
) -> Result<Response> {
    let now = dates::now();
    state
        .form_key
        .check(&headers, form.csrf_token.as_deref(), now)?;
    me.require(Role::Admin)?;
    let disable = match form.access.as_str() {
        "retirer" => true,
        "rendre" => false,
        _ => {
            return Err(AppError::BadRequest(
                "Choisissez de retirer ou de rendre l’accès.".to_owned(),
            ));
        }
    };
    let (member, last_admin) = member_to_change(&state, id).await?;
    if disable && last_admin {
        return Err(AppError::Conflict(LAST_ADMIN.to_owned()));
    }
    let mut tx = state.db.begin_write().await?;
    staff::set_disabled(&mut tx, id, disable, now).await?;
    let entry = audit::Entry {
        staff_id: Some(me.id),
        action: if disable {
            "staff.disable"
        } else {
            "staff.enable"
        },
        subject: format!("staff:{id}"),
        before: Some(json!({ "disabled": member.disabled_at.is_some() })),
        after: Some(json!({ "disabled": disable })),
    };
    audit::record(&mut tx, &entry, now).await?;
    tx.commit().await?;
    Ok(Redirect::to("/admin/equipe?fait=acces").into_response())
}
