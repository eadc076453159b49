//! Our own extractors: a malformed path, query string or form body renders our 400 page,
//! never axum's plain-text rejection.

use axum::extract::path::ErrorKind;
use axum::extract::rejection::{FormRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use crate::error::AppError;

/// Path parameters, parsed into their domain types (`AppPath<Slug>`).
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(AppError))]
pub struct AppPath<T>(pub T);

#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(AppError))]
pub struct AppQuery<T>(pub T);

/// What a form body that cannot be read gets.
pub const UNREADABLE_FORM: &str = "Le formulaire envoyé n'est pas lisible.";

/// A form body (`application/x-www-form-urlencoded`), decoded into a struct of raw text
/// fields; turning them into domain types, with a message per field, is the domain's work.
pub struct AppForm<T>(pub T);

impl<T, S> FromRequest<S> for AppForm<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Form::<T>::from_request(req, state).await {
            Ok(axum::Form(value)) => Ok(AppForm(value)),
            // Axum's 413, which the error layer renders as our "Envoi trop volumineux" page.
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(rejection.into_response())
            }
            Err(rejection) => Err(AppError::from(rejection).into_response()),
        }
    }
}

impl From<PathRejection> for AppError {
    fn from(rejection: PathRejection) -> Self {
        match rejection {
            // Well encoded, but refused by the parameter's parse (a `Slug` that cannot be
            // one): no page has that address, as with an unknown slug.
            PathRejection::FailedToDeserializePathParams(error)
                if matches!(error.kind(), ErrorKind::Message(_)) =>
            {
                AppError::NotFound
            }
            _ => AppError::BadRequest("L'adresse demandée n'est pas valide.".to_owned()),
        }
    }
}

impl From<QueryRejection> for AppError {
    fn from(_: QueryRejection) -> Self {
        AppError::BadRequest("Les paramètres de l'adresse ne sont pas valides.".to_owned())
    }
}

impl From<FormRejection> for AppError {
    fn from(_: FormRejection) -> Self {
        AppError::BadRequest(UNREADABLE_FORM.to_owned())
    }
}
