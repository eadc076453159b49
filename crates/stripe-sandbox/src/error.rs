//! Stripe's error responses: `{"error":{"type":…,"message":…,"param":…,"code":…}}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub kind: &'static str,
    pub message: String,
    pub param: Option<String>,
    pub code: Option<&'static str>,
}

impl ApiError {
    /// 400 `invalid_request_error` about one parameter.
    pub fn invalid(param: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            kind: "invalid_request_error",
            message: message.into(),
            param: Some(param.to_owned()),
            code: Some("parameter_invalid"),
        }
    }

    /// 400 `invalid_request_error` for a parameter that is required but absent.
    pub fn missing(param: &str) -> ApiError {
        ApiError {
            code: Some("parameter_missing"),
            ..ApiError::invalid(param, format!("Missing required param: {param}."))
        }
    }

    /// 400 about the object's state rather than a parameter.
    pub fn state(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            kind: "invalid_request_error",
            message: message.into(),
            param: None,
            code: None,
        }
    }

    /// 404 `resource_missing`, e.g. `No such subscription: 'sub_x'`.
    pub fn no_such(object: &str, id: &str) -> ApiError {
        ApiError {
            status: StatusCode::NOT_FOUND,
            kind: "invalid_request_error",
            message: format!("No such {object}: '{id}'"),
            param: Some("id".to_owned()),
            code: Some("resource_missing"),
        }
    }

    pub fn body(&self) -> String {
        json!({
            "error": {
                "type": self.kind,
                "message": self.message,
                "param": self.param,
                "code": self.code,
            }
        })
        .to_string()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        json_response(self.status, self.body())
    }
}

/// A JSON body with its status, as every API answer is sent.
pub fn json_response(status: StatusCode, body: String) -> Response {
    (
        status,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}
