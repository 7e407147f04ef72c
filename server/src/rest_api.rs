//! The REST API (`/v2`): remote assistance on a desktop, authenticated by
//! an API token in `X-Auth-Token`, and its OpenAPI document. Handlers parse
//! and answer; the rules are in `services`.

mod body;
mod errors;

use std::net::SocketAddr;

use axum::Extension;
use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use domain::{HostId, ProjectId, ShareSpaceRecord, ShareStatus};
use serde::Serialize;
use services::{Actor, ServiceError, Services};
use tower_http::catch_panic::CatchPanicLayer;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{OpenApi, ToSchema};

pub use body::parse_share_body;
use body::{StartShareSpace, Validity, share_options};
pub use errors::{ApiError, ERROR_CODES, ErrorBody};

const TOKEN_HEADER: &str = "X-Auth-Token";
const REMOTE_ASSISTANCE: &str = "/{project_id}/desktops/{desktop_id}/remote-assistance";

/// The routes under `/v2`. Every answer that is not a success carries the
/// error body, even for unknown paths, wrong methods and panics.
pub fn routes(services: Services) -> Router {
    let api = Router::new()
        .route(
            REMOTE_ASSISTANCE,
            get(get_share_space)
                .post(start_share_space)
                .delete(cancel_share_space),
        )
        .route("/openapi.json", get(openapi_document))
        .fallback(no_such_path)
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .with_state(services)
        .layer(DefaultBodyLimit::max(body::MAX_BODY_BYTES))
        .layer(CatchPanicLayer::custom(|_| {
            tracing::error!("a REST API handler panicked");
            ApiError::Internal.into_response()
        }));
    // The nested router sees neither `/v2` nor `/v2/`: route them here, or
    // they would fall through to the web pages.
    Router::new()
        .route("/v2", any(no_such_path))
        .route("/v2/", any(no_such_path))
        .nest("/v2", api)
}

async fn no_such_path() -> ApiError {
    ApiError::NoSuchPath
}

/// A share space: the invitation on a live session.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShareSpace {
    /// Collaborative space ID; null for a session that ended or failed
    /// before it was ever shared (as are the code and both links).
    #[schema(required = true)]
    pub share_space_id: Option<String>,
    /// Invitation code: eight characters, uppercase letters and digits.
    #[schema(required = true, pattern = "^[A-Z0-9]{8}$", example = "D1F32AA6")]
    pub invitation_code: Option<String>,
    /// Collaborative space name.
    pub share_space_name: String,
    /// The share's password: only for the session's creator, and null when
    /// the share has none.
    #[schema(required = true)]
    pub share_space_passwd: Option<String>,
    /// The invitation URL under the internal base URL.
    #[schema(required = true)]
    pub private_share_link: Option<String>,
    /// The invitation URL under the public base URL.
    #[schema(required = true)]
    pub internet_share_link: Option<String>,
    /// Creation time (of the session, when it was never shared), UTC, `yyyy-MM-dd'T'HH:mm:ss'Z'`.
    #[schema(
        pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$",
        example = "2026-03-28T00:00:00Z"
    )]
    pub create_time: String,
    pub status: ShareSpaceStatus,
    /// Why the session failed (code and message), or null.
    #[schema(required = true)]
    pub failed_reason: Option<String>,
}

/// Collaborative space status.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum ShareSpaceStatus {
    Open,
    Cancelled,
    Expired,
    Ended,
}

impl From<ShareSpaceRecord> for ShareSpace {
    fn from(record: ShareSpaceRecord) -> Self {
        ShareSpace {
            share_space_id: record.id.map(|id| id.to_string()),
            invitation_code: record.code,
            share_space_name: record.name,
            share_space_passwd: record.password,
            private_share_link: record.private_link,
            internet_share_link: record.internet_link,
            create_time: record.created_at,
            status: match record.status {
                ShareStatus::Open => ShareSpaceStatus::Open,
                ShareStatus::Cancelled => ShareSpaceStatus::Cancelled,
                ShareStatus::Expired => ShareSpaceStatus::Expired,
                ShareStatus::Ended => ShareSpaceStatus::Ended,
            },
            failed_reason: record
                .failure
                .map(|end| format!("{}: {}", end.code(), end.message())),
        }
    }
}

type Ids = Result<Path<(String, String)>, PathRejection>;
/// The client's address, for the audit log; absent when the router is
/// driven without a socket (as in tests).
type Client = Option<Extension<ConnectInfo<SocketAddr>>>;

