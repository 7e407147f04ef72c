//! The browser side of a terminal: xterm.js over the terminal WebSocket.
//! Compiled for the browser only.

use std::time::Duration;

use domain::{MAX_COLS, MAX_ROWS};
use futures::channel::mpsc;
use futures::{SinkExt, StreamExt};
use gloo_net::websocket::Message;
use gloo_net::websocket::futures::WebSocket;
use leptos::prelude::*;
use leptos::task::spawn_local;
use protocol::{ClientMsg, MAX_FRAME_BYTES, PROTOCOL_VERSION, ServerEvent, ServerMsg};
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::wasm_bindgen;
use web_sys::HtmlElement;
use xterm_js_rs::addons::fit::FitAddon;
use xterm_js_rs::{BoolOptionKey, RendererType, Terminal, TerminalOptions};

use crate::session_page::{LiveView, TerminalStatus};

#[wasm_bindgen]
extern "C" {
    /// The same xterm.js `Terminal`, seen through its `write(Uint8Array)`.
    /// The crate's `write_utf8` hands over a view into WASM memory, which
    /// xterm reads later, after the memory was reused: this passes a copy.
    type ByteWriter;

    #[wasm_bindgen(method, js_name = "write")]
    fn write(this: &ByteWriter, data: &js_sys::Uint8Array);
}

/// Opens the terminal in `container` and connects it to session `id`. The
/// terminal lives as long as the page.
pub fn start(id: i64, container: HtmlElement, live: LiveView) {
    let options = TerminalOptions::new();
    // The DOM renderer keeps the text in the page (selectable, testable).
    options.set_renderer_type(RendererType::Dom);
    options.set_cursor_blink(true);
    options.set_scrollback(5000);
    options.set_font_family("ui-monospace, 'DejaVu Sans Mono', Menlo, monospace");
    options.set_font_size(14);
    let terminal = Terminal::new(&options);
    let fit = FitAddon::new();
    terminal.load_addon(
        AsRef::<wasm_bindgen::JsValue>::as_ref(&fit)
            .clone()
            .unchecked_into(),
    );
    terminal.open(container);
    fit_within_limits(&terminal, &fit);
    terminal.focus();

    let (outgoing, outgoing_queue) = mpsc::unbounded::<ClientMsg>();
    forward_keystrokes(&terminal, outgoing.clone());
    forward_resizes(&terminal, outgoing);
    follow_window_size(terminal.clone().unchecked_into(), fit);
    spawn_local(stay_connected(id, terminal, live, outgoing_queue));
}

/// Connections tried in a row before the page gives up.
const RECONNECT_ATTEMPTS: u32 = 8;

/// Keeps the terminal connected: when the socket drops while the session
/// is open for this viewer, a new one says how much output the terminal
/// already shows, and the server sends only what follows (or redraws the
/// screen when it no longer keeps that much).
async fn stay_connected(
    id: i64,
    terminal: Terminal,
    live: LiveView,
    mut outgoing: mpsc::UnboundedReceiver<ClientMsg>,
) {
    let mut shown = Shown::default();
    let mut failures = 0;
    let mut resume_from = None;
    loop {
        let connected = connect(id, &terminal, live, &mut outgoing, &mut shown, resume_from).await;
        if !live.status.get_untracked().is_open() {
            return;
        }
        failures = match connected {
            true => 1,
            false => failures + 1,
        };
        // A socket refused at once may mean the session ended meanwhile:
        // the page then says why instead of trying again.
        if !connected || failures > RECONNECT_ATTEMPTS {
            let message = "Connection lost. Reload the page to reconnect.".to_owned();
            if lost(
                id,
                &terminal,
                live.status,
                message,
                failures > RECONNECT_ATTEMPTS,
            )
            .await
            {
                return;
            }
        }
        terminal.set_bool_option(BoolOptionKey::DisableStdin, true);
        live.status.set(TerminalStatus::Reconnecting);
        pause(Duration::from_millis(250 * u64::from(failures))).await;
        resume_from = Some(shown.offset);
    }
}

