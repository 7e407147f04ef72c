//! Output the screen never shows. Bulk output (`cat` of a log, a build) is
//! mostly lines that scroll off before anyone could see them: when a chunk
//! holds, after some point, enough plain lines to scroll every line on the
//! screen away, the screen after the chunk does not depend on what came
//! before that point, only on the pen (colours) it left. The emulator then
//! skips it, and takes only its colour changes.
//!
//! Exact under these conditions, which `Screen` checks before asking:
//! - the emulator is between escape sequences when the chunk starts;
//! - no character is cut before the chunk (nothing pending in the decoder);
//! - the scrolling region is the whole screen.
//!
//! The skipped part holds only text, CR, LF, tab, backspace, bell, colour
//! changes (SGR) and erasures within a line (EL): nothing that changes a
//! mode, a margin, a tab stop or a character set. What follows it starts
//! with CR LF, so the column is 0 from there on whatever came before, and
//! holds at least twice as many plain line feeds as the screen has rows:
//! the first `rows` bring the cursor to the bottom from any row, the rest
//! scroll every earlier line off. The lines left are written by what
//! follows alone, on lines the scrolling made blank with the same pen.

const ESC: u8 = 0x1b;

/// What a look at a chunk found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Scan {
    /// What a screen may skip, if anything.
    pub skip: Option<Skip>,
    /// Whether the chunk changes nothing but cells, the cursor and the pen
    /// (it cannot have moved a margin), if it started between sequences.
    pub plain: bool,
}

/// The part of a chunk to skip.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Skip {
    /// Where the emulator resumes: the CR of a CR LF.
    pub resume_at: usize,
    /// The colour changes in the skipped part, in order, to be fed.
    pub pen: String,
}

/// Looks at `chunk` for a screen of `rows` rows.
pub(crate) fn scan(chunk: &[u8], rows: u16) -> Scan {
    let plain = PlainPrefix::of(chunk);
    Scan {
        skip: skippable(chunk, &plain, rows),
        plain: plain.len == chunk.len(),
    }
}

fn skippable(chunk: &[u8], plain: &PlainPrefix, rows: u16) -> Option<Skip> {
    let needed = 2 * usize::from(rows);
    // The first line feed of the last `needed`, or an earlier one that
    // follows a CR: the more line feeds after the cut, the better.
    let last = plain.line_feeds.len().checked_sub(needed)?;
    let line_feed = plain.line_feeds[..=last]
        .iter()
        .rev()
        .find(|&&at| at > 0 && chunk[at - 1] == b'\r')?;
    let resume_at = line_feed - 1;
    if resume_at == 0 {
        return None;
    }
    let pen = plain
        .colours
        .iter()
        .filter(|range| range.end <= resume_at)
        .flat_map(|range| &chunk[range.clone()])
        .map(|&byte| char::from(byte))
        .collect();
    Some(Skip { resume_at, pen })
}

/// Whether a dump of the emulator sets a scrolling region (`CSI t;b r`):
/// it does only when the region is not the whole screen.
pub(crate) fn sets_margins(dump: &str) -> bool {
    dump.split("\x1b[").skip(1).any(|sequence| {
        let params = sequence
            .bytes()
            .take_while(|byte| byte.is_ascii_digit() || *byte == b';')
            .count();
        params > 0 && sequence.as_bytes().get(params) == Some(&b'r')
    })
}

/// The longest start of a chunk that holds only plain text, CR, LF, tab,
/// backspace, bell, SGR and EL.
struct PlainPrefix {
    len: usize,
    line_feeds: Vec<usize>,
    colours: Vec<std::ops::Range<usize>>,
}

impl PlainPrefix {
    fn of(chunk: &[u8]) -> Self {
        let mut prefix = Self {
            len: 0,
            line_feeds: Vec::new(),
            colours: Vec::new(),
        };
        let mut at = 0;
        while at < chunk.len() {
            let step = match chunk[at] {
                b'\n' => {
                    prefix.line_feeds.push(at);
                    1
                }
                b'\r' | b'\t' | 0x08 | 0x07 | 0x20..=0x7f => 1,
                ESC => match line_sequence(&chunk[at..]) {
                    Some((len, colour)) => {
                        if colour {
                            prefix.colours.push(at..at + len);
                        }
                        len
                    }
                    None => break,
                },
                // A C1 control, which the emulator obeys like ESC.
                0xc2 if chunk
                    .get(at + 1)
                    .is_some_and(|next| (0x80..=0x9f).contains(next)) =>
                {
                    break;
                }
                0x80..=0xff => 1,
                _ => break,
            };
            at += step;
        }
        prefix.len = at;
        prefix
    }
}

/// The length of an SGR (`true`) or EL (`false`) sequence at the start of
/// `bytes`: CSI, then digits and separators only, then `m` or `K`.
fn line_sequence(bytes: &[u8]) -> Option<(usize, bool)> {
    if bytes.get(1) != Some(&b'[') {
        return None;
    }
    let params = bytes[2..]
        .iter()
        .take_while(|byte| matches!(byte, b'0'..=b'9' | b';' | b':'))
        .count();
    match bytes.get(2 + params) {
        Some(b'm') => Some((3 + params, true)),
        Some(b'K') => Some((3 + params, false)),
        _ => None,
    }
}

/// Whether the emulator is between escape sequences after `chunk`, given
/// whether it was before. Conservative: `false` when unsure. An ESC always
/// starts a new sequence, so only what follows the last one matters.
pub(crate) fn ends_between_sequences(chunk: &[u8], before: bool) -> bool {
    let has_c1 = chunk
        .windows(2)
        .any(|pair| pair[0] == 0xc2 && (0x80..=0x9f).contains(&pair[1]));
    if has_c1 {
        return false;
    }
    let Some(last) = chunk.iter().rposition(|&byte| byte == ESC) else {
        return before;
    };
    let tail = &chunk[last + 1..];
    // CAN and SUB cancel a sequence, which this does not follow.
    let cancelled = |bytes: &[u8]| bytes.iter().any(|&byte| byte == 0x18 || byte == 0x1a);
    match tail.first() {
        None => false,
        Some(b'[') => {
            let rest = &tail[1..];
            let body = rest
                .iter()
                .take_while(|byte| (0x20..=0x3f).contains(*byte))
                .count();
            rest.get(body)
                .is_some_and(|end| (0x40..=0x7e).contains(end))
                && !cancelled(&rest[..body])
        }
        // An OSC ends at BEL (or at ST, whose ESC would be the last).
        Some(b']') => tail.contains(&0x07),
        // Strings that end only at ST.
        Some(b'P' | b'X' | b'^' | b'_') => false,
        Some(0x20..=0x2f) => {
            let intermediates = tail.iter().take_while(|byte| (0x20..=0x2f).contains(*byte));
            tail.get(intermediates.count())
                .is_some_and(|end| (0x30..=0x7e).contains(end))
        }
        Some(0x30..=0x7e) => true,
        Some(_) => false,
    }
}

#[cfg(test)]
mod tests;
