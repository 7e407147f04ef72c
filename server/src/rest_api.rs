//! The REST API (`/v2`): remote assistance on a desktop, authenticated by
//! an API token in `X-Auth-Token`, and its OpenAPI document. Handlers parse
//! and answer; the rules are in `services`.

mod errors;

use std::net::SocketAddr;

use axum::Extension;
use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{ConnectInfo, Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use domain::{HostId, ProjectId, ResourceName, ShareSpaceRecord, ShareStatus, ShareValidity};
use serde::{Deserialize, Serialize};
use services::{Actor, ServiceError, Services, ShareSpaceOptions};
use tower_http::catch_panic::CatchPanicLayer;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{OpenApi, ToSchema};

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
    /// Collaborative space ID.
    pub share_space_id: String,
    /// Invitation code: eight characters, uppercase letters and digits.
    #[schema(pattern = "^[A-Z0-9]{8}$", example = "D1F32AA6")]
    pub invitation_code: String,
    /// Collaborative space name.
    pub share_space_name: String,
    /// The share's password: only for the session's creator, and null when
    /// the share has none.
    #[schema(required = true)]
    pub share_space_passwd: Option<String>,
    /// The invitation URL under the internal base URL.
    pub private_share_link: String,
    /// The invitation URL under the public base URL.
    pub internet_share_link: String,
    /// Creation time, UTC, `yyyy-MM-dd'T'HH:mm:ss'Z'`.
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
            share_space_id: record.id.to_string(),
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

/// The optional body of a POST: every field may be left out.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartShareSpace {
    /// 1 to 64 characters; default: the session's `login@host`.
    pub name: Option<String>,
    /// Asked of invited users on Enter; default: none.
    pub password: Option<String>,
    /// How long the invitation admits users; default: `1h`.
    pub validity: Option<Validity>,
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
pub enum Validity {
    #[serde(rename = "10m")]
    TenMinutes,
    #[serde(rename = "1h")]
    OneHour,
    #[serde(rename = "8h")]
    EightHours,
    #[serde(rename = "24h")]
    TwentyFourHours,
}

impl From<Validity> for ShareValidity {
    fn from(validity: Validity) -> Self {
        match validity {
            Validity::TenMinutes => ShareValidity::TenMinutes,
            Validity::OneHour => ShareValidity::OneHour,
            Validity::EightHours => ShareValidity::EightHours,
            Validity::TwentyFourHours => ShareValidity::TwentyFourHours,
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
    /// An internal service error occurred.
    #[response(status = 500)]
    Internal(ErrorBody),
}

/// The path parameters, for the OpenAPI document.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
struct Desktop {
    /// Project ID.
    project_id: String,
    /// Desktop ID (a host of the project).
    desktop_id: String,
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

/// A path id: 1 to 18 decimal digits, above zero. Public, like
/// [`parse_share_body`], for the property tests and fuzz targets.
pub fn parse_id(value: &str) -> Option<i64> {
    let well_formed =
        !value.is_empty() && value.len() <= 18 && value.bytes().all(|b| b.is_ascii_digit());
    well_formed
        .then(|| value.parse().ok())
        .flatten()
        .filter(|id| *id > 0)
}

fn share_options(body: Result<Bytes, BytesRejection>) -> Result<ShareSpaceOptions, ApiError> {
    let body = body.map_err(|rejection| ApiError::MalformedBody(rejection.body_text()))?;
    parse_share_body(&body)
}

/// The options in the body of a POST: empty (or only whitespace) for the
/// defaults, else a JSON object with some of `name`, `password` and
/// `validity`.
pub fn parse_share_body(body: &[u8]) -> Result<ShareSpaceOptions, ApiError> {
    let request: StartShareSpace = if body.iter().all(u8::is_ascii_whitespace) {
        StartShareSpace::default()
    } else {
        serde_json::from_slice(body).map_err(|error| ApiError::MalformedBody(error.to_string()))?
    };
    let name = match request.name {
        Some(name) => Some(ResourceName::parse(&name).map_err(ServiceError::from)?),
        None => None,
    };
    Ok(ShareSpaceOptions {
        name,
        password: request.password,
        validity: request
            .validity
            .map_or(ShareValidity::OneHour, ShareValidity::from),
    })
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
        for bad in [
            "",
            "0",
            "-1",
            "+1",
            "1.0",
            "abc",
            " 1",
            "99999999999999999999",
            "1e3",
        ] {
            assert_eq!(parse_id(bad), None, "{bad}");
        }
    }

    #[test]
    fn an_empty_body_takes_the_defaults() {
        let options = share_options(Ok(Bytes::from_static(b" \n"))).unwrap();
        assert_eq!(options.validity, ShareValidity::OneHour);
        assert!(options.name.is_none() && options.password.is_none());
        let options = share_options(Ok(Bytes::from_static(
            br#"{"name":"help","password":"pw","validity":"10m"}"#,
        )))
        .unwrap();
        assert_eq!(options.validity, ShareValidity::TenMinutes);
        assert_eq!(options.name.unwrap().as_str(), "help");
    }

    #[test]
    fn bad_bodies_are_refused_with_their_own_codes() {
        for (body, code) in [
            (&br#"{"validity":"2h"}"#[..], "TANDEM.4002"),
            (br#"{"colour":"red"}"#, "TANDEM.4002"),
            (br#"[1]"#, "TANDEM.4002"),
            (b"\xff", "TANDEM.4002"),
            (br#"{"name":""}"#, "TANDEM.4003"),
        ] {
            let error = share_options(Ok(Bytes::copy_from_slice(body))).unwrap_err();
            assert_eq!(error.code(), code, "{}", String::from_utf8_lossy(body));
        }
    }
}
