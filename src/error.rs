//! `AppError`: every failure a handler can return, and the status and French message it maps to.
//!
//! The response carries an [`ErrorPage`] extension; the web layer renders it as a styled page
//! (or JSON under `/api/`), so handlers and extractors never build error HTML themselves.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

pub type Result<T, E = AppError> = std::result::Result<T, E>;

/// When to try again after a 503: a database restart or a Stripe hiccup is usually over by
/// then.
pub const RETRY_AFTER_SECONDS: &str = "10";

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("page introuvable")]
    NotFound,
    /// Malformed input; the message is shown to the user, in French.
    #[error("requête invalide : {0}")]
    BadRequest(String),
    /// Refused (a form without its CSRF token); the message is shown to the user.
    #[error("refusé : {0}")]
    Forbidden(String),
    /// A page that exists no more (a closed campaign's form); the message is shown.
    #[error("plus disponible : {0}")]
    Gone(String),
    /// The request goes against the current state (the last admin demoted); the message is
    /// shown.
    #[error("conflit : {0}")]
    Conflict(String),
    /// Too many requests in too little time (a rate limit); the message is shown.
    #[error("trop de demandes : {0}")]
    TooMany(String),
    /// A service we depend on (Stripe) is unavailable; the message is shown.
    #[error("indisponible : {0}")]
    Unavailable(String),
    #[error("base de données : {0}")]
    Database(#[from] sqlx::Error),
    #[error("gabarit : {0}")]
    Template(#[from] askama::Error),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// What the error page says; attached to error responses for the web layer to render.
#[derive(Debug, Clone)]
pub struct ErrorPage {
    pub status: StatusCode,
    pub title: &'static str,
    pub message: String,
}

impl ErrorPage {
    pub fn for_status(status: StatusCode) -> ErrorPage {
        let (title, message) = match status {
            StatusCode::NOT_FOUND => (
                "Page introuvable",
                "La page que vous cherchez n'existe pas ou n'est plus en ligne.",
            ),
            StatusCode::BAD_REQUEST => (
                "Requête invalide",
                "L'adresse ou les informations envoyées ne sont pas valides.",
            ),
            StatusCode::FORBIDDEN => ("Action refusée", "Cette action n'est pas autorisée."),
            StatusCode::GONE => ("Plus disponible", "Cette page n'est plus disponible."),
            StatusCode::CONFLICT => (
                "Action impossible",
                "Cette action ne peut pas être faite dans l'état actuel.",
            ),
            StatusCode::METHOD_NOT_ALLOWED => (
                "Action impossible",
                "Cette adresse n'accepte pas ce type de requête.",
            ),
            StatusCode::PAYLOAD_TOO_LARGE => (
                "Envoi trop volumineux",
                "Les informations envoyées dépassent la taille autorisée.",
            ),
            StatusCode::REQUEST_TIMEOUT => (
                "Délai dépassé",
                "Les informations envoyées ne sont pas arrivées à temps. Merci de réessayer.",
            ),
            StatusCode::URI_TOO_LONG => (
                "Adresse trop longue",
                "L'adresse demandée est trop longue pour être traitée.",
            ),
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => (
                "Requête trop volumineuse",
                "Votre navigateur a envoyé une requête trop volumineuse. Effacer les cookies de ce site peut résoudre le problème.",
            ),
            StatusCode::TOO_MANY_REQUESTS => (
                "Trop de tentatives",
                "Vous avez fait trop de demandes en peu de temps. Merci de réessayer dans quelques minutes.",
            ),
            StatusCode::SERVICE_UNAVAILABLE => (
                "Service momentanément indisponible",
                "Le service est momentanément indisponible. Merci de réessayer dans quelques instants.",
            ),
            s if s.is_client_error() => {
                ("Requête refusée", "Cette requête ne peut pas être traitée.")
            }
            _ => (
                "Une erreur est survenue",
                "Une erreur inattendue nous empêche d'afficher cette page. Elle a été enregistrée ; merci de réessayer dans quelques instants.",
            ),
        };
        ErrorPage {
            status,
            title,
            message: message.to_owned(),
        }
    }
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::Gone(_) => StatusCode::GONE,
            AppError::TooMany(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Database(error) if crate::db::is_unavailable(error) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            AppError::Database(_) | AppError::Template(_) | AppError::Other(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut page = ErrorPage::for_status(status);
        match &self {
            AppError::BadRequest(message)
            | AppError::Forbidden(message)
            | AppError::Gone(message)
            | AppError::TooMany(message)
            | AppError::Conflict(message)
            | AppError::Unavailable(message) => page.message = message.clone(),
            AppError::NotFound => {}
            AppError::Database(error) if status == StatusCode::SERVICE_UNAVAILABLE => {
                tracing::warn!(%error, "database unavailable");
            }
            // Logged once here, with the cause; the visitor only sees the generic page.
            other => tracing::error!(error = %other, "request failed"),
        }
        let mut response = (status, page.message.clone()).into_response();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from_static(RETRY_AFTER_SECONDS),
            );
        }
        response.extensions_mut().insert(page);
        response
    }
}
