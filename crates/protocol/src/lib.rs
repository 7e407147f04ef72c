//! The terminal WebSocket protocol between the session page and the server.
//!
//! Every message is one binary WebSocket frame: a tag byte, then the payload.
//! Terminal bytes (keystrokes, output) travel raw, so the hot path never
//! touches JSON; everything else is a small JSON document after its tag.
//! The client's first message is `Hello` with the protocol version, and,
//! from a browser that was already showing the session, how much of its
//! output it has: when the server still keeps what follows, it sends only
//! that, with no redraw.

use serde::{Deserialize, Serialize};

/// Bumped on any incompatible change; the server refuses other versions.
pub const PROTOCOL_VERSION: u32 = 7;

/// The most participants a panel lists by name; beyond them it counts.
pub const PANEL_LISTED: usize = 32;

/// The largest frame either side accepts. A paste bigger than this is split
/// by the client; anything bigger from a client closes its socket.
pub const MAX_FRAME_BYTES: usize = 64 * 1024;

const TAG_BYTES: u8 = 0;
const TAG_JSON: u8 = 1;

/// From the browser to the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientMsg {
    /// The first message on every socket. `resume_from` is the number of
    /// output bytes a reconnecting browser has already shown.
    Hello {
        version: u32,
        resume_from: Option<u64>,
    },
    /// Keystrokes or pasted text for the shell.
    Input(Vec<u8>),
    /// The terminal's size in character cells.
    Resize { cols: u16, rows: u16 },
}

