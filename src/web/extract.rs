//! Our own extractors: a malformed path, query string or form body renders our 400 page,
//! never axum's plain-text rejection.

use axum::body::{Body, Bytes};
use axum::extract::path::ErrorKind;
use axum::extract::rejection::{FormRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{Method, StatusCode, header};
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
        // The decoder puts U+FFFD in place of bytes that are not UTF-8 and goes on: read the
        // body first, so that a field never reaches a form other than as it was sent.
        let content_type = req.headers().get(header::CONTENT_TYPE).cloned();
        let body = match Bytes::from_request(req, state).await {
            Ok(body) => body,
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(rejection.into_response());
            }
            Err(_) => return Err(AppError::BadRequest(UNREADABLE_FORM.to_owned()).into_response()),
        };
        if std::str::from_utf8(&percent_decoded(&body)).is_err() {
            return Err(AppError::BadRequest(UNREADABLE_FORM.to_owned()).into_response());
        }
        let mut req = Request::new(Body::from(body));
        *req.method_mut() = Method::POST;
        if let Some(content_type) = content_type {
            req.headers_mut().insert(header::CONTENT_TYPE, content_type);
        }
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

/// URL-encoded text with its `%XX` escapes decoded (and nothing else: `&`, `=` and `+` are
/// ASCII, so they cannot make or break UTF-8 around them).
fn percent_decoded(encoded: &[u8]) -> Vec<u8> {
    let hex = |at: usize| encoded.get(at).and_then(|b| char::from(*b).to_digit(16));
    let mut decoded = Vec::with_capacity(encoded.len());
    let mut at = 0;
    while at < encoded.len() {
        match (encoded[at], hex(at + 1), hex(at + 2)) {
            (b'%', Some(high), Some(low)) => {
                decoded.extend(u8::try_from(high * 16 + low));
                at += 3;
            }
            (byte, ..) => {
                decoded.push(byte);
                at += 1;
            }
        }
    }
    decoded
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

/// Form bodies decoded as a handler receives them, and arbitrary ones to decode, for the
/// forms' property tests.
#[cfg(test)]
pub(crate) mod testing {
    use axum::body::Body;
    use axum::extract::{FromRequest, Request};
    use proptest::prelude::*;
    use serde::de::DeserializeOwned;

    use super::AppForm;
    use crate::error::ErrorPage;

    /// What `AppForm` makes of `body`: the form, or the message the visitor is shown.
    pub fn decode<T: DeserializeOwned>(body: Vec<u8>) -> Result<T, String> {
        let request = Request::post("/")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .expect("a request");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime");
        match runtime.block_on(AppForm::<T>::from_request(request, &())) {
            Ok(AppForm(form)) => Ok(form),
            Err(response) => Err(response.extensions().get::<ErrorPage>().map_or_else(
                || response.status().to_string(),
                |page| page.message.clone(),
            )),
        }
    }

    /// Whether `body` itself writes U+FFFD (the character decoding puts in place of what is
    /// not UTF-8), so that a field may hold one as sent.
    pub fn spells_a_replacement_character(body: &[u8]) -> bool {
        super::percent_decoded(body)
            .windows(3)
            .any(|w| w == "\u{FFFD}".as_bytes())
    }

    /// Text as a form field may hold it: anything, with a bias to what encoding trips on.
    pub fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            ".{0,40}",
            "[%+&=\\x00\u{FFFD}\u{202E}a-z ]{0,20}",
            (any::<char>(), 0usize..4096).prop_map(|(c, n)| c.to_string().repeat(n)),
            Just("x".repeat(60_000)),
        ]
    }

    /// One way of writing a byte in a form body: as is when harmless, escaped in either case
    /// otherwise (or by choice), a space as `+` or `%20`.
    fn written(byte: u8, escape: bool, upper: bool) -> Vec<u8> {
        let plain = byte.is_ascii_alphanumeric() || b"-._~*".contains(&byte);
        match byte {
            b' ' if !escape => b"+".to_vec(),
            _ if plain && !escape => vec![byte],
            _ if upper => format!("%{byte:02X}").into_bytes(),
            _ => format!("%{byte:02x}").into_bytes(),
        }
    }

    /// `fields` written as a form body, each byte escaped or not as `choices` say.
    pub fn encoded(fields: &[(String, String)], choices: &[(bool, bool)]) -> Vec<u8> {
        let mut choices = choices.iter().cycle();
        let mut write = |text: &str, body: &mut Vec<u8>| {
            for byte in text.bytes() {
                let (escape, upper) = choices.next().copied().unwrap_or((false, false));
                body.extend(written(byte, escape, upper));
            }
        };
        let mut body = Vec::new();
        for (at, (key, value)) in fields.iter().enumerate() {
            if at > 0 {
                body.push(b'&');
            }
            write(key, &mut body);
            body.push(b'=');
            write(value, &mut body);
        }
        body
    }

    /// A form's own fields, each present or not, with any text.
    pub fn fields(keys: &'static [&'static str]) -> impl Strategy<Value = Vec<(String, String)>> {
        proptest::collection::vec(proptest::option::of(text()), keys.len()).prop_map(
            move |values| {
                keys.iter()
                    .zip(values)
                    .filter_map(|(key, value)| Some(((*key).to_owned(), value?)))
                    .collect()
            },
        )
    }

    /// Escaping choices for [`encoded`].
    pub fn escapes() -> impl Strategy<Value = Vec<(bool, bool)>> {
        proptest::collection::vec(any::<(bool, bool)>(), 1..64)
    }

    /// The properties of every form's decoding, as tests of the module it is invoked in:
    /// any body is read or refused with the French message; every field reads back as sent,
    /// however it is escaped; a field sent twice is refused or reads as one of its values.
    /// `$read_back(&form, key)` is a field of the decoded `$form` by name (`None`: absent).
    macro_rules! form_decoding_properties {
        ($form:ty, $keys:expr, $read_back:expr) => {
            ::proptest::proptest! {
                #![proptest_config(::proptest::test_runner::Config::with_cases(256))]

                #[test]
                fn any_body_is_read_or_refused_in_french(
                    body in $crate::web::extract::testing::any_body($keys),
                ) {
                    use $crate::web::extract::testing::{decode, spells_a_replacement_character};
                    match decode::<$form>(body.clone()) {
                        // Read: nothing in it was replaced for not being UTF-8.
                        Ok(form) => {
                            for key in $keys {
                                let value = $read_back(&form, key).unwrap_or_default();
                                ::proptest::prop_assert!(
                                    !value.contains(char::REPLACEMENT_CHARACTER)
                                        || spells_a_replacement_character(&body),
                                    "{}: {:?}",
                                    key,
                                    value
                                );
                            }
                        }
                        Err(message) => ::proptest::prop_assert_eq!(
                            message,
                            $crate::web::extract::UNREADABLE_FORM
                        ),
                    }
                }

                #[test]
                fn every_field_reads_back_as_sent_however_it_is_escaped(
                    sent in $crate::web::extract::testing::fields($keys),
                    choices in $crate::web::extract::testing::escapes(),
                ) {
                    use $crate::web::extract::testing::{decode, encoded};
                    let form = decode::<$form>(encoded(&sent, &choices)).map_err(|m| {
                        ::proptest::test_runner::TestCaseError::fail(format!("refused: {m}"))
                    })?;
                    for key in $keys {
                        let expected = sent.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
                        ::proptest::prop_assert_eq!($read_back(&form, key), expected, "{}", key);
                    }
                }

                #[test]
                fn a_field_sent_twice_is_refused_or_reads_as_one_of_its_values(
                    key in ::proptest::sample::select($keys),
                    first in "[a-z%]{0,10}",
                    second in "[a-z%]{0,10}",
                    choices in $crate::web::extract::testing::escapes(),
                ) {
                    use $crate::web::extract::testing::{decode, encoded};
                    let sent = [(key.to_owned(), first.clone()), (key.to_owned(), second.clone())];
                    match decode::<$form>(encoded(&sent, &choices)) {
                        Ok(form) => {
                            let value = $read_back(&form, key);
                            ::proptest::prop_assert!(
                                value == Some(first) || value == Some(second),
                                "{:?}",
                                value
                            );
                        }
                        Err(message) => ::proptest::prop_assert_eq!(
                            message,
                            $crate::web::extract::UNREADABLE_FORM
                        ),
                    }
                }
            }
        };
    }
    pub(crate) use form_decoding_properties;

    /// Any body at all: raw bytes, broken escapes, invalid UTF-8, NULs, the form's keys
    /// again and again, unknown ones.
    pub fn any_body(keys: &'static [&'static str]) -> impl Strategy<Value = Vec<u8>> {
        let key = prop_oneof![
            proptest::sample::select(keys).prop_map(|k| k.as_bytes().to_vec()),
            proptest::collection::vec(any::<u8>(), 0..12),
        ];
        let value = prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..40),
            "(%[0-9a-fA-F]{0,2}|%00|%FF|%C3|\\+|&|=|[a-z])*".prop_map(String::into_bytes),
        ];
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..200),
            proptest::collection::vec((key, value), 0..30).prop_map(|pairs| {
                let mut body = Vec::new();
                for (key, value) in pairs {
                    body.extend(key);
                    body.push(b'=');
                    body.extend(value);
                    body.push(b'&');
                }
                body
            }),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::{has_encoded_nul, percent_decoded};

    #[test]
    fn escapes_are_decoded_and_broken_ones_kept_as_they_are() {
        assert_eq!(percent_decoded(b"a=%C3%A9t%c3%a9+x"), "a=été+x".as_bytes());
        assert_eq!(percent_decoded(b"%%4%zz%4"), b"%%4%zz%4");
        assert_eq!(percent_decoded(b"%00%ff"), [0, 0xff]);
    }

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
