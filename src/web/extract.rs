//! Our own extractors: a malformed path or query string renders our 400 page, never axum's
//! plain-text rejection.

use axum::extract::FromRequestParts;
use axum::extract::rejection::{PathRejection, QueryRejection};

use crate::error::AppError;

#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(AppError))]
pub struct AppPath<T>(pub T);

#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(AppError))]
pub struct AppQuery<T>(pub T);

impl From<PathRejection> for AppError {
    fn from(_: PathRejection) -> Self {
        AppError::BadRequest("L'adresse demandée n'est pas valide.".to_owned())
    }
}

impl From<QueryRejection> for AppError {
    fn from(_: QueryRejection) -> Self {
        AppError::BadRequest("Les paramètres de l'adresse ne sont pas valides.".to_owned())
    }
}
