//! Our own extractors: a malformed path, query string or form body renders our 400 page,
//! never axum's plain-text rejection.

use axum::extract::path::ErrorKind;
use axum::extract::rejection::{FormRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::middleware::Next;
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

/// Whether URL-encoded text carries a NUL (`%00`, or the byte itself). No parameter of ours
/// can hold one, and PostgreSQL refuses it in text (`invalid byte sequence for encoding
/// "UTF8": 0x00`, a 500 where SQLite said 200). Form fields are checked by the forms
/// themselves, which say which field holds what cannot be kept (`GiftForm::is_garbled`, the
/// fields' parsers).
fn has_encoded_nul(encoded: &[u8]) -> bool {
    encoded.contains(&0)
        || encoded
            .windows(3)
            .any(|w| w[0] == b'%' && w[1] == b'0' && w[2] == b'0')
}

/// Middleware: no page has an address whose query string carries a NUL: the 404 page,
/// before any handler reads it (as for an id that cannot be one of ours). Path segments are
/// read by their own parsers (`Slug`, the sign-in links' tokens), which refuse it.
pub async fn refuse_nul_in_address(request: Request, next: Next) -> Response {
    let query = request.uri().query().unwrap_or("").as_bytes();
    if has_encoded_nul(query) {
        return AppError::NotFound.into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::has_encoded_nul;

    #[test]
    fn a_nul_is_seen_however_it_is_written() {
        for text in ["a=%00", "a=x%00y", "%00"] {
            assert!(has_encoded_nul(text.as_bytes()), "{text}");
        }
        assert!(has_encoded_nul(&[b'a', b'=', 0]));
        // « %25 » is a percent sign: « %2500 » is the text « %00 », not a NUL.
        for text in ["a=%100", "a=%0A", "a=0%30", "a=100", "a=%2500"] {
            assert!(!has_encoded_nul(text.as_bytes()), "{text}");
        }
    }
}
