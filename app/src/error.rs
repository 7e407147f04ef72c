//! The errors server functions return to the browser, and the page that
//! shows one. Only these user-safe cases cross the wire; internal causes stay
//! in the server's log.

use leptos::prelude::*;
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use leptos_router::components::Redirect;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("please sign in")]
    NotSignedIn,
    #[error("you do not have permission to do this")]
    Forbidden,
    #[error("no such {0}")]
    NotFound(String),
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error("{0}")]
    Conflict(String),
    #[error("invalid user name or password")]
    LoginFailed,
    #[error("{0}")]
    HostUnreachable(String),
    /// The session is over; the message says why.
    #[error("{message}")]
    Ended { code: String, message: String },
    /// An invitation does not admit this user; the message says why.
    #[error("{message} ({code})")]
    Refused {
        code: String,
        title: String,
        message: String,
    },
    #[error("something went wrong on the server; the details are in its log")]
    Internal,
    /// The request itself failed (network, encoding).
    #[error("request failed: {0}")]
    Request(String),
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Request(value.to_string())
    }
}

impl AppError {
    pub fn status(&self) -> u16 {
        match self {
            AppError::NotSignedIn | AppError::LoginFailed => 401,
            AppError::Forbidden => 403,
            AppError::NotFound(_) => 404,
            AppError::Invalid { .. } => 400,
            AppError::Conflict(_) => 409,
            AppError::HostUnreachable(_) => 502,
            AppError::Ended { .. } => 410,
            AppError::Refused { code, .. } => match code.as_str() {
                "J_404" => 404,
                "J_403" => 403,
                "J_401" => 401,
                "J_429" => 429,
                _ => 410,
            },
            AppError::Internal | AppError::Request(_) => 500,
        }
    }

    fn title(&self) -> String {
        match self {
            AppError::Forbidden => "403 Forbidden".to_owned(),
            AppError::NotFound(_) => "404 Not found".to_owned(),
            AppError::Refused { title, .. } => title.clone(),
            _ => "Something went wrong".to_owned(),
        }
    }
}

/// A whole-page error: sets the HTTP status when rendered on the server and
/// sends a signed-out visitor to the login page.
#[component]
pub fn ErrorPage(error: AppError) -> impl IntoView {
    if error == AppError::NotSignedIn {
        // Back to this page after signing in (an invitation URL, say).
        let here = leptos_router::hooks::use_location()
            .pathname
            .get_untracked();
        let path = match is_plain_path(&here) {
            true => format!("/login?next={here}"),
            false => "/login".to_owned(),
        };
        return view! { <Redirect path/> }.into_any();
    }
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>()
        && let Ok(status) = http_status(error.status())
    {
        response.set_status(status);
    }
    view! {
        <section class="error-page">
            <h1>{error.title()}</h1>
            <p role="alert">{error.to_string()}</p>
            <a href="/operation/hosts">"Back to Host Operations"</a>
        </section>
    }
    .into_any()
}

/// A path of this site that is safe to put in a query and to return to.
pub fn is_plain_path(path: &str) -> bool {
    path.starts_with('/')
        && !path.starts_with("//")
        && path
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"/-_".contains(&byte))
}

#[cfg(feature = "ssr")]
fn http_status(code: u16) -> Result<axum::http::StatusCode, axum::http::status::InvalidStatusCode> {
    axum::http::StatusCode::from_u16(code)
}

/// The error of the last submission of a form, if any, as an alert.
pub fn form_error<T, V>(result: V) -> impl IntoView
where
    T: Send + Sync + 'static,
    V: With<Value = Option<Result<T, AppError>>> + Send + Sync + 'static,
{
    move || {
        result.with(|result| match result {
            Some(Err(error)) => {
                Some(view! { <p class="form-error" role="alert">{error.to_string()}</p> })
            }
            _ => None,
        })
    }
}
