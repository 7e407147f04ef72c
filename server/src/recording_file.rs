//! `/sessions/{id}/recording.cast`: a session's asciicast file, for the
//! browser player (or `curl` and `asciinema play`) of someone who may play
//! it. The file is streamed from disk, never read into memory whole.
//! `/sessions/{id}/recording.keyframes.json`: the screens the player seeks
//! from, for the same people.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::{ConnectInfo, Extension, Path, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::OmSessionId;
use services::{Actor, ServiceError, Services};
use tower_http::services::ServeFile;
use tower_sessions::Session;

pub async fn download(
    Extension(services): Extension<Services>,
    Path(id): Path<i64>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    web_session: Session,
    request: Request,
) -> Response {
    let actor = match signed_in(&services, &web_session, client).await {
        Ok(actor) => actor,
        Err(refused) => return refused,
    };
    let path = match services.recording_path(&actor, OmSessionId(id)).await {
        Ok(path) => path,
        Err(error) => return refusal(error),
    };
    // ServeFile streams in chunks and answers Range and conditional
    // requests, which players and downloads may send.
    match ServeFile::new(&path).try_call(request).await {
        Ok(response) => {
            let mut response = response.map(Body::new);
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/x-asciicast"),
            );
            // Someone's terminal session: no shared cache may keep it.
            headers.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-cache"),
            );
            response
        }
        Err(error) => {
            tracing::error!(session = id, %error, "reading a recording failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

pub async fn keyframes(
    Extension(services): Extension<Services>,
    Path(id): Path<i64>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    web_session: Session,
) -> Response {
    let actor = match signed_in(&services, &web_session, client).await {
        Ok(actor) => actor,
        Err(refused) => return refused,
    };
    match services.recording_keyframes(&actor, OmSessionId(id)).await {
        Ok(json) => (
            [
                (header::CONTENT_TYPE, "application/json"),
                (header::CACHE_CONTROL, "private, no-cache"),
            ],
            json,
        )
            .into_response(),
        Err(error) => refusal(error),
    }
}

async fn signed_in(
    services: &Services,
    web_session: &Session,
    client: SocketAddr,
) -> Result<Actor, Response> {
    match services.signed_in_actor(web_session).await {
        Ok(Some(actor)) => Ok(actor.with_address(client.ip())),
        Ok(None) => Err((StatusCode::UNAUTHORIZED, "please sign in").into_response()),
        Err(error) => Err(refusal(error)),
    }
}

fn refusal(error: ServiceError) -> Response {
    match error {
        ServiceError::Forbidden => (StatusCode::FORBIDDEN, "not permitted").into_response(),
        ServiceError::NotFound(what) => {
            (StatusCode::NOT_FOUND, format!("no such {what}")).into_response()
        }
        other => {
            tracing::error!(error = ?other, "recording download refused");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
