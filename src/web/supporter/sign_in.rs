//! Signing in without a password: the supporter gives their email, gets a link (through the
//! outbox), opens it, and is in. The answer to the request is the same whether the email is
//! a supporter's or not. The link works once, for 15 minutes; opening it takes a click on our
//! page (a `POST`), because mailbox scanners open links and would use it up.

use std::net::SocketAddr;

use askama::Template;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::{form_token, personal};
use crate::domain::dates::{self, HOUR, MINUTE};
use crate::domain::email::Email;
use crate::domain::sign_in::{self, LIFETIME};
use crate::error::{AppError, Result};
use crate::jobs::email::Message;
use crate::jobs::{self, Job};
use crate::store::sign_in_tokens::{self, LinkKind, LinkState};
use crate::store::supporters;
use crate::web::AppState;
use crate::web::donate::thanks::ThanksForm;
use crate::web::extract::{AppForm, AppPath};
use crate::web::layout::Layout;
use crate::web::once::{self, OnceForm, Sending};
use crate::web::session::Visitor;

#[derive(Template)]
#[template(path = "space/sign_in.html")]
pub(super) struct SignInTemplate {
    pub layout: Layout,
    pub csrf_token: String,
    pub email: String,
    pub error: Option<String>,
    pub notice: Option<String>,
}

impl SignInTemplate {
    /// The sign-in form, with what to show above it.
    pub fn page(
        state: &AppState,
        headers: &HeaderMap,
        status: StatusCode,
        email: &str,
        error: Option<String>,
        notice: Option<String>,
    ) -> Result<Response> {
        let (csrf_token, cookie) = form_token(state, headers);
        let html = SignInTemplate {
            layout: Layout::new(state, "Mon espace"),
            csrf_token,
            email: email.to_owned(),
            error,
            notice,
        }
        .render()?;
        Ok(personal(status, html, Some(cookie)))
    }
}

#[derive(Template)]
#[template(path = "space/sign_in_sent.html")]
struct SentTemplate {
    layout: Layout,
    email: String,
    minutes: i64,
    pending: bool,
}

#[derive(Debug, Deserialize)]
pub struct AskForm {
    csrf_token: Option<String>,
    #[serde(default)]
    email: String,
}

/// `POST /mon-espace/connexion`: sends a link if the email is a supporter's; says the same
/// either way.
pub async fn ask(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    AppForm(form): AppForm<AskForm>,
) -> Result<Response> {
    let now = dates::now();
    state
        .form_key
        .check(&headers, form.csrf_token.as_deref(), now)?;
    let typed = form.email.trim();
    let Some(email) = Email::parse(typed) else {
        let error = if typed.is_empty() {
            "Indiquez l’adresse e-mail utilisée pour vos dons."
        } else {
            "Cette adresse e-mail n’est pas valable : vérifiez-la (exemple : prenom.nom@exemple.fr)."
        };
        return SignInTemplate::page(
            &state,
            &headers,
            StatusCode::UNPROCESSABLE_ENTITY,
            typed,
            Some(error.to_owned()),
            None,
        );
    };
    if let Err(wait) = state
        .sign_in_limiter
        .check(peer.ip(), &headers, email.as_str())
    {
        let minutes = wait.as_secs().div_ceil(60).max(1);
        let message = format!(
            "Plusieurs liens ont déjà été demandés en peu de temps. Le dernier reçu reste valable \
             {} minutes ; sinon, réessayez dans {minutes} minute{}.",
            LIFETIME / MINUTE,
            if minutes > 1 { "s" } else { "" }
        );
        let mut page = SignInTemplate::page(
            &state,
            &headers,
            StatusCode::TOO_MANY_REQUESTS,
            email.as_str(),
            Some(message),
            None,
        )?;
        page.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(wait.as_secs().max(1)),
        );
        return Ok(page);
    }
    if let Some(supporter_id) = supporters::id_of(state.db.pool(), &email).await? {
        send_link(&state, supporter_id, LinkKind::SignIn, now).await?;
    }
    sent(&state, email.as_str().to_owned(), false)
}

