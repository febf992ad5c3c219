//! A runner's log as a bounded ring buffer, with search (highlighted matches, n/N) and a filter.

use std::collections::VecDeque;

use crate::runner::Level;

/// Lines kept per runner; older ones are dropped.
pub const CAPACITY: usize = 2_000;
/// Characters kept of one line; longer lines are cut with an ellipsis.
pub const MAX_LINE: usize = 400;

/// One log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// `HH:MM:SS`.
    pub time: String,
    /// Info, warning or error.
    pub level: Level,
    /// The text, cut to [`MAX_LINE`].
    pub text: String,
}

/// A runner's log.
#[derive(Debug, Clone, Default)]
pub struct LogBuf {
    lines: VecDeque<LogLine>,
}

impl LogBuf {
    /// Append a line, dropping the oldest when full.
    pub fn push(&mut self, time: &str, level: Level, text: &str) {
        if self.lines.len() == CAPACITY {
            self.lines.pop_front();
        }
        let text = match text.char_indices().nth(MAX_LINE) {
            Some((i, _)) => format!("{}…", &text[..i]),
            None => text.to_string(),
        };
        self.lines.push_back(LogLine {
            time: time.to_string(),
            level,
            text,
        });
    }

    /// Lines held.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// Whether it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Line `i` (0 = oldest held).
    pub fn get(&self, i: usize) -> Option<&LogLine> {
        self.lines.get(i)
    }

    /// Indices of lines containing `query` (case-insensitive).
    pub fn matches(&self, query: &str) -> Vec<usize> {
        if query.is_empty() {
            return Vec::new();
        }
        let q = query.to_lowercase();
        self.lines
            .iter()
            .enumerate()
            .filter(|(_, l)| l.text.to_lowercase().contains(&q))
            .map(|(i, _)| i)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_drops_oldest_and_cuts_long_lines() {
        let mut b = LogBuf::default();
        for i in 0..CAPACITY + 5 {
            b.push("00:00:00", Level::Info, &format!("line {i}"));
        }
        assert_eq!(b.len(), CAPACITY);
        assert_eq!(b.get(0).unwrap().text, "line 5");
        assert_eq!(
            b.matches("LINE 2004"),
            vec![CAPACITY - 1],
            "case-insensitive"
        );
        assert!(b.matches("line 4\u{0}").is_empty());
        assert!(b.matches("").is_empty());
        b.push("t", Level::Warn, &"x".repeat(MAX_LINE + 50));
        assert_eq!(
            b.get(CAPACITY - 1).unwrap().text.chars().count(),
            MAX_LINE + 1
        );
    }
}
