//! The pages the links of our emails open, without a sign-in: the signed token is the proof
//! ([`crate::links`]).
//! - `/paiement/{token}`: a recurring gift whose payment failed; opens a Billing Portal session
//!   for its customer, created now (not when the email was written).
//! - `/desinscription/{topic}/{token}`: stops a topic's emails. A `GET` only asks (link
//!   checkers in mailboxes open links); a `POST` unsubscribes, whether from the page's button
//!   or from mail software's one-click (RFC 8058).

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;

use super::AppState;
use super::extract::AppPath;
use super::layout::Layout;
use crate::domain::consent::Topic;
use crate::domain::dates;
use crate::domain::recurring_gift::RecurringGiftStatus;
use crate::error::{AppError, Result};
use crate::links::{LinkError, Purpose};
use crate::payments::portal;
use crate::store::{recurring_gifts, supporters};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/paiement/merci", get(payment_updated))
        .route("/paiement/{token}", get(fix_payment))
        .route(
            "/desinscription/{topic}/{token}",
            get(confirm_unsubscribe).post(unsubscribe),
        )
}

/// A short page: what happened, and what to do next.
#[derive(Debug, Clone, Default)]
struct Page {
    eyebrow: &'static str,
    title: String,
    paragraphs: Vec<String>,
    post_to: Option<Button>,
    link: Option<Button>,
}

#[derive(Debug, Clone)]
struct Button {
    label: &'static str,
    url: String,
}

#[derive(Template)]
#[template(path = "notice.html")]
struct NoticeTemplate {
    layout: Layout,
    page: Page,
}

