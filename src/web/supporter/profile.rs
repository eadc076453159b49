//! « Mes informations »: the supporter's name and postal address (for their next tax
//! receipts), the emails they agree to receive, and their email address, changed by a link
//! sent to the new one.

use std::net::SocketAddr;

use askama::Template;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::sign_in::{plausible, refused, send_link};
use super::{SignedIn, form_token, personal};
use crate::domain::consent::Topic;
use crate::domain::dates::{self, HOUR};
use crate::domain::email::Email;
use crate::domain::gift::FieldErrors;
use crate::domain::gift::address::COUNTRIES;
use crate::domain::profile::ProfileForm;
use crate::domain::sign_in::{self, NEW_EMAIL_LIFETIME};
use crate::error::{AppError, Result};
use crate::store::sign_in_tokens::{self, LinkKind, LinkState};
use crate::store::supporters::{self, EmailChange, Profile};
use crate::web::AppState;
use crate::web::extract::{AppForm, AppPath, AppQuery};
use crate::web::layout::Layout;
use crate::web::once::{self, OnceForm, Sending, already_sent};

#[derive(Template)]
#[template(path = "space/profile.html")]
struct ProfileTemplate {
    layout: Layout,
    csrf_token: String,
    email: String,
    form: ProfileForm,
    errors: FieldErrors,
    countries: Vec<(&'static str, &'static str, bool)>,
    news: bool,
    instalments: bool,
    new_email: String,
    email_error: Option<String>,
    done: Option<String>,
}

impl ProfileTemplate {
    fn value<'a>(&self, field: &'a Option<String>) -> &'a str {
        field.as_deref().unwrap_or("")
    }
}

/// What the page says at the top, and which form it is about.
#[derive(Default)]
struct Outcome {
    form: Option<ProfileForm>,
    errors: FieldErrors,
    new_email: String,
    email_error: Option<String>,
    done: Option<String>,
}

async fn own_profile(state: &AppState, supporter_id: i64) -> Result<Profile> {
    supporters::profile(state.db.pool(), supporter_id)
        .await?
        .ok_or(AppError::NotFound)
}

fn page(
    state: &AppState,
    headers: &HeaderMap,
    profile: &Profile,
    outcome: Outcome,
    status: StatusCode,
) -> Result<Response> {
    let (csrf_token, cookie) = form_token(state, headers);
    let form = outcome
        .form
        .unwrap_or_else(|| ProfileForm::from_stored(&profile.name_and_address()));
    let country = form.country.clone().unwrap_or_default().to_uppercase();
    let html = ProfileTemplate {
        layout: Layout::new(state, "Mes informations"),
        csrf_token,
        email: profile.email.as_str().to_owned(),
        countries: COUNTRIES
            .iter()
            .map(|(code, name)| (*code, *name, *code == country))
            .collect(),
        form,
        errors: outcome.errors,
        news: profile.news_consent == 1,
        instalments: profile.instalment_emails == 1,
        new_email: outcome.new_email,
        email_error: outcome.email_error,
        done: outcome.done,
    }
    .render()?;
    Ok(personal(status, html, Some(cookie)))
}

#[derive(Debug, Deserialize)]
pub struct DoneQuery {
    fait: Option<String>,
}

fn done_message(done: Option<&str>) -> Option<String> {
    Some(
        match done? {
            "identite" => "C’est noté : vos prochains reçus fiscaux porteront ces nom et adresse.",
            "preferences" => "C’est noté : vos préférences d’emails sont enregistrées.",
            _ => return None,
        }
        .to_owned(),
    )
}

/// `GET /mon-espace/profil`.
pub async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    SignedIn(supporter_id): SignedIn,
    AppQuery(query): AppQuery<DoneQuery>,
) -> Result<Response> {
    let profile = own_profile(&state, supporter_id).await?;
    let outcome = Outcome {
        done: done_message(query.fait.as_deref()),
        ..Outcome::default()
    };
    page(&state, &headers, &profile, outcome, StatusCode::OK)
}