/// A link of `kind` for the supporter, and the email that carries it (to their address, or
/// to the new one it confirms), in one transaction: both or neither.
pub(super) async fn send_link(
    state: &AppState,
    supporter_id: i64,
    kind: LinkKind<'_>,
    now: i64,
) -> Result<()> {
    let token = sign_in::new_token();
    let lifetime = match kind {
        LinkKind::SignIn => LIFETIME,
        LinkKind::NewEmail(_) => sign_in::NEW_EMAIL_LIFETIME,
    };
    let mut tx = state.db.begin_write().await?;
    sign_in_tokens::create(
        &mut tx,
        supporter_id,
        kind,
        &sign_in::hash(&token),
        now,
        now + lifetime,
    )
    .await?;
    let message = match kind {
        LinkKind::SignIn => Message::SignIn {
            supporter_id,
            token,
        },
        LinkKind::NewEmail(_) => Message::ConfirmEmail {
            supporter_id,
            token,
        },
    };
    jobs::enqueue(&mut tx, &Job::Email(message), now).await?;
    tx.commit().await?;
    tracing::info!(supporter_id, "emailed link queued");
    Ok(())
}

/// The page that says a link is on its way (or, `pending`, that the gift is not confirmed
/// yet, so there is no space to open).
fn sent(state: &AppState, email: String, pending: bool) -> Result<Response> {
    let html = SentTemplate {
        layout: Layout::new(state, "Vérifiez votre boîte mail"),
        email,
        minutes: LIFETIME / MINUTE,
        pending,
    }
    .render()?;
    Ok(personal(StatusCode::OK, html, None))
}

/// `POST /mon-espace/lien-apres-don`, from the thank-you page: a sign-in link sent to the
/// address the gift was made with, if this browser made the gift. The answer names that
/// address only in part all the same (a shared computer).
pub async fn after_gift(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    visitor: Visitor,
    AppForm(form): AppForm<ThanksForm>,
) -> Result<Response> {
    let now = dates::now();
    let pledge = form.pledge(&state, &headers, &visitor).await?;
    let pool = state.db.pool();
    let email = pledge.donor.email.clone();
    let masked = masked(email.as_str());
    if state
        .sign_in_limiter
        .check(peer.ip(), &headers, email.as_str())
        .is_err()
    {
        return Err(AppError::TooMany(
            "Plusieurs liens ont déjà été demandés en peu de temps : le dernier reçu reste valable quelques minutes. Sinon, réessayez un peu plus tard."
                .to_owned(),
        ));
    }
    let supporter = match pledge.supporter_id {
        Some(id) => supporters::is_present(pool, id).await?.then_some(id),
        None => supporters::id_of(pool, &email).await?,
    };
    match supporter {
        Some(supporter_id) => {
            send_link(&state, supporter_id, LinkKind::SignIn, now).await?;
            sent(&state, masked, false)
        }
        None => sent(&state, masked, true),
    }
}

/// `marie.curie@exemple.fr` → `m••••••••••@exemple.fr`: enough for the donor to recognise it.
fn masked(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let mut chars = local.chars();
            let first: String = chars.next().into_iter().collect();
            format!("{first}{}@{domain}", "•".repeat(chars.count()))
        }
        None => String::new(),
    }
}

#[derive(Template)]
#[template(path = "space/open.html")]
struct OpenTemplate {
    layout: Layout,
    token: String,
    csrf_token: String,
}

#[derive(Template)]
#[template(path = "space/link_refused.html")]
struct RefusedTemplate {
    layout: Layout,
    title: &'static str,
    why: String,
    again: &'static str,
    again_url: &'static str,
}

