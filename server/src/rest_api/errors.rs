//! The REST API's errors: one stable code per cause, its HTTP status, and
//! the body every error answer carries.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use services::{ServiceError, TokenRejection};
use utoipa::ToSchema;

/// The body of every error answer.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ErrorBody {
    /// A stable code, `TANDEM.` and four digits; see the README.
    #[schema(pattern = "^TANDEM\\.[0-9]{4}$", example = "TANDEM.4031")]
    pub error_code: String,
    /// What went wrong, in one sentence.
    pub error_msg: String,
    /// More about the cause, safe to show to the caller.
    pub error_detail: String,
    /// For refusals (403): the detailed reason, sealed with the server's
    /// key. An administrator reads it with `tandem
    /// decode-authorization-message`. Null otherwise.
    #[schema(required = true)]
    pub encoded_authorization_message: Option<String>,
}

/// Why a request failed. Each variant has one code that never changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    MalformedId(&'static str),
    MalformedBody(String),
    InvalidValue(String),
    MalformedHeader(&'static str),
    MissingToken,
    TokenRejected(TokenRejection),
    NoGrant,
    NotCreator,
    NotFound(&'static str),
    NoSuchPath,
    MethodNotAllowed,
    BodyTooLarge,
    TooManyHeaders,
    Internal,
}

/// Every code with its status and meaning, for the README and the tests.
pub const ERROR_CODES: [(&str, u16, &str); 19] = [
    (
        "TANDEM.4001",
        400,
        "project_id or desktop_id is not a valid id",
    ),
    (
        "TANDEM.4002",
        400,
        "the body is not the expected JSON object",
    ),
    (
        "TANDEM.4003",
        400,
        "a field of the body has an invalid value",
    ),
    ("TANDEM.4004", 400, "a header is malformed"),
    ("TANDEM.4011", 401, "X-Auth-Token is missing"),
    ("TANDEM.4012", 401, "the token is unknown"),
    ("TANDEM.4013", 401, "the token was revoked"),
    ("TANDEM.4014", 401, "the token has expired"),
    ("TANDEM.4015", 401, "the token's user is disabled"),
    (
        "TANDEM.4031",
        403,
        "the token's user holds no grant on the desktop",
    ),
    ("TANDEM.4032", 403, "only the session's creator may do this"),
    ("TANDEM.4041", 404, "no such project"),
    ("TANDEM.4042", 404, "no such desktop in the project"),
    ("TANDEM.4043", 404, "no such share space or active session"),
    ("TANDEM.4044", 404, "no such API path"),
    ("TANDEM.4051", 405, "the path does not take this method"),
    ("TANDEM.4131", 413, "the body is larger than 16 KiB"),
    ("TANDEM.4311", 431, "the request has more than 100 headers"),
    (
        "TANDEM.5001",
        500,
        "an internal error; the server log has the cause",
    ),
];

impl ApiError {
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::MalformedId(_) => "TANDEM.4001",
            ApiError::MalformedBody(_) => "TANDEM.4002",
            ApiError::InvalidValue(_) => "TANDEM.4003",
            ApiError::MalformedHeader(_) => "TANDEM.4004",
            ApiError::MissingToken => "TANDEM.4011",
            ApiError::TokenRejected(TokenRejection::Unknown) => "TANDEM.4012",
            ApiError::TokenRejected(TokenRejection::Revoked) => "TANDEM.4013",
            ApiError::TokenRejected(TokenRejection::Expired) => "TANDEM.4014",
            ApiError::TokenRejected(TokenRejection::UserDisabled) => "TANDEM.4015",
            ApiError::NoGrant => "TANDEM.4031",
            ApiError::NotCreator => "TANDEM.4032",
            ApiError::NotFound("project") => "TANDEM.4041",
            ApiError::NotFound("desktop") => "TANDEM.4042",
            ApiError::NotFound(_) => "TANDEM.4043",
            ApiError::NoSuchPath => "TANDEM.4044",
            ApiError::MethodNotAllowed => "TANDEM.4051",
            ApiError::BodyTooLarge => "TANDEM.4131",
            ApiError::TooManyHeaders => "TANDEM.4311",
            ApiError::Internal => "TANDEM.5001",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::MalformedId(_)
            | ApiError::MalformedBody(_)
            | ApiError::InvalidValue(_)
            | ApiError::MalformedHeader(_) => StatusCode::BAD_REQUEST,
            ApiError::MissingToken | ApiError::TokenRejected(_) => StatusCode::UNAUTHORIZED,
            ApiError::NoGrant | ApiError::NotCreator => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) | ApiError::NoSuchPath => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::TooManyHeaders => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            ApiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn message(&self) -> &'static str {
        match self.status() {
            StatusCode::BAD_REQUEST => "The request is malformed.",
            StatusCode::UNAUTHORIZED => "Authentication failed.",
            StatusCode::FORBIDDEN => "No permission for this operation.",
            StatusCode::NOT_FOUND => "No such resource.",
            StatusCode::METHOD_NOT_ALLOWED => "Method not allowed.",
            StatusCode::PAYLOAD_TOO_LARGE => "The request body is too large.",
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => "The request has too many headers.",
            _ => "An internal error occurred.",
        }
    }

    fn detail(&self) -> String {
        match self {
            ApiError::MalformedId(parameter) => format!("{parameter} must be a positive integer"),
            ApiError::MalformedBody(why) => format!("the body is not valid: {why}"),
            ApiError::InvalidValue(why) => why.clone(),
            ApiError::MalformedHeader(header) => format!("the {header} header is malformed"),
            ApiError::MissingToken => "send an API token in the X-Auth-Token header".to_owned(),
            ApiError::TokenRejected(TokenRejection::Unknown) => "the token is unknown".to_owned(),
            ApiError::TokenRejected(TokenRejection::Revoked) => "the token was revoked".to_owned(),
            ApiError::TokenRejected(TokenRejection::Expired) => "the token has expired".to_owned(),
            ApiError::TokenRejected(TokenRejection::UserDisabled) => {
                "the token's user is disabled".to_owned()
            }
            ApiError::NoGrant => "you hold no grant on an account of this desktop".to_owned(),
            ApiError::NotCreator => "only the session's creator may do this".to_owned(),
            ApiError::NotFound(what) => format!("no such {what}"),
            ApiError::NoSuchPath => "no such API path".to_owned(),
            ApiError::MethodNotAllowed => "the path does not take this method".to_owned(),
            ApiError::BodyTooLarge => {
                format!("send at most {} KiB", super::body::MAX_BODY_BYTES / 1024)
            }
            ApiError::TooManyHeaders => {
                format!("send at most {} headers", super::MAX_REQUEST_HEADERS)
            }
            ApiError::Internal => "see the server log".to_owned(),
        }
    }

    /// The answer, with the sealed reason of a refusal when there is one.
    pub fn into_response_with(self, sealed_reason: Option<String>) -> Response {
        let body = ErrorBody {
            error_code: self.code().to_owned(),
            error_msg: self.message().to_owned(),
            error_detail: self.detail(),
            encoded_authorization_message: sealed_reason,
        };
        (self.status(), Json(body)).into_response()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.into_response_with(None)
    }
}

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> Self {
        match error {
            ServiceError::Invalid(invalid) => ApiError::InvalidValue(invalid.to_string()),
            ServiceError::Conflict(message) => ApiError::InvalidValue(message),
            ServiceError::NotFound(what) => ApiError::NotFound(what),
            ServiceError::Ended(_) => ApiError::NotFound("active session"),
            ServiceError::Forbidden | ServiceError::Refused(_) => ApiError::NoGrant,
            ServiceError::NotCreator => ApiError::NotCreator,
            ServiceError::Unauthenticated(why) => ApiError::TokenRejected(why),
            ServiceError::LoginFailed => ApiError::TokenRejected(TokenRejection::Unknown),
            ServiceError::HostUnreachable(_) | ServiceError::Internal(_) => {
                tracing::error!(error = format!("{error:#}"), "REST API request failed");
                ApiError::Internal
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_code_table_matches_the_variants() {
        let variants = [
            ApiError::MalformedId("project_id"),
            ApiError::MalformedBody(String::new()),
            ApiError::InvalidValue(String::new()),
            ApiError::MalformedHeader("X-Auth-Token"),
            ApiError::MissingToken,
            ApiError::TokenRejected(TokenRejection::Unknown),
            ApiError::TokenRejected(TokenRejection::Revoked),
            ApiError::TokenRejected(TokenRejection::Expired),
            ApiError::TokenRejected(TokenRejection::UserDisabled),
            ApiError::NoGrant,
            ApiError::NotCreator,
            ApiError::NotFound("project"),
            ApiError::NotFound("desktop"),
            ApiError::NotFound("share space"),
            ApiError::NoSuchPath,
            ApiError::MethodNotAllowed,
            ApiError::BodyTooLarge,
            ApiError::TooManyHeaders,
            ApiError::Internal,
        ];
        assert_eq!(variants.len(), ERROR_CODES.len());
        for (error, (code, status, _)) in variants.iter().zip(ERROR_CODES) {
            assert_eq!(error.code(), code);
            assert_eq!(error.status().as_u16(), status, "{code}");
            assert!(
                code.starts_with(&format!("TANDEM.{status}")[..10]),
                "{code}"
            );
        }
    }

    #[test]
    fn the_limits_in_the_table_are_the_limits_enforced() {
        let meaning = |code: &str| {
            ERROR_CODES
                .iter()
                .find(|(listed, _, _)| *listed == code)
                .map(|(_, _, meaning)| *meaning)
        };
        let body_limit = format!("{} KiB", super::super::body::MAX_BODY_BYTES / 1024);
        assert!(meaning("TANDEM.4131").is_some_and(|text| text.ends_with(&body_limit)));
        let header_limit = format!("{} headers", super::super::MAX_REQUEST_HEADERS);
        assert!(meaning("TANDEM.4311").is_some_and(|text| text.ends_with(&header_limit)));
    }

    #[test]
    fn internal_causes_never_reach_the_caller() {
        let cause = anyhow::anyhow!("connection to postgres://tandem:hunter2@db failed");
        let error = ApiError::from(ServiceError::Internal(cause));
        assert_eq!(error, ApiError::Internal);
        assert!(!error.detail().contains("hunter2"));
    }

    #[test]
    fn the_readme_lists_every_code() {
        let readme = include_str!("../../../README.md");
        for (code, status, meaning) in ERROR_CODES {
            let row = format!("| `{code}` | {status} | {meaning} |");
            assert!(readme.contains(&row), "README lacks {row}");
        }
    }
}
