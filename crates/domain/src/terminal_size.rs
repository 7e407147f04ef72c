//! The size of a session's terminal, bounded. A terminal emulator keeps
//! every cell of its screen, so a size from a browser or a recording file is
//! checked here before anything is allocated for it.

/// The widest terminal Tandem keeps: a 4K display with a small font.
pub const MAX_COLS: u16 = 500;
/// The tallest terminal Tandem keeps.
pub const MAX_ROWS: u16 = 200;
/// Past this, a size is not a window that was too large but nonsense (no
/// screen is 10,000 cells wide): the browser that sent it is refused.
pub const ABSURD_SIZE: u16 = 10_000;

/// Columns and rows, each from 1 to its maximum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TerminalSize {
    cols: u16,
    rows: u16,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "terminal size {cols}x{rows} is out of range: each side must be from 1 to {ABSURD_SIZE} \
     (larger than {MAX_COLS}x{MAX_ROWS} is reduced to it)"
)]
pub struct TerminalSizeError {
    pub cols: u16,
    pub rows: u16,
}

impl TerminalSize {
    /// The size a session starts with, before the browser says its own.
    pub const INITIAL: Self = Self { cols: 80, rows: 24 };

    /// A size sent by a browser: larger than the maximum is reduced to it (a
    /// big window gets the largest terminal), zero or absurd is refused.
    pub fn from_client(cols: u16, rows: u16) -> Result<Self, TerminalSizeError> {
        let valid = |side: u16| (1..=ABSURD_SIZE).contains(&side);
        match valid(cols) && valid(rows) {
            true => Ok(Self::clamped(cols, rows)),
            false => Err(TerminalSizeError { cols, rows }),
        }
    }

    /// Any size, brought within 1 and the maximum on each side: for sizes
    /// read from a stored recording, whose replay must not fail.
    pub fn clamped(cols: u16, rows: u16) -> Self {
        Self {
            cols: cols.clamp(1, MAX_COLS),
            rows: rows.clamp(1, MAX_ROWS),
        }
    }

    pub fn cols(self) -> u16 {
        self.cols
    }

    pub fn rows(self) -> u16 {
        self.rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_browser_size_within_the_maximum_is_kept() {
        let size = TerminalSize::from_client(MAX_COLS, MAX_ROWS).unwrap();
        assert_eq!((size.cols(), size.rows()), (500, 200));
        let size = TerminalSize::from_client(1, 1).unwrap();
        assert_eq!((size.cols(), size.rows()), (1, 1));
    }

    #[test]
    fn a_larger_browser_size_is_reduced_to_the_maximum() {
        let size = TerminalSize::from_client(MAX_COLS + 1, ABSURD_SIZE).unwrap();
        assert_eq!((size.cols(), size.rows()), (500, 200));
    }

    #[test]
    fn zero_or_absurd_sizes_are_refused() {
        for (cols, rows) in [
            (0, 24),
            (80, 0),
            (ABSURD_SIZE + 1, 24),
            (80, ABSURD_SIZE + 1),
            (u16::MAX, u16::MAX),
        ] {
            assert_eq!(
                TerminalSize::from_client(cols, rows),
                Err(TerminalSizeError { cols, rows })
            );
        }
        assert_eq!(
            TerminalSizeError {
                cols: 65535,
                rows: 65535
            }
            .to_string(),
            "terminal size 65535x65535 is out of range: each side must be from 1 to 10000 \
             (larger than 500x200 is reduced to it)"
        );
    }

    #[test]
    fn a_stored_size_is_always_brought_within_range() {
        let size = TerminalSize::clamped(0, u16::MAX);
        assert_eq!((size.cols(), size.rows()), (1, 200));
        let size = TerminalSize::clamped(u16::MAX, 0);
        assert_eq!((size.cols(), size.rows()), (500, 1));
        let size = TerminalSize::clamped(120, 40);
        assert_eq!((size.cols(), size.rows()), (120, 40));
    }
}