#[utoipa::path(
    get,
    path = "/v2/{project_id}/desktops/{desktop_id}/remote-assistance",
    summary = "Query remote assistance data by desktop ID",
    description = "The share space of the caller's live session on the desktop, else of a live session there the caller may join, else of the caller's most recent session there.",
    params(Desktop),
    responses(RemoteAssistanceAnswers),
    security(("token" = []))
)]
async fn get_share_space(
    State(services): State<Services>,
    ids: Ids,
    headers: HeaderMap,
    client: Client,
) -> Response {
    let request = async {
        let (actor, project, desktop) = authorise(&services, &headers, client, ids).await?;
        let answer = services.share_space(&actor, project, desktop).await;
        Ok((actor, project, desktop, answer))
    };
    answer(&services, "query", request.await)
}

#[utoipa::path(
    post,
    path = "/v2/{project_id}/desktops/{desktop_id}/remote-assistance",
    summary = "Start sharing the caller's session on the desktop",
    description = "Opens a share on the caller's live session on the desktop and returns it; while one is open, that one is returned.",
    params(Desktop),
    request_body(content = Option<StartShareSpace>, content_type = "application/json"),
    responses(RemoteAssistanceAnswers),
    security(("token" = []))
)]
async fn start_share_space(
    State(services): State<Services>,
    ids: Ids,
    headers: HeaderMap,
    client: Client,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let request = async {
        let (actor, project, desktop) = authorise(&services, &headers, client, ids).await?;
        let options = share_options(body)?;
        let answer = services
            .start_share_space(&actor, project, desktop, options)
            .await;
        Ok((actor, project, desktop, answer))
    };
    answer(&services, "share", request.await)
}

#[utoipa::path(
    delete,
    path = "/v2/{project_id}/desktops/{desktop_id}/remote-assistance",
    summary = "Cancel sharing the caller's session on the desktop",
    description = "Cancels the open share of the caller's live session on the desktop; invited users are forced out. Returns the share space, now CANCELLED.",
    params(Desktop),
    responses(RemoteAssistanceAnswers),
    security(("token" = []))
)]
async fn cancel_share_space(
    State(services): State<Services>,
    ids: Ids,
    headers: HeaderMap,
    client: Client,
) -> Response {
    let request = async {
        let (actor, project, desktop) = authorise(&services, &headers, client, ids).await?;
        let answer = services.cancel_share_space(&actor, project, desktop).await;
        Ok((actor, project, desktop, answer))
    };
    answer(&services, "cancel sharing", request.await)
}

/// The answers of every remote assistance operation, for the OpenAPI
/// document; each operation's description says which causes it has.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
enum RemoteAssistanceAnswers {
    /// Normal.
    #[response(status = 200)]
    Normal(ShareSpace),
    /// The request cannot be understood by the server due to malformed
    /// syntax: malformed ids, header or body.
    #[response(status = 400)]
    BadRequest(ErrorBody),
    /// Authentication failed: the token is missing, unknown, revoked or
    /// expired, or its user is disabled.
    #[response(status = 401)]
    Unauthorized(ErrorBody),
    /// No operation permissions: no grant on the desktop, or (to share or
    /// cancel) not the session's creator.
    #[response(status = 403)]
    Forbidden(ErrorBody),
    /// No resources found: no such project, desktop, share space or
    /// active session.
    #[response(status = 404)]
    NotFound(ErrorBody),
    /// The body is larger than 16 KiB (POST).
    #[response(status = 413)]
    TooLarge(ErrorBody),
    /// The request has more than 100 headers.
    #[response(status = 431)]
    TooManyHeaders(ErrorBody),
    /// An internal service error occurred.
    #[response(status = 500)]
    Internal(ErrorBody),
}

/// The path parameters, for the OpenAPI document: positive integers in
/// decimal, without sign or leading zeros, as `parse_id` takes them.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
struct Desktop {
    /// Project ID.
    #[param(minimum = 1, example = 1)]
    project_id: i64,
    /// Desktop ID (a host of the project).
    #[param(minimum = 1, example = 1)]
    desktop_id: i64,
}

/// The token's user and the ids, or the first thing wrong with the
/// request: the token, then the ids.
async fn authorise(
    services: &Services,
    headers: &HeaderMap,
    client: Client,
    ids: Ids,
) -> Result<(Actor, ProjectId, HostId), ApiError> {
    let token = headers
        .get(TOKEN_HEADER)
        .ok_or(ApiError::MissingToken)?
        .to_str()
        .map_err(|_| ApiError::MalformedHeader(TOKEN_HEADER))?;
    let address = client.map(|Extension(ConnectInfo(address))| address.ip());
    let actor = services.token_actor(token.trim(), address).await?;
    let Path((project, desktop)) = ids.map_err(|_| ApiError::MalformedId("project_id"))?;
    let project = parse_id(&project).ok_or(ApiError::MalformedId("project_id"))?;
    let desktop = parse_id(&desktop).ok_or(ApiError::MalformedId("desktop_id"))?;
    Ok((actor, ProjectId(project), HostId(desktop)))
}

