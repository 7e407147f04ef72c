//! One browser on a live session: what it is sent, in order, and what it
//! sends. Dropping the attachment detaches the browser.

use std::sync::Arc;

use bytes::Bytes;
use domain::{TerminalSize, UserId};
use protocol::ServerEvent;
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::sync::watch;

use super::driver::{Command, ConnectionId};
use super::stream::{Dropped, Entry};
use super::{Frame, LiveSession, PanelFrame, Phase, View};

/// Stream entries sent to a browser at a time.
const BATCH: usize = 64;

pub struct Attachment {
    session: Arc<LiveSession>,
    connection: ConnectionId,
    user: UserId,
    /// Whether this browser watches as a monitor rather than a participant.
    pub monitoring: bool,
    /// Frames ready to send. Kept here rather than in a local, so that a
    /// call to `next` that is cancelled (the socket had something first)
    /// loses nothing.
    outbox: Vec<Frame>,
    /// Whether the first frames were made (`begin`).
    begun: bool,
    /// The next stream entry this browser needs.
    next: u64,
    stream_end: watch::Receiver<u64>,
    notices: broadcast::Receiver<Frame>,
    /// Read when a notice was lost; browsers wait on the phase instead,
    /// which changes seldom.
    view: watch::Receiver<View>,
    phase_changes: watch::Receiver<Phase>,
    panel: watch::Receiver<PanelFrame>,
    /// The phase this browser was last sent, and the listing and count of
    /// the last panel.
    phase: Phase,
    listing: u64,
    count: u32,
    /// Nothing more is sent after the last frame.
    over: bool,
}

impl Attachment {
    pub(super) fn new(
        session: Arc<LiveSession>,
        connection: ConnectionId,
        user: UserId,
        monitoring: bool,
        notices: broadcast::Receiver<Frame>,
    ) -> Self {
        Self {
            connection,
            user,
            monitoring,
            outbox: Vec::new(),
            begun: false,
            next: 0,
            stream_end: session.stream.subscribe(),
            notices,
            view: session.view.clone(),
            phase_changes: session.phase.clone(),
            panel: session.panel.clone(),
            phase: Phase::Connecting,
            listing: 0,
            count: 0,
            over: false,
            session,
        }
    }

    /// The first frames: the session as it stands, and the panel. A
    /// browser that already shows the output before `resume_from` gets what
    /// follows it when the stream still holds that, else a redraw.
    pub async fn begin(&mut self, resume_from: Option<u64>) {
        if self.begun {
            return;
        }
        self.begun = true;
        let current = self.phase_changes.borrow_and_update().clone();
        let panel = self.panel.borrow_and_update().clone();
        (self.phase, self.listing, self.count) = (current.clone(), panel.listing, panel.count);
        let resumed = resume_from.and_then(|offset| self.session.stream.seq_at_offset(offset).ok());
        match &current {
            Phase::Connecting => {
                self.next = resumed.unwrap_or(0);
                self.push(Frame::event(ServerEvent::Connecting));
            }
            // A session that ended meanwhile still shows its last screen;
            // its end follows from `ready`.
            Phase::Connected | Phase::Ended(_) => {
                if current == Phase::Connected {
                    self.push(Frame::event(ServerEvent::Connected));
                }
                match resumed {
                    Some(seq) => self.next = seq,
                    None => self.redraw().await,
                }
            }
        }
        if !matches!(current, Phase::Ended(_)) {
            self.push(Frame::raw(panel.frame));
        }
    }

    fn push(&mut self, frame: Frame) {
        self.over |= frame.closes;
        self.outbox.push(frame);
    }

    /// The current screen, and the place in the stream after it.
    async fn redraw(&mut self) {
        let Some(snapshot) = self.session.screen.snapshot().await else {
            // The session is ending; its end follows.
            return;
        };
        self.next = snapshot.seq;
        self.push(Frame::event(ServerEvent::Reset {
            cols: snapshot.size.cols(),
            rows: snapshot.size.rows(),
            offset: snapshot.offset,
        }));
        let contents = protocol::ServerMsg::output_frame(&snapshot.contents);
        self.push(Frame::raw(Bytes::from(contents)));
    }

