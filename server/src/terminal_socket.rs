//! The terminal WebSocket: `/sessions/{id}/terminal`. Checks the sign-in,
//! the grant and the Origin before upgrading, then relays frames between the
//! browser and the live session.

use std::net::SocketAddr;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade, close_code};
use axum::extract::{ConnectInfo, Extension, Path};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::{OmSessionId, TerminalSize};
use futures::SinkExt;
use protocol::{ClientMsg, MAX_FRAME_BYTES, PROTOCOL_VERSION, ServerEvent, ServerMsg};
use services::{Actor, Attachment, ServiceError, Services};
use tower_sessions::Session;

/// What the socket reads from a browser at a time.
const READ_BUFFER_BYTES: usize = 4 * 1024;

pub async fn upgrade(
    Extension(services): Extension<Services>,
    Path(id): Path<i64>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    web_session: Session,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    if !same_origin(&headers) {
        return (StatusCode::FORBIDDEN, "cross-site WebSocket refused").into_response();
    }
    let actor = match services.signed_in_actor(&web_session).await {
        Ok(Some(actor)) => actor.with_address(client.ip()),
        Ok(None) => return (StatusCode::UNAUTHORIZED, "please sign in").into_response(),
        Err(error) => return refusal(error),
    };
    let attachment = match services.attach_terminal(&actor, OmSessionId(id)).await {
        Ok(attachment) => attachment,
        Err(error) => return refusal(error),
    };
    // The transport accepts more than the protocol allows, so an oversized
    // frame gets a close with a reason rather than a bare disconnect.
    // Dropping the attachment when the socket closes detaches it.
    upgrade
        .max_message_size(4 * MAX_FRAME_BYTES)
        // A browser sends keystrokes and sizes: small reads. The default
        // 128 KiB read buffer would be most of an idle viewer's memory.
        .read_buffer_size(READ_BUFFER_BYTES)
        .on_upgrade(move |socket| relay(socket, actor, attachment))
}

fn refusal(error: ServiceError) -> Response {
    match error {
        ServiceError::Forbidden => (StatusCode::FORBIDDEN, "not permitted").into_response(),
        ServiceError::NotFound(what) => {
            (StatusCode::NOT_FOUND, format!("no such {what}")).into_response()
        }
        ServiceError::Ended(end) => (StatusCode::GONE, end.message()).into_response(),
        other => {
            tracing::error!(error = ?other, "terminal socket refused");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// A browser's WebSocket must come from a page of this very host.
fn same_origin(headers: &HeaderMap) -> bool {
    let origin = headers
        .get(header::ORIGIN)
        .and_then(|value| value.to_str().ok());
    let host = headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok());
    match (origin, host) {
        (Some(origin), Some(host)) => origin
            .split_once("://")
            .is_some_and(|(_, rest)| rest == host),
        _ => false,
    }
}

/// Why a socket is closed by the server.
struct Close {
    code: u16,
    reason: String,
}

impl Close {
    fn new(code: u16, reason: impl Into<String>) -> Self {
        Self {
            code,
            reason: reason.into(),
        }
    }
}

async fn relay(mut socket: WebSocket, actor: Actor, attachment: Attachment) {
    if let Err(close) = relay_until_closed(&mut socket, &actor, attachment).await {
        let _ = socket
            .send(Message::Close(Some(CloseFrame {
                code: close.code,
                reason: close.reason.into(),
            })))
            .await;
    }
}

async fn relay_until_closed(
    socket: &mut WebSocket,
    actor: &Actor,
    mut attachment: Attachment,
) -> Result<(), Close> {
    let resume_from = expect_hello(socket).await?;
    attachment.begin(resume_from).await;
    let welcome = ServerEvent::Welcome {
        version: PROTOCOL_VERSION,
        viewer: actor.id.0,
    };
    send(socket, ServerMsg::Event(welcome).encode().into()).await?;
    loop {
        tokio::select! {
            frames = attachment.next() => {
                let Some(frames) = frames else {
                    return Err(Close::new(close_code::NORMAL, "the session is over for you"));
                };
                // Written together: a browser that fell behind gets what
                // it missed in as few writes as the socket allows.
                for frame in frames {
                    socket.feed(Message::Binary(frame.bytes)).await.map_err(lost)?;
                }
                socket.flush().await.map_err(lost)?;
            },
            message = socket.recv() => match message {
                Some(Ok(Message::Binary(frame))) => handle_client_frame(&attachment, &frame)?,
                Some(Ok(Message::Text(_))) => {
                    return Err(Close::new(close_code::UNSUPPORTED, "binary frames only"));
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                Some(Ok(Message::Close(_))) | None => return Ok(()),
                Some(Err(error)) => {
                    return Err(Close::new(close_code::SIZE, format!("unreadable frame: {error}")));
                }
            },
        }
    }
}

async fn send(socket: &mut WebSocket, frame: bytes::Bytes) -> Result<(), Close> {
    socket.send(Message::Binary(frame)).await.map_err(lost)
}

fn lost(_: axum::Error) -> Close {
    Close::new(close_code::AWAY, "connection lost")
}

/// Reads the client's Hello; returns how much output it already shows.
async fn expect_hello(socket: &mut WebSocket) -> Result<Option<u64>, Close> {
    match socket.recv().await {
        Some(Ok(Message::Binary(frame))) => match decode(&frame)? {
            ClientMsg::Hello {
                version,
                resume_from,
            } if version == PROTOCOL_VERSION => Ok(resume_from),
            ClientMsg::Hello { version, .. } => Err(Close::new(
                close_code::PROTOCOL,
                format!("protocol version {version} is not supported; reload the page"),
            )),
            _ => Err(Close::new(
                close_code::PROTOCOL,
                "the first message must be hello",
            )),
        },
        _ => Err(Close::new(
            close_code::PROTOCOL,
            "the first message must be hello",
        )),
    }
}

fn decode(frame: &[u8]) -> Result<ClientMsg, Close> {
    ClientMsg::decode(frame).map_err(|error| {
        let code = match error {
            protocol::DecodeError::TooBig(_) => close_code::SIZE,
            _ => close_code::INVALID,
        };
        Close::new(code, error.to_string())
    })
}

fn handle_client_frame(attachment: &Attachment, frame: &[u8]) -> Result<(), Close> {
    match decode(frame)? {
        ClientMsg::Input(bytes) => attachment.input(bytes),
        ClientMsg::Resize { cols, rows } => {
            let size = TerminalSize::from_client(cols, rows)
                .map_err(|error| Close::new(close_code::POLICY, error.to_string()))?;
            attachment.resize(size);
        }
        ClientMsg::Hello { .. } => {
            return Err(Close::new(
                close_code::PROTOCOL,
                "hello was already received",
            ));
        }
    }
    Ok(())
}