/// From the server to the browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerMsg {
    /// Terminal output to write as it is.
    Output(Vec<u8>),
    /// Everything that is not terminal output.
    Event(ServerEvent),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerEvent {
    /// The answer to `Hello`, with the viewer's own user id (to find
    /// themselves in the panel).
    Welcome { version: u32, viewer: i64 },
    /// The SSH connection to the host is being opened.
    Connecting,
    /// The shell is ready; output follows.
    Connected,
    /// Clears the terminal: the next `Output` redraws the whole screen (on
    /// attaching, or after a viewer fell behind). That screen is the one
    /// after `offset` bytes of the session's output; every `Output` after it
    /// adds its length, which is what a browser resumes from.
    Reset { cols: u16, rows: u16, offset: u64 },
    /// The host's terminal size changed.
    Resized { cols: u16, rows: u16 },
    /// The session is over for everyone; the socket closes next.
    Ended { code: String, message: String },
    /// Who is in, who has control, who asks for it. Sent on attaching and
    /// after changes (at most a few a second); only the controller's input
    /// reaches the host.
    Panel(Panel),
    /// Only the number of participants changed: people beyond those the
    /// panel lists came or went.
    ParticipantCount { count: u32 },
    /// Something that happened to this viewer (a request answered or timed
    /// out, control taken back), to show them.
    Notice { message: String },
    /// This viewer is out of the session (they exited, or the share was
    /// cancelled) while it goes on; the socket closes next. `may_enter_again`
    /// says whether the invitation still lets them back in, so the page
    /// offers Enter again only then.
    Left {
        message: String,
        may_enter_again: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Panel {
    pub creator: i64,
    pub controller: i64,
    /// The creator first, then whoever has control or asks for it, then
    /// invited users in order of entry, at most `PANEL_LISTED` of them.
    pub participants: Vec<Participant>,
    /// Everyone in, listed or not.
    pub participant_count: u32,
    /// User ids with a pending request for control, oldest first.
    pub requests: Vec<i64>,
    /// Whether an invitation is open.
    pub shared: bool,
    /// Display names of the administrators watching right now (read-only,
    /// not participants), so that everyone in knows they are watched.
    pub monitors: Vec<String>,
    /// The end of the session's window, RFC 3339, UTC.
    pub ends_at: Option<String>,
    /// Whether the end is near enough to warn everyone.
    pub ending_soon: bool,
}

impl Panel {
    /// Whether `user` may answer requests for control: the controller and
    /// the creator (as the server's control rules decide; this only picks
    /// which buttons to show).
    pub fn may_answer(&self, user: i64) -> bool {
        user == self.controller || user == self.creator
    }

    pub fn name_of(&self, user: i64) -> &str {
        self.participants
            .iter()
            .find(|participant| participant.id == user)
            .map_or("someone", |participant| participant.name.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Participant {
    pub id: i64,
    pub name: String,
    /// Whether they have the session open right now.
    pub online: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ClientControl {
    Hello {
        version: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        resume_from: Option<u64>,
    },
    Resize {
        cols: u16,
        rows: u16,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("empty frame")]
    Empty,
    #[error("frame of {0} bytes exceeds the limit of {MAX_FRAME_BYTES}")]
    TooBig(usize),
    #[error("unknown frame tag {0}")]
    UnknownTag(u8),
    #[error("malformed message: {0}")]
    Malformed(String),
}

impl ClientMsg {
    pub fn encode(&self) -> Vec<u8> {
        match self {
            ClientMsg::Input(bytes) => tagged(TAG_BYTES, bytes),
            ClientMsg::Hello {
                version,
                resume_from,
            } => json(&ClientControl::Hello {
                version: *version,
                resume_from: *resume_from,
            }),
            ClientMsg::Resize { cols, rows } => json(&ClientControl::Resize {
                cols: *cols,
                rows: *rows,
            }),
        }
    }

    pub fn decode(frame: &[u8]) -> Result<Self, DecodeError> {
        match split(frame)? {
            (TAG_BYTES, payload) => Ok(ClientMsg::Input(payload.to_vec())),
            (TAG_JSON, payload) => match parse::<ClientControl>(payload)? {
                ClientControl::Hello {
                    version,
                    resume_from,
                } => Ok(ClientMsg::Hello {
                    version,
                    resume_from,
                }),
                ClientControl::Resize { cols, rows } => Ok(ClientMsg::Resize { cols, rows }),
            },
            (tag, _) => Err(DecodeError::UnknownTag(tag)),
        }
    }
}

impl ServerMsg {
    /// The frame of `ServerMsg::Output(bytes)`, without copying the bytes
    /// into a message first.
    pub fn output_frame(bytes: &[u8]) -> Vec<u8> {
        tagged(TAG_BYTES, bytes)
    }

    pub fn encode(&self) -> Vec<u8> {
        match self {
            ServerMsg::Output(bytes) => tagged(TAG_BYTES, bytes),
            ServerMsg::Event(event) => json(event),
        }
    }

    pub fn decode(frame: &[u8]) -> Result<Self, DecodeError> {
        match split(frame)? {
            (TAG_BYTES, payload) => Ok(ServerMsg::Output(payload.to_vec())),
            (TAG_JSON, payload) => Ok(ServerMsg::Event(parse(payload)?)),
            (tag, _) => Err(DecodeError::UnknownTag(tag)),
        }
    }
}

fn tagged(tag: u8, payload: &[u8]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(payload.len() + 1);
    frame.push(tag);
    frame.extend_from_slice(payload);
    frame
}

fn json(value: &impl Serialize) -> Vec<u8> {
    // Serialising these plain enums cannot fail.
    tagged(TAG_JSON, &serde_json::to_vec(value).unwrap_or_default())
}

fn split(frame: &[u8]) -> Result<(u8, &[u8]), DecodeError> {
    if frame.len() > MAX_FRAME_BYTES + 1 {
        return Err(DecodeError::TooBig(frame.len()));
    }
    frame
        .split_first()
        .map(|(tag, payload)| (*tag, payload))
        .ok_or(DecodeError::Empty)
}

fn parse<T: serde::de::DeserializeOwned>(payload: &[u8]) -> Result<T, DecodeError> {
    serde_json::from_slice(payload).map_err(|error| DecodeError::Malformed(error.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The README tells clients which `Hello` the terminal WebSocket takes.
    #[test]
    fn the_readme_states_the_protocol_version() {
        let readme = include_str!("../../../README.md");
        let words: Vec<&str> = readme.split_whitespace().collect();
        let stated = format!("`Hello` with protocol version {PROTOCOL_VERSION},");
        assert!(
            words.join(" ").contains(&stated),
            "README lacks \"{stated}\""
        );
    }

    #[test]
    fn client_messages_round_trip() {
        for message in [
            ClientMsg::Hello {
                version: PROTOCOL_VERSION,
                resume_from: None,
            },
            ClientMsg::Hello {
                version: PROTOCOL_VERSION,
                resume_from: Some(1 << 40),
            },
            ClientMsg::Input("ls -l ✓ 中文 🚀\r".as_bytes().to_vec()),
            ClientMsg::Input(vec![0x1b, 0xff, 0x00]),
            ClientMsg::Resize {
                cols: 120,
                rows: 40,
            },
        ] {
            assert_eq!(ClientMsg::decode(&message.encode()), Ok(message));
        }
    }

    #[test]
    fn server_messages_round_trip() {
        for message in [
            ServerMsg::Output(b"\x1b[31mred\x1b[0m".to_vec()),
            ServerMsg::Event(ServerEvent::Welcome {
                version: 1,
                viewer: 7,
            }),
            ServerMsg::Event(ServerEvent::Panel(Panel {
                creator: 7,
                controller: 8,
                participants: vec![Participant {
                    id: 8,
                    name: "Alice".to_owned(),
                    online: true,
                }],
                participant_count: 40,
                requests: vec![9],
                shared: true,
                monitors: vec!["Root".to_owned()],
                ends_at: Some("2026-12-02T10:00:00+00:00".to_owned()),
                ending_soon: true,
            })),
            ServerMsg::Event(ServerEvent::Left {
                message: "bye".to_owned(),
                may_enter_again: true,
            }),
            ServerMsg::Event(ServerEvent::Reset {
                cols: 80,
                rows: 24,
                offset: 1 << 40,
            }),
            ServerMsg::Event(ServerEvent::ParticipantCount { count: 41 }),
            ServerMsg::Event(ServerEvent::Ended {
                code: "T_514".to_owned(),
                message: "timeout".to_owned(),
            }),
        ] {
            assert_eq!(ServerMsg::decode(&message.encode()), Ok(message));
        }
    }

    #[test]
    fn terminal_bytes_cost_one_byte_of_framing() {
        assert_eq!(
            ClientMsg::Input(b"a".to_vec()).encode(),
            vec![TAG_BYTES, b'a']
        );
    }

    #[test]
    fn bad_frames_are_refused_with_a_reason() {
        assert_eq!(ClientMsg::decode(&[]), Err(DecodeError::Empty));
        assert_eq!(ClientMsg::decode(&[9, 1]), Err(DecodeError::UnknownTag(9)));
        assert!(matches!(
            ClientMsg::decode(&[TAG_JSON, b'{']),
            Err(DecodeError::Malformed(_))
        ));
        let negative = [&[TAG_JSON][..], br#"{"type":"resize","cols":-1,"rows":2}"#].concat();
        assert!(matches!(
            ClientMsg::decode(&negative),
            Err(DecodeError::Malformed(_))
        ));
        let huge = vec![TAG_BYTES; MAX_FRAME_BYTES + 2];
        assert_eq!(
            ClientMsg::decode(&huge),
            Err(DecodeError::TooBig(MAX_FRAME_BYTES + 2))
        );
    }
}
