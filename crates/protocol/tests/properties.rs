//! Properties of the terminal WebSocket protocol over generated frames:
//! whatever a browser (or anyone who opens the socket) sends, decoding
//! answers a message or a typed error, and every message survives its own
//! encoding.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

use proptest::prelude::*;
use protocol::{
    ClientMsg, DecodeError, MAX_FRAME_BYTES, Panel, Participant, ServerEvent, ServerMsg,
};
use serde_json::Value;

const TAG_BYTES: u8 = 0;
const TAG_JSON: u8 = 1;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 512,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Any JSON document, nested a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 32, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            proptest::collection::btree_map(".{0,8}", inner, 0..6)
                .prop_map(|fields| Value::Object(fields.into_iter().collect())),
        ]
    })
}

/// An object that looks like a control message: a known or unknown
/// `type` and the fields of the real ones, with values of any kind.
fn message_like_json() -> impl Strategy<Value = Value> {
    let kind = prop_oneof![
        Just("hello"),
        Just("resize"),
        Just("welcome"),
        Just("reset"),
        Just("resized"),
        Just("panel"),
        Just("ended"),
        Just("notice"),
        Just("input"),
        Just("Hello"),
    ];
    let field = prop_oneof![
        Just("version"),
        Just("cols"),
        Just("rows"),
        Just("viewer"),
        Just("code"),
        Just("message"),
        Just("extra"),
    ];
    let number = prop_oneof![
        (0u64..=70_000).prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,6}".prop_map(Value::from),
    ];
    (kind, proptest::collection::btree_map(field, number, 0..4)).prop_map(|(kind, fields)| {
        let mut object: serde_json::Map<String, Value> = fields
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value))
            .collect();
        object.insert("type".to_owned(), Value::from(kind));
        Value::Object(object)
    })
}

fn client_msg() -> impl Strategy<Value = ClientMsg> {
    prop_oneof![
        (any::<u32>(), proptest::option::of(any::<u64>())).prop_map(|(version, resume_from)| {
            ClientMsg::Hello {
                version,
                resume_from,
            }
        }),
        proptest::collection::vec(any::<u8>(), 0..256).prop_map(ClientMsg::Input),
        (any::<u16>(), any::<u16>()).prop_map(|(cols, rows)| ClientMsg::Resize { cols, rows }),
    ]
}

fn panel() -> impl Strategy<Value = Panel> {
    let participant = (any::<i64>(), ".{0,16}", any::<bool>())
        .prop_map(|(id, name, online)| Participant { id, name, online });
    (
        (any::<i64>(), any::<i64>(), any::<u32>()),
        proptest::collection::vec(participant, 0..5),
        proptest::collection::vec(any::<i64>(), 0..5),
        any::<bool>(),
        proptest::collection::vec(".{0,16}", 0..3),
        proptest::option::of(".{0,32}"),
        any::<bool>(),
    )
        .prop_map(
            |(
                (creator, controller, count),
                participants,
                requests,
                shared,
                monitors,
                ends_at,
                soon,
            )| {
                Panel {
                    creator,
                    controller,
                    participants,
                    participant_count: count,
                    requests,
                    shared,
                    monitors,
                    ends_at,
                    ending_soon: soon,
                }
            },
        )
}

fn server_event() -> impl Strategy<Value = ServerEvent> {
    prop_oneof![
        (any::<u32>(), any::<i64>())
            .prop_map(|(version, viewer)| ServerEvent::Welcome { version, viewer }),
        Just(ServerEvent::Connecting),
        Just(ServerEvent::Connected),
        (any::<u16>(), any::<u16>(), any::<u64>())
            .prop_map(|(cols, rows, offset)| ServerEvent::Reset { cols, rows, offset }),
        (any::<u16>(), any::<u16>()).prop_map(|(cols, rows)| ServerEvent::Resized { cols, rows }),
        (".{0,8}", ".{0,64}").prop_map(|(code, message)| ServerEvent::Ended { code, message }),
        panel().prop_map(ServerEvent::Panel),
        any::<u32>().prop_map(|count| ServerEvent::ParticipantCount { count }),
        ".{0,64}".prop_map(|message| ServerEvent::Notice { message }),
        (".{0,64}", any::<bool>()).prop_map(|(message, may_enter_again)| ServerEvent::Left {
            message,
            may_enter_again
        }),
    ]
}

fn server_msg() -> impl Strategy<Value = ServerMsg> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..256).prop_map(ServerMsg::Output),
        server_event().prop_map(ServerMsg::Event),
    ]
}

fn json_frame(value: &Value) -> Vec<u8> {
    [vec![TAG_JSON], serde_json::to_vec(value).unwrap()].concat()
}

