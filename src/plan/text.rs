//! Small text helpers for plan parsing and editing: line index, checkbox and parenthesis splitting.

/// Byte offsets of line starts, for offset -> line and line -> span lookups.
pub struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    /// Index the lines of `text`.
    pub fn new(text: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { text, starts }
    }

    /// 1-based line containing `offset`.
    pub fn line_of(&self, offset: usize) -> usize {
        self.starts.partition_point(|&s| s <= offset).max(1)
    }

    /// Byte offset where 1-based `line` starts.
    pub fn start_of_line(&self, line: usize) -> usize {
        self.starts
            .get(line.saturating_sub(1))
            .copied()
            .unwrap_or(self.text.len())
    }

    /// Byte offset just past the content of 1-based `line` (before `\n` or `\r\n`).
    pub fn end_of_content(&self, line: usize) -> usize {
        let start = self.start_of_line(line);
        let end = self.text[start..]
            .find('\n')
            .map_or(self.text.len(), |i| start + i);
        if end > start && self.text.as_bytes()[end - 1] == b'\r' {
            end - 1
        } else {
            end
        }
    }
}

/// Case-insensitive ASCII `strip_prefix`.
pub fn strip_prefix_ci<'t>(text: &'t str, prefix: &str) -> Option<&'t str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

/// `~500 lines` (or `500 lines`) -> 500.
pub fn line_budget(group: &str) -> Option<u32> {
    let g = group.trim();
    let g = g.strip_prefix('~').unwrap_or(g).trim_start();
    let digits = g.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    matches!(
        g[digits..].trim().to_ascii_lowercase().as_str(),
        "lines" | "line"
    )
    .then(|| g[..digits].parse().ok())
    .flatten()
}

/// `[✓] rest` -> (Some('✓'), "rest"); text without a checkbox -> (None, text).
pub fn strip_checkbox(text: &str) -> (Option<char>, &str) {
    let Some(inner) = text.strip_prefix('[') else {
        return (None, text);
    };
    let mut chars = inner.char_indices();
    let Some((_, mark)) = chars.next() else {
        return (None, text);
    };
    match chars.next() {
        Some((i, ']')) => {
            let rest = &inner[i + 1..];
            if rest.is_empty() || rest.starts_with(char::is_whitespace) {
                (Some(mark), rest.trim_start())
            } else {
                (None, text)
            }
        }
        _ => (None, text),
    }
}

/// `head (group)` -> ("head ", "group") when `text` ends with a balanced parenthesised group.
pub fn split_parenthesised(text: &str) -> Option<(&str, &str)> {
    let text = text.trim_end();
    let body = text.strip_suffix(')')?;
    let mut depth = 1usize;
    for (i, c) in body.char_indices().rev() {
        match c {
            ')' => depth += 1,
            '(' => {
                depth -= 1;
                if depth == 0 {
                    return Some((&text[..i], &body[i + 1..]));
                }
            }
            _ => {}
        }
    }
    None
}

/// `PART 12: rest` -> (12, "rest"), for any keyword.
pub fn numbered<'t>(text: &'t str, keyword: &str) -> Option<(u32, &'t str)> {
    let rest = strip_prefix_ci(text.trim_start(), keyword)?;
    if !rest.starts_with(char::is_whitespace) {
        return None;
    }
    let rest = rest.trim_start();
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let number = rest[..digits].parse().ok()?;
    let rest = rest[digits..].trim_start().strip_prefix(':')?;
    Some((number, rest.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_index_handles_crlf_and_last_line() {
        let t = "a\r\nbb\nccc";
        let idx = LineIndex::new(t);
        assert_eq!(idx.line_of(0), 1);
        assert_eq!(idx.line_of(3), 2);
        assert_eq!(idx.line_of(7), 3);
        assert_eq!(&t[idx.start_of_line(1)..idx.end_of_content(1)], "a");
        assert_eq!(&t[idx.start_of_line(2)..idx.end_of_content(2)], "bb");
        assert_eq!(&t[idx.start_of_line(3)..idx.end_of_content(3)], "ccc");
    }

    #[test]
    fn budgets() {
        assert_eq!(line_budget("~100 lines"), Some(100));
        assert_eq!(line_budget("80 Lines"), Some(80));
        assert_eq!(line_budget("FILE EXISTS - 22.6 KB"), None);
        assert_eq!(line_budget("~99999999999 lines"), None);
    }

    #[test]
    fn checkbox_marks() {
        assert_eq!(strip_checkbox("[✓] PART 1"), (Some('✓'), "PART 1"));
        assert_eq!(strip_checkbox("[ ] x"), (Some(' '), "x"));
        assert_eq!(strip_checkbox("[link](x)"), (None, "[link](x)"));
        assert_eq!(strip_checkbox("["), (None, "["));
    }

    #[test]
    fn parenthesised_groups() {
        assert_eq!(split_parenthesised("a (b (c)) "), Some(("a ", "b (c)")));
        assert_eq!(split_parenthesised("a b)"), None);
        assert_eq!(split_parenthesised("no group"), None);
    }
}