/// A positive `i64` written as the document's parameter schema says: the
/// canonical decimal form, so each id has one spelling.
pub fn parse_id(value: &str) -> Option<i64> {
    let canonical = value.bytes().all(|b| b.is_ascii_digit()) && !value.starts_with('0');
    canonical
        .then(|| value.parse().ok())
        .flatten()
        .filter(|id| *id > 0)
}

/// The most request headers Tandem reads; the HTTP server parses more, so
/// that this refusal is Tandem's own (with the error body under `/v2`).
pub const MAX_REQUEST_HEADERS: usize = 100;

/// Refuses a request with more than `MAX_REQUEST_HEADERS` headers, for
/// the whole application: under `/v2` with the error body, elsewhere with
/// the bare status.
pub async fn refuse_excess_headers(request: Request, next: Next) -> Response {
    if request.headers().len() <= MAX_REQUEST_HEADERS {
        return next.run(request).await;
    }
    let path = request.uri().path();
    if path == "/v2" || path.starts_with("/v2/") {
        ApiError::TooManyHeaders.into_response()
    } else {
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE.into_response()
    }
}

/// The answer to a request: the share space, or the error body. A refusal
/// carries its detailed reason, sealed for administrators.
fn answer(
    services: &Services,
    action: &str,
    outcome: Result<
        (
            Actor,
            ProjectId,
            HostId,
            Result<ShareSpaceRecord, ServiceError>,
        ),
        ApiError,
    >,
) -> Response {
    let (actor, project, desktop, result) = match outcome {
        Ok(outcome) => outcome,
        Err(error) => return error.into_response(),
    };
    match result {
        Ok(record) => Json(ShareSpace::from(record)).into_response(),
        Err(error) => {
            let error = ApiError::from(error);
            let sealed = (error.status() == axum::http::StatusCode::FORBIDDEN)
                .then(|| {
                    let reason = format!(
                        "user {} (id {}) may not {action} the share space of desktop {desktop} in project {project}: {}",
                        actor.username,
                        actor.id,
                        error.code()
                    );
                    services.seal_note(&reason).ok()
                })
                .flatten();
            error.into_response_with(sealed)
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Tandem REST API",
        description = "Remote assistance: the share space of a live session on a desktop. Every request carries an API token, created on the profile page, in the X-Auth-Token header; it acts with exactly its user's permissions."
    ),
    paths(get_share_space, start_share_space, cancel_share_space),
    components(schemas(ShareSpace, ShareSpaceStatus, StartShareSpace, Validity, ErrorBody)),
    modifiers(&TokenAndErrorCodes)
)]
pub struct ApiDocument;

/// Adds what the derive cannot: the token header as the security scheme,
/// and the table of error codes.
struct TokenAndErrorCodes;

impl utoipa::Modify for TokenAndErrorCodes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(components) = openapi.components.as_mut() {
            components.add_security_scheme(
                "token",
                SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new(TOKEN_HEADER))),
            );
        }
        let mut description = openapi.info.description.take().unwrap_or_default();
        description.push_str("\n\nError codes (`error_code`):\n");
        for (code, status, meaning) in ERROR_CODES {
            description.push_str(&format!("\n- `{code}` ({status}): {meaning}"));
        }
        openapi.info.description = Some(description);
    }
}

async fn openapi_document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDocument::openapi())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_positive_decimal_integers() {
        assert_eq!(parse_id("42"), Some(42));
        assert_eq!(parse_id("9223372036854775807"), Some(i64::MAX));
        for bad in [
            "",
            "0",
            "042",
            "-1",
            "+1",
            "1.0",
            "abc",
            " 1",
            "9223372036854775808",
            "99999999999999999999",
            "1e3",
        ] {
            assert_eq!(parse_id(bad), None, "{bad}");
        }
    }

    /// The document's parameter schema and `parse_id` agree: an integer of
    /// format int64, at least 1.
    #[test]
    fn the_document_types_the_ids_as_parse_id_takes_them() {
        let document = serde_json::to_value(ApiDocument::openapi()).unwrap();
        let operation =
            &document["paths"]["/v2/{project_id}/desktops/{desktop_id}/remote-assistance"];
        for method in ["get", "post", "delete"] {
            let parameters = operation[method]["parameters"].as_array().unwrap();
            let names: Vec<&str> = parameters
                .iter()
                .map(|parameter| parameter["name"].as_str().unwrap())
                .collect();
            assert_eq!(names, ["project_id", "desktop_id"], "{method}");
            for parameter in parameters {
                assert_eq!(parameter["in"], "path");
                assert_eq!(parameter["required"], true);
                assert_eq!(
                    parameter["schema"],
                    serde_json::json!({"type": "integer", "format": "int64", "minimum": 1}),
                    "{method} {}",
                    parameter["name"]
                );
            }
        }
    }
}
