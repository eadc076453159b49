//! Staff sign-in: an email and a password, limited per client address, and each account
//! locked for a while after repeated failures. Every refusal reads the same, whether the
//! email has an account or not, and takes as long.

use std::net::SocketAddr;

use askama::Template;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::{Staff, StaffBar, StaffSession, form_token, page};
use crate::domain::dates;
use crate::domain::email::Email;
use crate::domain::password;
use crate::domain::staff::{LOCK_AFTER, LOCKED_FOR};
use crate::error::{AppError, Result};
use crate::store::{audit, staff};
use crate::web::AppState;
use crate::web::extract::AppForm;
use crate::web::layout::Layout;

#[derive(Template)]
#[template(path = "admin/sign_in.html")]
struct SignInTemplate {
    layout: Layout,
    staff: Option<StaffBar>,
    csrf_token: String,
    email: String,
    error: Option<String>,
    notice: Option<&'static str>,
}

fn sign_in_page(
    state: &AppState,
    headers: &HeaderMap,
    email: &str,
    error: Option<String>,
    notice: Option<&'static str>,
    status: StatusCode,
) -> Result<Response> {
    let (csrf_token, cookie) = form_token(state, headers);
    let html = SignInTemplate {
        layout: Layout::new(state, "Connexion à l’administration"),
        staff: None,
        csrf_token,
        email: email.to_owned(),
        error,
        notice,
    }
    .render()?;
    Ok(page(status, html, cookie))
}

/// `GET /admin/connexion`.
pub async fn form(State(state): State<AppState>, headers: HeaderMap) -> Result<Response> {
    sign_in_page(&state, &headers, "", None, None, StatusCode::OK)
}

#[derive(Debug, Deserialize)]
pub struct SignInForm {
    csrf_token: Option<String>,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

/// What every refused sign-in says.
fn refused() -> String {
    format!(
        "Adresse e-mail ou mot de passe incorrect. Après {LOCK_AFTER} échecs de suite, un compte est bloqué {} minutes.",
        LOCKED_FOR / 60
    )
}

/// `POST /admin/connexion`.
pub async fn submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    session: StaffSession,
    AppForm(form): AppForm<SignInForm>,
) -> Result<Response> {
    let now = dates::now();
    state
        .form_key
        .check(&headers, form.csrf_token.as_deref(), now)?;
    let typed = form.email.trim().to_owned();
    if let Err(wait) = state.staff_sign_in_limiter.check(peer.ip(), &headers) {
        let minutes = wait.as_secs().div_ceil(60).max(1);
        return Err(AppError::TooMany(format!(
            "Trop de tentatives de connexion depuis votre adresse : réessayez dans {minutes} minute{}.",
            if minutes > 1 { "s" } else { "" }
        )));
    }
    let pool = state.db.pool();
    let member = match Email::parse(&typed) {
        Some(email) => staff::find_by_email(pool, &email).await?,
        None => None,
    };
    // Checked even for an unknown email or a locked account (against a decoy): the answer
    // takes as long, and says the same.
    let stored = member
        .as_ref()
        .map_or_else(|| password::decoy().to_owned(), |m| m.password_hash.clone());
    let typed_password = form.password;
    let matches = tokio::task::spawn_blocking(move || password::verify(&stored, &typed_password))
        .await
        .map_err(anyhow::Error::from)?;
    let Some(member) = member else {
        return sign_in_page(
            &state,
            &headers,
            &typed,
            Some(refused()),
            None,
            StatusCode::UNAUTHORIZED,
        );
    };
    let locked = member.locked_until.is_some_and(|until| until > now);
    let mut tx = state.db.begin_write().await?;
    if !matches || locked || member.disabled_at.is_some() {
        if !locked {
            staff::record_failure(&mut tx, member.id, now).await?;
        }
        tx.commit().await?;
        tracing::warn!(staff_id = member.id, locked, "staff sign-in refused");
        return sign_in_page(
            &state,
            &headers,
            &typed,
            Some(refused()),
            None,
            StatusCode::UNAUTHORIZED,
        );
    }
    staff::record_success(&mut tx, member.id, now).await?;
    let entry = audit::Entry {
        staff_id: Some(member.id),
        action: "staff.sign_in",
        subject: format!("staff:{}", member.id),
        before: None,
        after: None,
    };
    audit::record(&mut tx, &entry, now).await?;
    tx.commit().await?;
    session
        .sign_in(member.id, member.session_generation, now)
        .await?;
    tracing::info!(staff_id = member.id, "staff signed in");
    Ok(Redirect::to("/admin").into_response())
}

#[derive(Debug, Deserialize)]
pub struct TokenForm {
    csrf_token: Option<String>,
}

/// `POST /admin/deconnexion`.
pub async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
    session: StaffSession,
    AppForm(form): AppForm<TokenForm>,
) -> Result<Response> {
    state
        .form_key
        .check(&headers, form.csrf_token.as_deref(), dates::now())?;
    session.sign_out().await?;
    sign_in_page(
        &state,
        &headers,
        "",
        None,
        Some("Vous êtes déconnecté."),
        StatusCode::OK,
    )
}

/// `POST /admin/deconnexion-partout`: every session of this account ends, this one too.
pub async fn sign_out_everywhere(
    State(state): State<AppState>,
    headers: HeaderMap,
    me: Staff,
    AppForm(form): AppForm<TokenForm>,
) -> Result<Response> {
    let now = dates::now();
    state
        .form_key
        .check(&headers, form.csrf_token.as_deref(), now)?;
    let mut tx = state.db.begin_write().await?;
    staff::sign_out_everywhere(&mut tx, me.id, now).await?;
    let entry = audit::Entry {
        staff_id: Some(me.id),
        action: "staff.sign_out_everywhere",
        subject: format!("staff:{}", me.id),
        before: None,
        after: None,
    };
    audit::record(&mut tx, &entry, now).await?;
    tx.commit().await?;
    me.session.sign_out().await?;
    sign_in_page(
        &state,
        &headers,
        "",
        None,
        Some("Vous êtes déconnecté de tous vos appareils."),
        StatusCode::OK,
    )
}