/// How much of the session's output the terminal shows.
#[derive(Default)]
struct Shown {
    offset: u64,
    /// The next output is the screen sent after a Reset, not output.
    redrawing: bool,
}

/// One socket, until it closes. Returns whether it got as far as the
/// server's welcome.
async fn connect(
    id: i64,
    terminal: &Terminal,
    live: LiveView,
    outgoing: &mut mpsc::UnboundedReceiver<ClientMsg>,
    shown: &mut Shown,
    resume_from: Option<u64>,
) -> bool {
    let socket = match WebSocket::open(&socket_url(id)) {
        Ok(socket) => socket,
        Err(error) => {
            leptos::logging::warn!("could not connect: {error}");
            return false;
        }
    };
    let (mut sink, stream) = socket.split();
    let version = PROTOCOL_VERSION;
    for hello in [
        ClientMsg::Hello {
            version,
            resume_from,
        },
        size_of(terminal),
    ] {
        if sink.send(Message::Bytes(hello.encode())).await.is_err() {
            return false;
        }
    }
    let sending = send_all(sink, outgoing);
    let receiving = receive_all(stream, terminal, live, shown);
    futures::pin_mut!(sending, receiving);
    match futures::future::select(sending, receiving).await {
        futures::future::Either::Left(((), receiving)) => receiving.await,
        futures::future::Either::Right((welcomed, _)) => welcomed,
    }
}

/// Waits `duration` in the browser.
async fn pause(duration: Duration) {
    let (done, waited) = futures::channel::oneshot::channel::<()>();
    set_timeout(
        move || {
            let _ = done.send(());
        },
        duration,
    );
    let _ = waited.await;
}

fn socket_url(id: i64) -> String {
    let location = window().location();
    let scheme = match location.protocol().as_deref() {
        Ok("https:") => "wss",
        _ => "ws",
    };
    let host = location.host().unwrap_or_default();
    format!("{scheme}://{host}/sessions/{id}/terminal")
}

/// Fits the terminal to its box, but no larger than the server keeps (a
/// larger size would be reduced there, and the two screens would differ).
fn fit_within_limits(terminal: &Terminal, fit: &FitAddon) {
    fit.fit();
    let (cols, rows) = (terminal.get_cols(), terminal.get_rows());
    let (max_cols, max_rows) = (u32::from(MAX_COLS), u32::from(MAX_ROWS));
    if cols > max_cols || rows > max_rows {
        terminal.resize(cols.min(max_cols), rows.min(max_rows));
    }
}

fn size_of(terminal: &Terminal) -> ClientMsg {
    ClientMsg::Resize {
        cols: u16::try_from(terminal.get_cols()).unwrap_or(u16::MAX),
        rows: u16::try_from(terminal.get_rows()).unwrap_or(u16::MAX),
    }
}

fn forward_keystrokes(terminal: &Terminal, outgoing: mpsc::UnboundedSender<ClientMsg>) {
    let on_data = Closure::<dyn FnMut(String)>::new(move |data: String| {
        // A large paste goes in frames the server accepts.
        for chunk in data.as_bytes().chunks(MAX_FRAME_BYTES) {
            let _ = outgoing.unbounded_send(ClientMsg::Input(chunk.to_vec()));
        }
    });
    terminal.on_data(on_data.as_ref().unchecked_ref());
    on_data.forget();
}

fn forward_resizes(terminal: &Terminal, outgoing: mpsc::UnboundedSender<ClientMsg>) {
    let resized: Terminal = AsRef::<wasm_bindgen::JsValue>::as_ref(terminal)
        .clone()
        .unchecked_into();
    let on_resize = Closure::<dyn FnMut(wasm_bindgen::JsValue)>::new(move |_| {
        let _ = outgoing.unbounded_send(size_of(&resized));
    });
    terminal.on_resize(on_resize.as_ref().unchecked_ref());
    on_resize.forget();
}

fn follow_window_size(terminal: Terminal, fit: FitAddon) {
    let on_resize = Closure::<dyn FnMut()>::new(move || fit_within_limits(&terminal, &fit));
    let _ = window().add_event_listener_with_callback("resize", on_resize.as_ref().unchecked_ref());
    on_resize.forget();
}

