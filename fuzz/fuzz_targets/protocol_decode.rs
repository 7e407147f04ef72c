//! Any WebSocket frame: decoded by both sides' decoders without a panic,
//! and a decoded message survives its own encoding.
#![no_main]

use libfuzzer_sys::fuzz_target;
use protocol::{ClientMsg, DecodeError, ServerMsg};

fuzz_target!(|frame: &[u8]| {
    match ClientMsg::decode(frame) {
        Ok(message) => assert_eq!(ClientMsg::decode(&message.encode()), Ok(message)),
        Err(DecodeError::Empty) => assert!(frame.is_empty()),
        Err(DecodeError::UnknownTag(tag)) => assert!(tag > 1 && frame[0] == tag),
        Err(DecodeError::TooBig(_) | DecodeError::Malformed(_)) => {}
    }
    if let Ok(message) = ServerMsg::decode(frame) {
        assert_eq!(ServerMsg::decode(&message.encode()), Ok(message));
    }
});
