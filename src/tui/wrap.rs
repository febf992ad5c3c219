//! Word wrapping as byte ranges of the original text, so styled spans (search hits, changed
//! words) can be cut along the same rows; breaks fall at word boundaries, a word longer than a
//! row is split.

use std::ops::Range;

use unicode_width::UnicodeWidthChar as _;

/// The rows of `text` at `width` columns, as byte ranges (trailing spaces of a row dropped).
/// An empty text is one empty row.
pub fn rows(text: &str, width: usize) -> Vec<Range<usize>> {
    let width = width.max(1);
    let mut out = Vec::new();
    let mut start: Option<usize> = None; // first byte of the current row
    let mut end = 0; // end of the last word placed on the row
    let mut used = 0; // columns used on the row
    let mut i = 0;
    let bytes = text.len();
    while i < bytes {
        // The next word and the spaces before it.
        let space_start = i;
        while i < bytes {
            let c = text[i..].chars().next().unwrap_or(' ');
            if c != ' ' {
                break;
            }
            i += 1;
        }
        let spaces = i - space_start;
        let word_start = i;
        while i < bytes {
            let c = text[i..].chars().next().unwrap_or(' ');
            if c == ' ' {
                break;
            }
            i += c.len_utf8();
        }
        if word_start == i {
            break;
        }
        let word = &text[word_start..i];
        let w: usize = word.chars().map(|c| c.width().unwrap_or(0)).sum();
        let gap = if start.is_some() { spaces } else { 0 };
        if start.is_some() && used + gap + w <= width {
            used += gap + w;
            end = i;
            continue;
        }
        if let Some(s) = start.take() {
            out.push(s..end);
        }
        // The text's own indentation is kept on its first row: code is shown as written.
        let indent = if out.is_empty() && space_start == 0 {
            spaces
        } else {
            0
        };
        if indent + w <= width {
            start = Some(word_start - indent);
            end = i;
            used = indent + w;
            continue;
        }
        // A word wider than a row: split it at character boundaries.
        let mut row_start = word_start;
        let mut cols = 0;
        for (k, c) in word.char_indices() {
            let cw = c.width().unwrap_or(0);
            if cols + cw > width && cols > 0 {
                out.push(row_start..word_start + k);
                row_start = word_start + k;
                cols = 0;
            }
            cols += cw;
        }
        start = Some(row_start);
        end = i;
        used = cols;
    }
    if let Some(s) = start {
        out.push(s..end);
    }
    if out.is_empty() {
        out.push(0..0);
    }
    out
}

/// How many rows `text` takes at `width`.
pub fn count(text: &str, width: usize) -> usize {
    rows(text, width).len()
}

/// The rows as strings (for popups and plain text).
pub fn lines(text: &str, width: usize) -> Vec<String> {
    text.split('\n')
        .flat_map(|para| {
            rows(para, width)
                .into_iter()
                .map(|r| para[r].to_string())
                .collect::<Vec<_>>()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(text: &str, width: usize) -> Vec<&str> {
        rows(text, width).into_iter().map(|r| &text[r]).collect()
    }

    #[test]
    fn a_lines_indentation_is_kept() {
        assert_eq!(show("    import torch", 40), ["    import torch"]);
        assert_eq!(
            show("        self.n = 0 and some more words", 20),
            ["        self.n = 0", "and some more words"]
        );
    }

    #[test]
    fn breaks_fall_between_words() {
        assert_eq!(
            show("the quick brown fox jumps", 10),
            ["the quick", "brown fox", "jumps"]
        );
        assert_eq!(show("", 10), [""]);
        assert_eq!(show("abcdefghijkl", 5), ["abcde", "fghij", "kl"]);
        assert_eq!(show("a abcdefghijkl b", 5), ["a", "abcde", "fghij", "kl b"]);
        assert_eq!(show("ééé ééé", 3), ["ééé", "ééé"]);
        for text in ["x  y   z", "  lead", "trail  "] {
            for w in 1..8 {
                let rs = rows(text, w);
                assert!(rs.iter().all(|r| text[r.clone()].chars().count() <= w));
            }
        }
    }
}
