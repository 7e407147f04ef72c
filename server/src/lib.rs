//! The Tandem web server: the axum router around the Leptos app, the web
//! session layer, the terminal WebSocket and the cross-site request guard.

mod audit_export;
mod http_server;
mod recording_file;
pub mod rest_api;
mod terminal_socket;
mod vendor;

use app::{App, shell};
use axum::extract::Request;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use axum::{Extension, Router};
use domain::SessionEnd;
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use services::Services;
use tokio::net::TcpListener;
use tower_http::limit::RequestBodyLimitLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

/// Builds the whole application router.
pub fn router(services: Services, leptos_options: LeptosOptions) -> Router {
    let routes = generate_route_list(App);
    let config = services.config();
    let idle = time::Duration::seconds(
        i64::try_from(config.web_session_idle.as_secs()).unwrap_or(i64::MAX),
    );
    let web_sessions = SessionManagerLayer::new(services.web_session_store())
        .with_name("tandem_session")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(config.secure_cookies())
        .with_expiry(Expiry::OnInactivity(idle))
        // Each request moves the idle sign-out later; unsaved, a session
        // would end `idle` after signing in however busy its browser was.
        .with_always_save(true);
    let context_services = services.clone();
    let rest_api = rest_api::routes(services.clone());
    plain_routes()
        .into_iter()
        .fold(Router::new(), |router, (path, handler)| {
            router.route(path, handler)
        })
        .merge(vendor::routes())
        .leptos_routes_with_context(
            &leptos_options,
            routes,
            move || provide_context(context_services.clone()),
            {
                let leptos_options = leptos_options.clone();
                move || shell(leptos_options.clone())
            },
        )
        .fallback(leptos_axum::file_and_error_handler(shell))
        .layer(RequestBodyLimitLayer::new(MAX_WEB_BODY_BYTES))
        .layer(Extension(services))
        .layer(web_sessions)
        .layer(middleware::from_fn(reject_cross_site_writes))
        .with_state(leptos_options)
        // After the layers: the REST API authenticates each request by its
        // token header, never by cookie, so it needs neither web sessions
        // nor the cross-site guard.
        .merge(rest_api)
        .layer(middleware::from_fn(rest_api::refuse_excess_headers))
}

/// The largest body a page's form or server function call may send: the
/// longest fields (a note of 1000 characters, a key) fit many times over.
/// A larger one is answered 413 before anything reads it.
pub const MAX_WEB_BODY_BYTES: usize = 64 * 1024;

/// The routes of the web application that are neither pages nor server
/// functions (Leptos routes those) nor the vendored scripts. Add a route
/// here, never with `.route` above: the authorization test reads this list
/// and fails for a route that has no entry in its matrix.
fn plain_routes() -> [(&'static str, MethodRouter<LeptosOptions>); 4] {
    [
        ("/sessions/{id}/terminal", get(terminal_socket::upgrade)),
        (
            "/sessions/{id}/recording.cast",
            get(recording_file::download),
        ),
        (
            "/sessions/{id}/recording.keyframes.json",
            get(recording_file::keyframes),
        ),
        ("/admin/audit/{file}", get(audit_export::export)),
    ]
}

/// The paths of [`plain_routes`], as axum routes them.
pub fn plain_route_paths() -> Vec<&'static str> {
    plain_routes().into_iter().map(|(path, _)| path).collect()
}

/// Serves until the listener fails, or until Ctrl-C or SIGTERM: then every
/// live session is ended (stored with its reason, browsers told) before the
/// server stops. Expired web sessions are swept hourly.
pub async fn serve(
    listener: TcpListener,
    services: Services,
    leptos_options: LeptosOptions,
) -> std::io::Result<()> {
    survive_file_size_limit();
    let store = services.web_session_store();
    tokio::spawn(async move {
        use tower_sessions::session_store::ExpiredDeletion;
        let mut hourly = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            hourly.tick().await;
            if let Err(error) = store.delete_expired().await {
                tracing::warn!(%error, "sweeping expired web sessions failed");
            }
        }
    });
    let app = router(services.clone(), leptos_options);
    http_server::serve(listener, app, async move {
        stop_requested().await;
        tracing::info!("stopping: ending live sessions");
        // Ending the sessions closes their WebSockets, which would otherwise
        // hold the graceful shutdown open.
        services.end_all_sessions(SessionEnd::ServerStopped).await;
    })
    .await;
    Ok(())
}

/// A write past the file size limit (`ulimit -f`, systemd's `LimitFSIZE`)
/// raises SIGXFSZ, whose default action kills the process, and every
/// session with it. With a handler installed (tokio's, which keeps it for
/// the life of the process) the write fails instead, with EFBIG, and only
/// the session whose recording it was ends (R_507).
fn survive_file_size_limit() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Err(error) = signal(SignalKind::from_raw(nix::libc::SIGXFSZ)) {
            tracing::warn!(%error, "a write past the file size limit will stop Tandem");
        }
    }
}

async fn stop_requested() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {}
        () = terminate => {}
    }
}

/// Refuses a state-changing request that does not come from Tandem's own
/// pages: its `Origin`, or when a browser sends none its `Referer`, must
/// name this site. The SameSite cookie already keeps the session out of
/// cross-site requests; this makes the refusal explicit and independent of
/// browser defaults. The REST API under `/v2` is outside this layer: a token
/// header, which no other site can make a browser send, authenticates it.
async fn reject_cross_site_writes(request: Request, next: Next) -> Response {
    let reads_only = [Method::GET, Method::HEAD, Method::OPTIONS].contains(request.method());
    if !reads_only && !from_this_site(request.uri(), request.headers()) {
        return (StatusCode::FORBIDDEN, "cross-site request refused").into_response();
    }
    next.run(request).await
}

/// Whether the request's `Origin` (else its `Referer`) has this site's host
/// and port. A request with neither is refused: every current browser sends
/// `Origin` with a POST, so one without it comes from a browser that hides
/// where its requests come from (an old one, or one stripping `Referer`),
/// which cannot be told apart from a forged request, or from a script, which
/// can name Tandem in `Origin` itself. Refusing costs no honest client.
fn from_this_site(uri: &Uri, headers: &HeaderMap) -> bool {
    // HTTP/1.1 names the site in `Host`; HTTP/2 in the request's authority.
    let Some(this_site) = headers
        .get(header::HOST)
        .and_then(|host| host.to_str().ok())
        .or_else(|| uri.authority().map(|authority| authority.as_str()))
    else {
        return false;
    };
    let source = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER));
    // `Origin: null` (a sandboxed or privacy-sensitive context) and a
    // relative `Referer` have no authority, and are refused with the rest.
    source
        .and_then(|source| source.to_str().ok())
        .and_then(|source| source.parse::<Uri>().ok())
        .and_then(|source| source.authority().cloned())
        .is_some_and(|source| source.as_str().eq_ignore_ascii_case(this_site))
}