/// Why a link does not work, and the way forward.
pub(super) fn refused(state: &AppState, kind: LinkKind<'_>, link: LinkState) -> Result<Response> {
    let (lifetime, again, again_url) = match kind {
        LinkKind::SignIn => (
            format!("{} minutes", LIFETIME / MINUTE),
            "Recevoir un nouveau lien",
            "/mon-espace",
        ),
        LinkKind::NewEmail(_) => (
            format!("{} heures", sign_in::NEW_EMAIL_LIFETIME / HOUR),
            "Changer d’adresse à nouveau",
            "/mon-espace/profil",
        ),
    };
    let (status, title, why) = match link {
        LinkState::Used => (
            StatusCode::GONE,
            "Ce lien a déjà servi",
            "Pour votre sécurité, chaque lien ne fonctionne qu’une fois.".to_owned(),
        ),
        LinkState::Expired => (
            StatusCode::GONE,
            "Ce lien a expiré",
            format!("Pour votre sécurité, un lien ne fonctionne que {lifetime}."),
        ),
        LinkState::Unknown | LinkState::Valid(..) => (
            StatusCode::NOT_FOUND,
            "Ce lien n’est pas valable",
            "Il est peut-être incomplet : cliquez directement sur le bouton de l’email plutôt que de copier le lien."
                .to_owned(),
        ),
    };
    let html = RefusedTemplate {
        layout: Layout::new(state, title),
        title,
        why,
        again,
        again_url,
    }
    .render()?;
    Ok(personal(status, html, None))
}

/// Only what a token can be (64 hex digits); anything else is not ours, and is not looked up.
pub(super) fn plausible(token: &str) -> bool {
    token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `GET /mon-espace/connexion/{token}`: a button that opens the space (the link is not used
/// yet).
pub async fn confirm(
    State(state): State<AppState>,
    headers: HeaderMap,
    AppPath(token): AppPath<String>,
) -> Result<Response> {
    let link = if plausible(&token) {
        sign_in_tokens::state(
            state.db.pool(),
            LinkKind::SignIn,
            &sign_in::hash(&token),
            dates::now(),
        )
        .await?
    } else {
        LinkState::Unknown
    };
    if !matches!(link, LinkState::Valid(..)) {
        return refused(&state, LinkKind::SignIn, link);
    }
    let (csrf_token, cookie) = form_token(&state, &headers);
    let html = OpenTemplate {
        layout: Layout::new(&state, "Ouvrir mon espace"),
        token,
        csrf_token,
    }
    .render()?;
    Ok(personal(StatusCode::OK, html, Some(cookie)))
}

#[derive(Debug, Deserialize)]
pub struct TokenForm {
    csrf_token: Option<String>,
}

/// `POST /mon-espace/connexion/{token}`: uses the link and signs in.
pub async fn open(
    State(state): State<AppState>,
    headers: HeaderMap,
    visitor: Visitor,
    AppPath(token): AppPath<String>,
    OnceForm(form, post): OnceForm<TokenForm>,
) -> Result<Response> {
    let now = dates::now();
    state
        .form_key
        .check(&headers, form.csrf_token.as_deref(), now)?;
    if !plausible(&token) {
        return refused(&state, LinkKind::SignIn, LinkState::Unknown);
    }
    // « Ouvrir mon espace » pressed twice: the space, not « Ce lien a déjà servi ».
    let first = match once::claim(&state, &post).await? {
        Sending::First(first) => first,
        Sending::Again(location) => return Ok(Redirect::to(&location).into_response()),
    };
    let mut tx = state.db.begin_write().await?;
    let link =
        sign_in_tokens::use_once(&mut tx, LinkKind::SignIn, &sign_in::hash(&token), now).await?;
    tx.commit().await?;
    let LinkState::Valid(supporter_id, _) = link else {
        return refused(&state, LinkKind::SignIn, link);
    };
    visitor.sign_in_supporter(supporter_id, now).await?;
    first.done("/mon-espace").await;
    tracing::info!(supporter_id, "supporter signed in");
    Ok(Redirect::to("/mon-espace").into_response())
}

/// `POST /mon-espace/deconnexion`.
pub async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
    visitor: Visitor,
    AppForm(form): AppForm<TokenForm>,
) -> Result<Response> {
    state
        .form_key
        .check(&headers, form.csrf_token.as_deref(), dates::now())?;
    visitor.sign_out().await?;
    SignInTemplate::page(
        &state,
        &headers,
        StatusCode::OK,
        "",
        None,
        Some("Vous êtes déconnecté. À bientôt !".to_owned()),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_masked_address_keeps_its_first_letter_and_domain() {
        assert_eq!(super::masked("marie@exemple.fr"), "m••••@exemple.fr");
        assert_eq!(super::masked("a@b.fr"), "a@b.fr");
    }
}