/// The page, never cached, its URL (a credential) never sent on as a referrer.
fn render(state: &AppState, status: StatusCode, page: Page) -> Result<Response> {
    let html = NoticeTemplate {
        layout: Layout::new(state, page.title.clone()),
        page,
    }
    .render()?;
    let mut response = (status, Html(html)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    Ok(response)
}

fn home_link() -> Option<Button> {
    Some(Button {
        label: "Retour à l’accueil",
        url: "/".to_owned(),
    })
}

/// A link that is not ours, or no longer works: said plainly, with the way forward.
fn refused(state: &AppState, error: LinkError, what_next: &str) -> Result<Response> {
    let (status, title, why) = match error {
        LinkError::Forged => (
            StatusCode::NOT_FOUND,
            "Ce lien n’est pas valable",
            "Il est peut-être incomplet : copiez-le en entier depuis l’email, ou cliquez directement dessus.",
        ),
        LinkError::Expired => (
            StatusCode::GONE,
            "Ce lien a expiré",
            "Pour votre sécurité, les liens de nos emails ne fonctionnent qu’un temps.",
        ),
    };
    render(
        state,
        status,
        Page {
            eyebrow: "Lien",
            title: title.to_owned(),
            paragraphs: vec![why.to_owned(), what_next.to_owned()],
            link: home_link(),
            ..Page::default()
        },
    )
}

async fn fix_payment(
    State(state): State<AppState>,
    AppPath(token): AppPath<String>,
) -> Result<Response> {
    let what_next = "Vous recevrez un nouveau lien si le prochain prélèvement échoue ; vous pouvez aussi nous écrire en répondant à l’email.";
    let gift_id = match state
        .links
        .verify(Purpose::FixPayment, &token, dates::now())
    {
        Ok(id) => id,
        Err(error) => return refused(&state, error, what_next),
    };
    let Some((status, customer)) =
        recurring_gifts::portal_customer(state.db.pool(), gift_id).await?
    else {
        return refused(&state, LinkError::Forged, what_next);
    };
    let Some(customer) = customer.filter(|_| status != RecurringGiftStatus::Canceled) else {
        return render(
            &state,
            StatusCode::GONE,
            Page {
                eyebrow: "Don régulier",
                title: "Ce don régulier a pris fin".to_owned(),
                paragraphs: vec![
                    "Il n’y a plus de moyen de paiement à mettre à jour. Si vous souhaitez continuer à nous soutenir, vous pouvez faire un nouveau don."
                        .to_owned(),
                ],
                link: home_link(),
                ..Page::default()
            },
        );
    };
    let return_url = format!("{}/paiement/merci", state.base_url);
    match portal::create_session(&state.payments, &customer, &return_url).await {
        Ok(url) => Ok(Redirect::to(&url).into_response()),
        Err(error) => {
            tracing::error!(%error, gift_id, "billing portal session not created");
            Err(AppError::Unavailable(
                "Le service de paiement ne répond pas pour le moment. Réessayez dans quelques minutes avec le même lien."
                    .to_owned(),
            ))
        }
    }
}

async fn payment_updated(State(state): State<AppState>) -> Result<Response> {
    render(
        &state,
        StatusCode::OK,
        Page {
            eyebrow: "Don régulier",
            title: "Merci, c’est noté".to_owned(),
            paragraphs: vec![
                "Si vous avez mis à jour votre carte ou votre IBAN, le prochain prélèvement l’utilisera, et un paiement en attente est réessayé aussitôt."
                    .to_owned(),
                "Merci de continuer à nous soutenir.".to_owned(),
            ],
            link: home_link(),
            ..Page::default()
        },
    )
}

/// What a refused unsubscribe link offers instead.
const UNSUBSCRIBE_OTHERWISE: &str = "Pour ne plus recevoir nos emails, utilisez le lien du dernier email reçu, ou répondez-y simplement en le demandant.";

/// The topic and the supporter an unsubscribe link names.
fn unsubscribe_link(state: &AppState, topic: &str, token: &str) -> Result<(Topic, i64), LinkError> {
    let topic = topic.parse::<Topic>().map_err(|_| LinkError::Forged)?;
    let supporter_id = state
        .links
        .verify(Purpose::Unsubscribe(topic), token, dates::now())?;
    Ok((topic, supporter_id))
}

async fn confirm_unsubscribe(
    State(state): State<AppState>,
    AppPath((topic, token)): AppPath<(String, String)>,
) -> Result<Response> {
    let (topic, _) = match unsubscribe_link(&state, &topic, &token) {
        Ok(link) => link,
        Err(error) => return refused(&state, error, UNSUBSCRIBE_OTHERWISE),
    };
    render(
        &state,
        StatusCode::OK,
        Page {
            eyebrow: "Désinscription",
            title: "Ne plus recevoir ces emails ?".to_owned(),
            paragraphs: vec![format!(
                "Vous ne recevrez plus {}. Les emails liés à vos dons (confirmations, reçus fiscaux) continueront de vous parvenir.",
                topic.described()
            )],
            post_to: Some(Button {
                label: "Me désinscrire",
                url: format!("/desinscription/{}/{token}", topic.as_str()),
            }),
            ..Page::default()
        },
    )
}

async fn unsubscribe(
    State(state): State<AppState>,
    AppPath((topic, token)): AppPath<(String, String)>,
) -> Result<Response> {
    let (topic, supporter_id) = match unsubscribe_link(&state, &topic, &token) {
        Ok(link) => link,
        Err(error) => return refused(&state, error, UNSUBSCRIBE_OTHERWISE),
    };
    let mut tx = state.db.begin_write().await?;
    let changed = supporters::set_consent(
        &mut tx,
        supporter_id,
        topic,
        false,
        "unsubscribe_link",
        dates::now(),
    )
    .await?;
    tx.commit().await?;
    if changed {
        tracing::info!(supporter_id, topic = topic.as_str(), "consent withdrawn");
    }
    render(
        &state,
        StatusCode::OK,
        Page {
            eyebrow: "Désinscription",
            title: "C’est fait".to_owned(),
            paragraphs: vec![format!(
                "Vous ne recevrez plus {}. Vous pouvez changer d’avis à tout moment depuis votre espace.",
                topic.described()
            )],
            link: home_link(),
            ..Page::default()
        },
    )
}