#[derive(Debug, Deserialize)]
pub struct IdentityForm {
    csrf_token: Option<String>,
    #[serde(flatten)]
    profile: ProfileForm,
}

/// `POST /mon-espace/profil`: a new name and address.
pub async fn save_identity(
    State(state): State<AppState>,
    headers: HeaderMap,
    SignedIn(supporter_id): SignedIn,
    OnceForm(form, post): OnceForm<IdentityForm>,
) -> Result<Response> {
    let now = dates::now();
    state
        .form_key
        .check(&headers, form.csrf_token.as_deref(), now)?;
    let profile = own_profile(&state, supporter_id).await?;
    // The name and address the receipts will say: a page sent again (the back button) does
    // not put back what was changed since.
    let first = match once::claim(&state, &post).await? {
        Sending::First(first) => first,
        Sending::Again(location) => return Ok(Redirect::to(&location).into_response()),
    };
    match form.profile.validate() {
        Ok(checked) => {
            let mut tx = state.db.begin_write().await?;
            supporters::set_name_and_address(&mut tx, supporter_id, &checked, now).await?;
            tx.commit().await?;
            tracing::info!(supporter_id, "supporter's name and address changed");
            let location = "/mon-espace/profil?fait=identite";
            first.done(location).await;
            Ok(Redirect::to(location).into_response())
        }
        Err(errors) => {
            let outcome = Outcome {
                form: Some(form.profile),
                errors,
                ..Outcome::default()
            };
            page(
                &state,
                &headers,
                &profile,
                outcome,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct PreferencesForm {
    csrf_token: Option<String>,
    news: Option<String>,
    instalments: Option<String>,
}

/// `POST /mon-espace/preferences`: the emails they agree to receive, each change recorded.
pub async fn save_preferences(
    State(state): State<AppState>,
    headers: HeaderMap,
    SignedIn(supporter_id): SignedIn,
    AppForm(form): AppForm<PreferencesForm>,
) -> Result<Response> {
    let now = dates::now();
    state
        .form_key
        .check(&headers, form.csrf_token.as_deref(), now)?;
    own_profile(&state, supporter_id).await?;
    let mut tx = state.db.begin_write().await?;
    for (topic, wanted) in [
        (Topic::News, form.news.is_some()),
        (Topic::Instalments, form.instalments.is_some()),
    ] {
        supporters::set_consent(&mut tx, supporter_id, topic, wanted, "space", now).await?;
    }
    tx.commit().await?;
    Ok(Redirect::to("/mon-espace/profil?fait=preferences").into_response())
}

#[derive(Template)]
#[template(path = "space/email_sent.html")]
struct EmailSentTemplate {
    layout: Layout,
    email: String,
    hours: i64,
}

#[derive(Debug, Deserialize)]
pub struct NewEmailForm {
    csrf_token: Option<String>,
    #[serde(default)]
    email: String,
}

/// `POST /mon-espace/adresse`: sends a link to the new address; nothing changes until it is
/// opened.
pub async fn ask_new_email(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    SignedIn(supporter_id): SignedIn,
    AppForm(form): AppForm<NewEmailForm>,
) -> Result<Response> {
    let now = dates::now();
    state
        .form_key
        .check(&headers, form.csrf_token.as_deref(), now)?;
    let profile = own_profile(&state, supporter_id).await?;
    let typed = form.email.trim().to_owned();
    let refuse = |message: &str| {
        let outcome = Outcome {
            new_email: typed.clone(),
            email_error: Some(message.to_owned()),
            ..Outcome::default()
        };
        page(
            &state,
            &headers,
            &profile,
            outcome,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
    };
    let Some(email) = Email::parse(&typed) else {
        return refuse(if typed.is_empty() {
            "Indiquez votre nouvelle adresse e-mail."
        } else {
            "Cette adresse e-mail ne semble pas valide (exemple : marie@exemple.fr)."
        });
    };
    if email == profile.email {
        return refuse("C’est déjà votre adresse.");
    }
    if let Err(wait) = state
        .sign_in_limiter
        .check(peer.ip(), &headers, email.as_str())
    {
        let minutes = wait.as_secs().div_ceil(60).max(1);
        return refuse(&format!(
            "Plusieurs liens ont déjà été demandés en peu de temps : réessayez dans {minutes} minute{}.",
            if minutes > 1 { "s" } else { "" }
        ));
    }
    send_link(
        &state,
        supporter_id,
        LinkKind::NewEmail(email.as_str()),
        now,
    )
    .await?;
    tracing::info!(supporter_id, "new email address to confirm");
    let html = EmailSentTemplate {
        layout: Layout::new(&state, "Confirmez votre nouvelle adresse"),
        email: email.as_str().to_owned(),
        hours: NEW_EMAIL_LIFETIME / HOUR,
    }
    .render()?;
    Ok(personal(StatusCode::OK, html, None))
}

#[derive(Template)]
#[template(path = "space/email_confirm.html")]
struct ConfirmTemplate {
    layout: Layout,
    token: String,
    csrf_token: String,
    email: String,
}

#[derive(Template)]
#[template(path = "space/email_changed.html")]
struct ChangedTemplate {
    layout: Layout,
    email: String,
    taken: bool,
}

/// `GET /mon-espace/adresse/{token}`: a button that confirms the new address (mailbox
/// scanners open links; only the click uses it).
pub async fn confirm_new_email(
    State(state): State<AppState>,
    headers: HeaderMap,
    AppPath(token): AppPath<String>,
) -> Result<Response> {
    let kind = LinkKind::NewEmail("");
    let link = if plausible(&token) {
        sign_in_tokens::state(state.db.pool(), kind, &sign_in::hash(&token), dates::now()).await?
    } else {
        LinkState::Unknown
    };
    let LinkState::Valid(_, Some(email)) = link else {
        return refused(&state, kind, link);
    };
    let (csrf_token, cookie) = form_token(&state, &headers);
    let html = ConfirmTemplate {
        layout: Layout::new(&state, "Confirmer ma nouvelle adresse"),
        token,
        csrf_token,
        email,
    }
    .render()?;
    Ok(personal(StatusCode::OK, html, Some(cookie)))
}

#[derive(Debug, Deserialize)]
pub struct TokenForm {
    csrf_token: Option<String>,
}

/// `POST /mon-espace/adresse/{token}`: uses the link, and the address becomes the
/// supporter's, unless another supporter has it by now.
pub async fn use_new_email(
    State(state): State<AppState>,
    headers: HeaderMap,
    AppPath(token): AppPath<String>,
    OnceForm(form, post): OnceForm<TokenForm>,
) -> Result<Response> {
    let now = dates::now();
    state
        .form_key
        .check(&headers, form.csrf_token.as_deref(), now)?;
    let kind = LinkKind::NewEmail("");
    if !plausible(&token) {
        return refused(&state, kind, LinkState::Unknown);
    }
    // « Confirmer » pressed twice: said to be done, not « Ce lien a déjà servi ».
    let first = match once::claim(&state, &post).await? {
        Sending::First(first) => first,
        Sending::Again(_) => return already_sent(&state, "/mon-espace/profil"),
    };
    let mut tx = state.db.begin_write().await?;
    let link = sign_in_tokens::use_once(&mut tx, kind, &sign_in::hash(&token), now).await?;
    let LinkState::Valid(supporter_id, Some(raw)) = link else {
        tx.commit().await?;
        return refused(&state, kind, link);
    };
    let email = Email::from_stored(raw);
    let change = supporters::change_email(&mut tx, supporter_id, &email, now).await?;
    tx.commit().await?;
    first.done("").await;
    if change == EmailChange::Gone {
        return refused(&state, kind, LinkState::Unknown);
    }
    tracing::info!(supporter_id, ?change, "new email address confirmed");
    let html = ChangedTemplate {
        layout: Layout::new(&state, "Nouvelle adresse e-mail"),
        email: email.as_str().to_owned(),
        taken: change == EmailChange::Taken,
    }
    .render()?;
    let status = if change == EmailChange::Taken {
        StatusCode::CONFLICT
    } else {
        StatusCode::OK
    };
    Ok(personal(status, html, None))
}
