//! The errors server functions return to the browser, and the page that
//! shows one. Only these user-safe cases cross the wire; internal causes stay
//! in the server's log.

use leptos::prelude::*;
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use leptos::server_fn::{Bytes, Encodes};
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
    /// The server could not read a server function's arguments (a missing
    /// or undecodable field): the request itself is malformed.
    #[error("malformed request: {0}")]
    BadRequest(String),
    #[error("something went wrong on the server; the details are in its log")]
    Internal,
    /// The request itself failed on the way (network, encoding); only the
    /// browser produces this one.
    #[error("request failed: {0}")]
    Request(String),
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    /// The server sees argument errors (the client sent something it cannot
    /// read) and its own failures; the browser sees transport failures.
    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::MissingArg(_) => {
                AppError::BadRequest(value.to_string())
            }
            // On the server this is the request body that could not be read;
            // in the browser, the answer, which is a transport failure.
            #[cfg(feature = "ssr")]
            ServerFnErrorErr::Deserialization(_) => AppError::BadRequest(value.to_string()),
            #[cfg(feature = "ssr")]
            _ => {
                tracing::error!(error = %value, "server function failed");
                AppError::Internal
            }
            #[cfg(not(feature = "ssr"))]
            _ => AppError::Request(value.to_string()),
        }
    }

    /// Encodes the error for the wire. server_fn answers every error with
    /// 500; this is the one place every error of a server function passes
    /// on its way out, so it sets the documented status here (the browser's
    /// client decodes the typed error from any 4xx or 5xx answer).
    fn ser(&self) -> Bytes {
        #[cfg(feature = "ssr")]
        answer_with_status(self.status());
        JsonEncoding::encode(self).unwrap_or_else(|_| Bytes::from_static(b"\"Internal\""))
    }
}

/// Sets the HTTP status of the server function's answer, except for a plain
/// HTML form post: server_fn answers that with a redirect back to the form
/// (the error in its query), which must stay a redirect.
#[cfg(feature = "ssr")]
fn answer_with_status(status: u16) {
    let plain_form = use_context::<axum::http::request::Parts>().is_some_and(|request| {
        request
            .headers
            .get(axum::http::header::ACCEPT)
            .and_then(|accept| accept.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"))
    });
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>()
        && !plain_form
        && let Ok(status) = http_status(status)
    {
        response.set_status(status);
    }
}

impl AppError {
    pub fn status(&self) -> u16 {
        match self {
            AppError::NotSignedIn | AppError::LoginFailed => 401,
            AppError::Forbidden => 403,
            AppError::NotFound(_) => 404,
            AppError::Invalid { .. } | AppError::BadRequest(_) => 400,
            AppError::Conflict(_) => 409,
            AppError::HostUnreachable(_) => 502,
            AppError::Ended { .. } => 410,
            AppError::Refused { code, .. } => {
                domain::JoinRefusal::from_code(code).map_or(410, |refusal| refusal.http_status())
            }
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
        send_to(&path);
        return ().into_any();
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

/// On the server, a real redirect: 303 See Other, so the browser GETs the
/// login page (every route renders fully before answering, so the status
/// can still be set). In the browser, a client-side navigation.
#[cfg(feature = "ssr")]
fn send_to(path: &str) {
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>()
        && let Ok(location) = axum::http::HeaderValue::from_str(path)
    {
        response.set_status(axum::http::StatusCode::SEE_OTHER);
        response.insert_header(axum::http::header::LOCATION, location);
    }
}

#[cfg(not(feature = "ssr"))]
fn send_to(path: &str) {
    leptos_router::hooks::use_navigate()(path, Default::default());
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