    /// The next frames to send this browser, in order; None once its last
    /// frame was sent, when the socket closes.
    pub async fn next(&mut self) -> Option<Vec<Frame>> {
        self.begin(None).await;
        loop {
            if !self.outbox.is_empty() {
                return Some(std::mem::take(&mut self.outbox));
            }
            if self.over {
                return None;
            }
            self.ready().await;
            if !self.outbox.is_empty() {
                continue;
            }
            tokio::select! {
                changed = self.phase_changes.changed() => if changed.is_err() {
                    return None;
                },
                changed = self.panel.changed() => if changed.is_err() {
                    return None;
                },
                changed = self.stream_end.changed() => if changed.is_err() {
                    return None;
                },
                notice = self.notices.recv() => match notice {
                    Ok(frame) if frame.is_for(self.user) => self.push(frame),
                    Ok(_) => {}
                    // Notices were lost: what matters of them is whether
                    // the user is still in, which the view tells.
                    Err(RecvError::Lagged(_)) => self.check_still_in(),
                    Err(RecvError::Closed) => return None,
                },
            }
        }
    }

    /// Whatever is ready without waiting: a new phase, the stream's new
    /// entries, a new panel.
    async fn ready(&mut self) {
        let phase = self.phase_changes.borrow_and_update().clone();
        if phase != self.phase {
            self.phase = phase.clone();
            if let Phase::Connected = phase {
                self.push(Frame::event(ServerEvent::Connected));
            }
        }
        self.stream_end.borrow_and_update();
        if let Phase::Ended(end) = &phase {
            // Everything the shell printed is in the stream before its end.
            while self.entries().await {}
            self.push(ended(end));
            return;
        }
        self.entries().await;
        let panel = self.panel.borrow_and_update().clone();
        if panel.listing != self.listing {
            self.push(Frame::raw(panel.frame));
        } else if panel.count != self.count {
            let count = panel.count;
            self.push(Frame::event(ServerEvent::ParticipantCount { count }));
        }
        (self.listing, self.count) = (panel.listing, panel.count);
    }

    /// Takes the next entries of the stream; after a gap (this browser fell
    /// behind by more than the stream keeps), the screen redrawn instead.
    /// Returns whether there were any.
    async fn entries(&mut self) -> bool {
        match self.session.stream.read(self.next, BATCH) {
            Ok(entries) => {
                let Some(last) = entries.last() else {
                    return false;
                };
                self.next = last.seq + 1;
                let frames = entries
                    .into_iter()
                    .map(|entry: Entry| Frame::raw(entry.frame));
                self.outbox.extend(frames);
                true
            }
            Err(Dropped) => {
                let before = self.outbox.len();
                self.redraw().await;
                self.outbox.len() > before
            }
        }
    }

    /// Tells this browser it is out when its user is neither in the
    /// session nor watching it.
    fn check_still_in(&mut self) {
        let view = self.view.borrow();
        if view.is_in(self.user) || (self.monitoring && view.is_monitor(self.user)) {
            return;
        }
        let may_enter_again = view.shared;
        drop(view);
        self.push(Frame::to(
            self.user,
            ServerEvent::Left {
                message: "You are no longer in this session.".to_owned(),
                may_enter_again,
            },
        ));
    }

    /// Keystrokes from this browser; only the controller's reach the host.
    pub fn input(&self, bytes: Vec<u8>) {
        let connection = self.connection;
        self.session.send(Command::Input { connection, bytes });
    }

    /// This browser's terminal size; only the controller's reaches the
    /// host.
    pub fn resize(&self, size: TerminalSize) {
        self.session.send(Command::Resize {
            connection: self.connection,
            cols: size.cols(),
            rows: size.rows(),
        });
    }
}

impl Drop for Attachment {
    fn drop(&mut self) {
        let connection = self.connection;
        self.session.send(Command::Detach { connection });
    }
}

fn ended(end: &domain::SessionEnd) -> Frame {
    Frame::event(ServerEvent::Ended {
        code: end.code().to_owned(),
        message: end.message().to_owned(),
    })
}