/// What any frame must decode to, judged by its first byte alone: raw
/// bytes after tag 0, a typed refusal for an empty or unknown frame. JSON
/// frames are judged by the round trip instead.
fn expected_by_tag<T>(frame: &[u8], raw: fn(Vec<u8>) -> T) -> Option<Result<T, DecodeError>> {
    match frame.split_first() {
        None => Some(Err(DecodeError::Empty)),
        Some((&TAG_BYTES, payload)) => Some(Ok(raw(payload.to_vec()))),
        Some((&TAG_JSON, _)) => None,
        Some((&tag, _)) => Some(Err(DecodeError::UnknownTag(tag))),
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_frames_decode_to_what_their_tag_says(
        frame in proptest::collection::vec(any::<u8>(), 0..300),
    ) {
        let client = ClientMsg::decode(&frame);
        match expected_by_tag(&frame, ClientMsg::Input) {
            Some(expected) => prop_assert_eq!(client, expected),
            None => match client {
                Ok(message) => prop_assert_eq!(ClientMsg::decode(&message.encode()), Ok(message)),
                Err(error) => prop_assert!(matches!(error, DecodeError::Malformed(_)), "{:?}", error),
            },
        }
        let server = ServerMsg::decode(&frame);
        match expected_by_tag(&frame, ServerMsg::Output) {
            Some(expected) => prop_assert_eq!(server, expected),
            None => match server {
                Ok(message) => prop_assert_eq!(ServerMsg::decode(&message.encode()), Ok(message)),
                Err(error) => prop_assert!(matches!(error, DecodeError::Malformed(_)), "{:?}", error),
            },
        }
    }

    #[test]
    fn arbitrary_json_is_a_message_that_round_trips_or_malformed(
        value in prop_oneof![json_value(), message_like_json()],
    ) {
        let frame = json_frame(&value);
        match ClientMsg::decode(&frame) {
            Ok(message) => {
                prop_assert!(!matches!(message, ClientMsg::Input(_)));
                prop_assert_eq!(ClientMsg::decode(&message.encode()), Ok(message));
            }
            Err(error) => prop_assert!(matches!(error, DecodeError::Malformed(_)), "{:?}", error),
        }
        match ServerMsg::decode(&frame) {
            Ok(message) => {
                prop_assert!(matches!(message, ServerMsg::Event(_)));
                prop_assert_eq!(ServerMsg::decode(&message.encode()), Ok(message));
            }
            Err(error) => prop_assert!(matches!(error, DecodeError::Malformed(_)), "{:?}", error),
        }
    }

    #[test]
    fn a_resize_is_accepted_exactly_when_both_sizes_fit_in_16_bits(
        cols in prop_oneof![0i64..=70_000, any::<i64>()],
        rows in prop_oneof![0i64..=70_000, any::<i64>()],
    ) {
        let frame = json_frame(&serde_json::json!({"type": "resize", "cols": cols, "rows": rows}));
        let fits = |n: i64| u16::try_from(n).ok();
        match (fits(cols), fits(rows)) {
            (Some(cols), Some(rows)) => {
                prop_assert_eq!(ClientMsg::decode(&frame), Ok(ClientMsg::Resize { cols, rows }));
            }
            _ => prop_assert!(matches!(ClientMsg::decode(&frame), Err(DecodeError::Malformed(_)))),
        }
    }

    #[test]
    fn every_client_message_round_trips(message in client_msg()) {
        let frame = message.encode();
        prop_assert!(frame.len() <= MAX_FRAME_BYTES + 1);
        prop_assert_eq!(ClientMsg::decode(&frame), Ok(message));
    }

    #[test]
    fn every_server_message_round_trips(message in server_msg()) {
        prop_assert_eq!(ServerMsg::decode(&message.encode()), Ok(message));
    }

    #[test]
    fn terminal_bytes_travel_with_one_byte_of_framing(
        bytes in proptest::collection::vec(any::<u8>(), 0..512),
    ) {
        let frame = ClientMsg::Input(bytes.clone()).encode();
        prop_assert_eq!(frame.len(), bytes.len() + 1);
        prop_assert_eq!(ServerMsg::Output(bytes.clone()).encode(), frame);
    }

    #[test]
    fn frames_over_the_limit_are_refused_by_their_length(
        extra in 1usize..4096,
        tag in any::<u8>(),
    ) {
        let mut frame = vec![b'x'; MAX_FRAME_BYTES + 1 + extra];
        frame[0] = tag;
        prop_assert_eq!(ClientMsg::decode(&frame), Err(DecodeError::TooBig(frame.len())));
        prop_assert_eq!(ServerMsg::decode(&frame), Err(DecodeError::TooBig(frame.len())));
    }
}

#[test]
fn the_largest_frame_is_accepted() {
    let frame = [vec![TAG_BYTES], vec![b'x'; MAX_FRAME_BYTES]].concat();
    assert_eq!(
        ClientMsg::decode(&frame),
        Ok(ClientMsg::Input(vec![b'x'; MAX_FRAME_BYTES]))
    );
}