async fn send_all(
    mut sink: futures::stream::SplitSink<WebSocket, Message>,
    queue: &mut mpsc::UnboundedReceiver<ClientMsg>,
) {
    while let Some(message) = queue.next().await {
        if sink.send(Message::Bytes(message.encode())).await.is_err() {
            break;
        }
    }
}

/// Shows what the server sends until the socket closes. Returns whether the
/// server welcomed this socket.
async fn receive_all(
    mut stream: futures::stream::SplitStream<WebSocket>,
    terminal: &Terminal,
    live: LiveView,
    shown: &mut Shown,
) -> bool {
    let mut viewer = None;
    while let Some(Ok(message)) = stream.next().await {
        let Message::Bytes(frame) = message else {
            continue;
        };
        match ServerMsg::decode(&frame) {
            Ok(ServerMsg::Output(bytes)) => {
                terminal
                    .unchecked_ref::<ByteWriter>()
                    .write(&js_sys::Uint8Array::from(bytes.as_slice()));
                match shown.redrawing {
                    true => shown.redrawing = false,
                    false => shown.offset += bytes.len() as u64,
                }
            }
            Ok(ServerMsg::Event(ServerEvent::Welcome { viewer: me, .. })) => viewer = Some(me),
            Ok(ServerMsg::Event(ServerEvent::Reset { offset, .. })) => {
                terminal.reset();
                (shown.offset, shown.redrawing) = (offset, true);
            }
            Ok(ServerMsg::Event(event)) => handle_event(terminal, live, viewer, event),
            Err(error) => leptos::logging::warn!("ignoring a frame: {error}"),
        }
    }
    viewer.is_some()
}

fn handle_event(terminal: &Terminal, live: LiveView, viewer: Option<i64>, event: ServerEvent) {
    match event {
        ServerEvent::Welcome { .. } => {}
        ServerEvent::Connecting => live.status.set(TerminalStatus::Connecting),
        ServerEvent::Connected => live.status.set(TerminalStatus::Live),
        // Handled where the output is counted.
        ServerEvent::Reset { .. } => {}
        ServerEvent::Resized { .. } => {}
        ServerEvent::Panel(panel) => {
            let has_control = viewer == Some(panel.controller);
            terminal.set_bool_option(BoolOptionKey::DisableStdin, !has_control);
            live.panel.set(Some(panel));
        }
        ServerEvent::ParticipantCount { count } => live.panel.update(|panel| {
            if let Some(panel) = panel {
                panel.participant_count = count;
            }
        }),
        ServerEvent::Notice { message } => live.notice.set(Some(message)),
        ServerEvent::Ended { message, .. } => {
            terminal.set_bool_option(BoolOptionKey::DisableStdin, true);
            live.status.set(TerminalStatus::Ended(message));
        }
        ServerEvent::Left {
            message,
            may_enter_again,
        } => {
            terminal.set_bool_option(BoolOptionKey::DisableStdin, true);
            live.status.set(TerminalStatus::Left {
                message,
                may_enter_again,
            });
        }
    }
}

/// The socket closed. After the session ended that is expected, and the
/// message saying why it ended stays. While the page still shows it open,
/// the session may have ended before this socket attached (the server then
/// refuses the socket, and a browser is not told why): the stored end
/// message is shown if there is one. Otherwise, with `give_up`, the page
/// says the connection is lost. Returns whether the page is done trying.
async fn lost(
    id: i64,
    terminal: &Terminal,
    status: RwSignal<TerminalStatus>,
    message: String,
    give_up: bool,
) -> bool {
    if !status.get_untracked().is_open() {
        return true;
    }
    let ended = match crate::session_page::session(id).await {
        Ok(record) => record.ended.map(|(_, message)| message),
        Err(_) => None,
    };
    let done = match ended {
        Some(message) => TerminalStatus::Ended(message),
        None if give_up => TerminalStatus::Lost(message),
        None => return false,
    };
    terminal.set_bool_option(BoolOptionKey::DisableStdin, true);
    if status.get_untracked().is_open() {
        status.set(done);
    }
    true
}
