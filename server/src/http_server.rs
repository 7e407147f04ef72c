//! The HTTP/1 server loop: what `axum::serve` does, plus a higher
//! header-count limit for hyper's parser. hyper answers a request with more
//! headers than it parses by a bare 431 that never reaches the router;
//! parsing more than Tandem accepts lets the router refuse them itself,
//! with the REST API's error body under `/v2` (see
//! `rest_api::refuse_excess_headers`).

use std::future::Future;
use std::net::SocketAddr;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::serve::{Listener, ListenerExt};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt;

use crate::rest_api::MAX_REQUEST_HEADERS;

/// Headers hyper parses per request: ten times what Tandem accepts, so
/// that an excess is refused by Tandem. Bounded, because hyper reserves
/// room for this many on every request.
const PARSED_HEADERS: usize = 10 * MAX_REQUEST_HEADERS;

/// Serves `app` on `listener` until `shutdown` completes, then lets open
/// connections finish their requests. Each request carries its client's
/// address as `ConnectInfo<SocketAddr>`.
pub async fn serve(listener: TcpListener, app: Router, shutdown: impl Future<Output = ()>) {
    // Keystrokes are tiny packets: without TCP_NODELAY each echo waits on
    // Nagle's algorithm.
    let mut listener = listener.tap_io(|stream| {
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "could not set TCP_NODELAY");
        }
    });
    // Stopping is announced on `stop`; each connection holds a `closed`
    // receiver until it is done, so `closed_tx.closed()` waits for all.
    let (stop, stopping) = watch::channel(());
    let (closed_tx, closed) = watch::channel(());
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        // `Listener::accept` retries failed accepts itself.
        let (stream, client) = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let app = app.clone();
        let service = tower::service_fn(move |mut request: hyper::Request<Incoming>| {
            request
                .extensions_mut()
                .insert(ConnectInfo::<SocketAddr>(client));
            app.clone().oneshot(request)
        });
        let mut stopping = stopping.clone();
        let closed = closed.clone();
        tokio::spawn(async move {
            let mut connection = std::pin::pin!(
                http1::Builder::new()
                    .max_headers(PARSED_HEADERS)
                    .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service))
                    .with_upgrades()
            );
            let mut stop_announced = false;
            loop {
                tokio::select! {
                    result = connection.as_mut() => {
                        if let Err(error) = result {
                            tracing::trace!(%error, "connection ended with an error");
                        }
                        break;
                    }
                    _ = stopping.changed(), if !stop_announced => {
                        stop_announced = true;
                        connection.as_mut().graceful_shutdown();
                    }
                }
            }
            drop(closed);
        });
    }
    drop(listener);
    drop(stopping);
    drop(closed);
    stop.send_replace(());
    closed_tx.closed().await;
}
