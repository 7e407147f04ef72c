//! Server-only glue for server functions: the services, the signed-in user,
//! the client's address, and the mapping of service errors to `AppError`.

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use leptos::prelude::*;
use services::{Actor, Admin, ServiceError, Services};
use tower_sessions::Session;

use crate::error::AppError;

pub fn services() -> Result<Services, AppError> {
    use_context::<Services>().ok_or_else(|| {
        tracing::error!("Services missing from the Leptos context");
        AppError::Internal
    })
}

pub async fn web_session() -> Result<Session, AppError> {
    leptos_axum::extract::<Session>().await.map_err(|error| {
        tracing::error!(%error, "no web session layer");
        AppError::Internal
    })
}

/// The signed-in, enabled user, or `NotSignedIn`.
pub async fn current_actor() -> Result<Actor, AppError> {
    let session = web_session().await?;
    let actor = services()?
        .signed_in_actor(&session)
        .await?
        .ok_or(AppError::NotSignedIn)?;
    Ok(actor.with_address(client_address().await?))
}

/// The signed-in admin; anyone else's attempt is audited.
pub async fn current_admin() -> Result<(Actor, Admin), AppError> {
    let actor = current_actor().await?;
    let path = leptos_axum::extract::<axum::http::Uri>()
        .await
        .map(|uri| uri.path().to_owned())
        .unwrap_or_default();
    let admin = services()?.require_admin(&actor, &path).await?;
    Ok((actor, admin))
}

pub async fn client_address() -> Result<IpAddr, AppError> {
    let ConnectInfo(address) = leptos_axum::extract::<ConnectInfo<SocketAddr>>()
        .await
        .map_err(internal)?;
    Ok(address.ip())
}

fn internal(error: impl std::fmt::Display) -> AppError {
    tracing::error!(%error, "server function failed");
    AppError::Internal
}

impl From<ServiceError> for AppError {
    fn from(error: ServiceError) -> Self {
        match error {
            ServiceError::Invalid(invalid) => AppError::Invalid {
                field: invalid.field.to_owned(),
                message: invalid.message,
            },
            ServiceError::NotFound(what) => AppError::NotFound(what.to_owned()),
            ServiceError::Conflict(message) => AppError::Conflict(message),
            ServiceError::Forbidden | ServiceError::NotCreator => AppError::Forbidden,
            ServiceError::Unauthenticated(_) => AppError::NotSignedIn,
            ServiceError::LoginFailed => AppError::LoginFailed,
            ServiceError::HostUnreachable(message) => AppError::HostUnreachable(message),
            ServiceError::Ended(end) => AppError::Ended {
                code: end.code().to_owned(),
                message: end.message().to_owned(),
            },
            ServiceError::Refused(refusal) => AppError::Refused {
                code: refusal.code().to_owned(),
                title: refusal.title().to_owned(),
                message: refusal.message(),
            },
            ServiceError::Internal(error) => {
                tracing::error!(error = format!("{error:#}"), "internal error");
                AppError::Internal
            }
        }
    }
}
