use avt::Terminal;
use domain::{TerminalSize, Utf8Stream};
use proptest::prelude::*;

use super::*;
use crate::terminal::screen::Screen;

#[test]
fn a_chunk_of_lines_is_skipped_up_to_the_last_lines_that_can_show() {
    // Three rows: the last six line feeds, from the CR before the first.
    let chunk = b"one\r\n\x1b[31mtwo\r\nthree\x1b[K\r\n4\r\n5\r\n6\r\n7\r\n8\r\n9";
    let Scan { skip, plain } = scan(chunk, 3);
    assert!(plain);
    let skip = skip.unwrap();
    assert_eq!(&chunk[skip.resume_at..], b"\r\n4\r\n5\r\n6\r\n7\r\n8\r\n9");
    // The colour chosen before stays; the erasure went with its line.
    assert_eq!(skip.pen, "\x1b[31m");
}

#[test]
fn nothing_is_skipped_without_enough_lines_or_past_a_sequence_that_moves_things() {
    assert_eq!(scan(b"a\r\nb\r\nc\r\nd\r\ne\r\n", 3).skip, None);
    // A cursor move ends the plain part: what follows it is not plain.
    let moved = b"a\r\n\x1b[2Ab\r\nc\r\nd\r\ne\r\nf\r\ng\r\nh\r\n";
    assert_eq!(
        scan(moved, 3),
        Scan {
            skip: None,
            plain: false
        }
    );
    // A private mode with an `m` is not a colour.
    assert!(!scan(b"\x1b[>4;2m", 3).plain);
    // Nor is a C1 control, which the emulator obeys like ESC.
    assert!(!scan("x\u{9b}2J".as_bytes(), 3).plain);
}

#[test]
fn a_dump_sets_margins_only_for_a_region_smaller_than_the_screen() {
    let mut terminal = Terminal::new(10, 5).unwrap();
    terminal.feed("hello r\x1b[31m;r");
    assert!(!sets_margins(&terminal.dump()));
    terminal.feed("\x1b[2;4r");
    assert!(sets_margins(&terminal.dump()));
    terminal.feed("\x1b[r");
    assert!(!sets_margins(&terminal.dump()));
}

#[test]
fn the_end_of_a_chunk_is_between_sequences_only_when_its_last_one_is_complete() {
    assert!(ends_between_sequences(b"plain", true));
    assert!(!ends_between_sequences(b"plain", false));
    assert!(ends_between_sequences(b"\x1b[1;31mred", false));
    assert!(!ends_between_sequences(b"x\x1b[1;3", true));
    assert!(ends_between_sequences(b"\x1b]0;title\x07", false));
    assert!(!ends_between_sequences(b"\x1b]0;tit", true));
    assert!(!ends_between_sequences(b"\x1bP1$r", true));
    assert!(ends_between_sequences(b"\x1b(B", false));
    assert!(ends_between_sequences(b"\x1b7", false));
    assert!(!ends_between_sequences(b"x\x1b", true));
    assert!(!ends_between_sequences("\u{9d}0;".as_bytes(), true));
}

/// The emulator fed with everything, as the screen would be without
/// skipping.
struct Reference {
    terminal: Terminal,
    text: Utf8Stream,
}

impl Reference {
    fn new(cols: u16, rows: u16) -> Self {
        Self {
            terminal: Terminal::new(usize::from(cols), usize::from(rows)).unwrap(),
            text: Utf8Stream::default(),
        }
    }

    fn output(&mut self, bytes: &[u8]) {
        let text = self.text.push(bytes);
        self.terminal.feed(text.as_ref());
    }
}

/// Pieces of output: mostly lines, with colours, and now and then
/// something that moves the cursor, sets a margin or a mode, switches
/// screens or starts a title.
fn piece() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        8 => Just("\r\n"),
        6 => prop::sample::select(vec!["word ", "a", "longer line of text ", "é", "漢字", "\t", "\x08"]),
        3 => prop::sample::select(vec!["\x1b[31m", "\x1b[0m", "\x1b[1;4m", "\x1b[38;5;200m", "\x1b[K", "\x1b[44m"]),
        1 => Just("\n"),
        1 => Just("\r"),
        1 => prop::sample::select(vec![
            "\x1b[2A", "\x1b[3;2H", "\x1b[2;3r", "\x1b[r", "\x1b[?1049h", "\x1b[?1049l",
            "\x1b[4h", "\x1b[4l", "\x1b[?7l", "\x1b[?7h", "\x1bM", "\x1b]0;title\x07",
            "\x1b[?6h", "\x1b[?6l", "\x0e", "\x0f", "\x1b7", "\x1b8", "\x1bc", "\u{9b}1;2r",
        ]),
    ]
}

/// Output cut into chunks at arbitrary bytes, sequences and characters
/// included.
fn chunks() -> impl Strategy<Value = Vec<Vec<u8>>> {
    (
        prop::collection::vec(piece(), 0..300),
        prop::collection::vec(0usize..400, 0..12),
    )
        .prop_map(|(pieces, mut cuts)| {
            let output = pieces.concat().into_bytes();
            cuts.push(output.len());
            cuts.sort_unstable();
            let mut chunks = Vec::new();
            let mut start = 0;
            for cut in cuts {
                let cut = cut.min(output.len());
                if cut > start {
                    chunks.push(output[start..cut].to_vec());
                    start = cut;
                }
            }
            chunks
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn skipping_never_changes_the_screen(
        cols in 2u16..12,
        rows in 1u16..6,
        chunks in chunks(),
    ) {
        let size = TerminalSize::from_client(cols, rows).unwrap();
        let mut screen = Screen::new(size);
        let mut reference = Reference::new(cols, rows);
        for chunk in &chunks {
            screen.output(chunk);
            reference.output(chunk);
            prop_assert_eq!(screen.snapshot(), [reference.terminal.dump().as_bytes(), reference.text.pending()].concat());
        }
    }
}

#[test]
fn a_bulk_of_lines_after_full_screen_use_shows_what_feeding_all_of_it_shows() {
    let size = TerminalSize::from_client(20, 4).unwrap();
    let mut screen = Screen::new(size);
    let mut reference = Reference::new(20, 4);
    let setup = b"\x1b[?1049h\x1b[2;3Hjunk\x1b[?1049l\x1b[3;1Hold\x1b[1;1H\x1b[32m";
    let bulk: Vec<u8> = (0..50)
        .flat_map(|n| format!("line {n}\r\n").into_bytes())
        .collect();
    for chunk in [&setup[..], &bulk] {
        screen.output(chunk);
        reference.output(chunk);
    }
    assert!(scan(&bulk, 4).skip.is_some());
    assert_eq!(screen.snapshot(), reference.terminal.dump().into_bytes());
    assert_eq!(screen.text()[2].trim_end(), "line 49");
}
