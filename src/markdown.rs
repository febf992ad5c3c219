//! The one Markdown scanner: a document's top-level blocks, headings and code, read by
//! pulldown-cmark with their byte offsets, so that every part of expanse agrees on what a heading,
//! a code fence (``` or ~~~, or indented), a list item or a table row is. A `## ` inside a code
//! block is code to every caller.

use std::ops::Range;

use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};

/// What a top-level block is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A heading of this level (1–6), ATX or setext.
    Heading(u8),
    /// Running text.
    Paragraph,
    /// A bullet or numbered list.
    List,
    /// A table (GitHub style).
    Table,
    /// Code: fenced (```` ``` ````, `~~~`) or indented.
    Code,
    /// A blockquote.
    Quote,
    /// Raw HTML.
    Html,
    /// A thematic break (`---`).
    Rule,
    /// Anything else (footnote definitions, metadata).
    Other,
}

/// One top-level block, as whole lines of the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block<'a> {
    /// What it is.
    pub kind: Kind,
    /// Its lines, from the start of its first to the end of its last (no final newline).
    pub text: &'a str,
    /// Where `text` lies in the document.
    pub range: Range<usize>,
    /// Its first line, 1-based.
    pub line: usize,
    /// Its last line, 1-based.
    pub last_line: usize,
    /// A list's items (nested ones too, each without its sublists) or a table's body rows, in
    /// order; empty for other blocks.
    pub items: Vec<Item<'a>>,
}

/// A list item or a table row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item<'a> {
    /// 1-based line where it starts.
    pub line: usize,
    /// Its source text (a list item's marker stripped; a row's cells joined by ` · `).
    pub text: String,
    /// Its source slice, marker included.
    pub raw: &'a str,
}

/// A heading and the section it opens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heading<'a> {
    /// 1 for `#`, 2 for `##`, …
    pub level: u8,
    /// The heading's text: its markers and surrounding spaces removed.
    pub title: &'a str,
    /// 1-based line.
    pub line: usize,
    /// The heading's lines, trailing newline included.
    pub range: Range<usize>,
}

/// Byte offsets of line starts, to turn offsets into line numbers.
struct Lines {
    starts: Vec<usize>,
    len: usize,
}

impl Lines {
    fn new(text: &str) -> Lines {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Lines {
            starts,
            len: text.len(),
        }
    }

    /// 0-based line holding byte `at`.
    fn of(&self, at: usize) -> usize {
        self.starts.partition_point(|&s| s <= at).saturating_sub(1)
    }

    /// Byte where line `i` (0-based) starts.
    fn start(&self, i: usize) -> usize {
        self.starts.get(i).copied().unwrap_or(self.len)
    }

    /// Byte just past line `i`'s newline (or the end of the text).
    fn end_with_newline(&self, i: usize) -> usize {
        self.starts.get(i + 1).copied().unwrap_or(self.len)
    }
}

fn parser(text: &str) -> pulldown_cmark::OffsetIter<'_, pulldown_cmark::DefaultBrokenLinkCallback> {
    Parser::new_ext(text, Options::ENABLE_TABLES).into_offset_iter()
}

/// The document's top-level blocks, in order.
pub fn blocks(text: &str) -> Vec<Block<'_>> {
    let lines = Lines::new(text);
    let mut out: Vec<Block> = Vec::new();
    let mut depth = 0usize;
    // Open list items (start offset, start of their first sublist) and the current table row.
    let mut items: Vec<(usize, Option<usize>)> = Vec::new();
    let mut finished_items: Vec<(usize, usize)> = Vec::new();
    let mut row: Option<(usize, Vec<String>)> = None;
    let mut cell = String::new();
    let mut in_head = false;
    for (event, range) in parser(text) {
        match &event {
            Event::Start(tag) => {
                if depth == 0 {
                    let kind = match tag {
                        Tag::Heading { level, .. } => Kind::Heading(*level as u8),
                        Tag::Paragraph => Kind::Paragraph,
                        Tag::List(_) => Kind::List,
                        Tag::Table(_) => Kind::Table,
                        Tag::CodeBlock(_) => Kind::Code,
                        Tag::BlockQuote(_) => Kind::Quote,
                        Tag::HtmlBlock => Kind::Html,
                        _ => Kind::Other,
                    };
                    out.push(whole_lines(text, &lines, kind, range.clone()));
                }
                match tag {
                    Tag::Item => items.push((range.start, None)),
                    Tag::List(_) => {
                        if let Some(open) = items.last_mut() {
                            open.1.get_or_insert(range.start);
                        }
                    }
                    Tag::TableHead => in_head = true,
                    Tag::TableRow => row = Some((range.start, Vec::new())),
                    Tag::TableCell => cell.clear(),
                    _ => {}
                }
                depth += 1;
            }
            Event::End(tag) => {
                depth = depth.saturating_sub(1);
                match tag {
                    TagEnd::Item => {
                        if let Some((start, sub)) = items.pop() {
                            finished_items.push((start, sub.unwrap_or(range.end)));
                        }
                    }
                    TagEnd::TableHead => in_head = false,
                    TagEnd::TableCell => {
                        if let Some((_, cells)) = row.as_mut() {
                            cells.push(cell.trim().to_string());
                        }
                    }
                    TagEnd::TableRow => {
                        if let (Some((start, cells)), Some(block)) = (row.take(), out.last_mut())
                            && !in_head
                        {
                            let raw = line_slice(text, &lines, start);
                            block.items.push(Item {
                                line: lines.of(start) + 1,
                                text: cells.join(" · "),
                                raw,
                            });
                        }
                    }
                    _ => {}
                }
                // Items of a top-level list belong to it; those of a list inside a quote to no one.
                if depth == 0 {
                    finished_items.sort_unstable();
                    if let Some(block) = out.last_mut()
                        && block.kind == Kind::List
                    {
                        for (start, end) in finished_items.drain(..) {
                            let raw = text[start..end].trim_end();
                            block.items.push(Item {
                                line: lines.of(start) + 1,
                                text: strip_marker(raw),
                                raw,
                            });
                        }
                    }
                    finished_items.clear();
                }
            }
            Event::Text(t) | Event::Code(t) if row.is_some() => cell.push_str(t),
            Event::Rule if depth == 0 => {
                out.push(whole_lines(text, &lines, Kind::Rule, range.clone()));
            }
            _ => {}
        }
    }
    out
}

/// The block of `kind` covering `range`, stretched to whole lines.
fn whole_lines<'a>(text: &'a str, lines: &Lines, kind: Kind, range: Range<usize>) -> Block<'a> {
    let first = lines.of(range.start);
    let last = lines.of(range.end.saturating_sub(1).max(range.start));
    let start = lines.start(first);
    let end = lines.end_with_newline(last);
    let slice = text[start..end].trim_end_matches(['\n', '\r']);
    Block {
        kind,
        text: slice,
        range: start..start + slice.len(),
        line: first + 1,
        last_line: last + 1,
        items: Vec::new(),
    }
}

/// The line holding byte `at`, without its newline.
fn line_slice<'a>(text: &'a str, lines: &Lines, at: usize) -> &'a str {
    let i = lines.of(at);
    text[lines.start(i)..lines.end_with_newline(i)].trim_end_matches(['\n', '\r'])
}

/// A list item's text without its marker (`- `, `* `, `+ `, `12. `, `3) `), its lines joined.
fn strip_marker(raw: &str) -> String {
    let t = raw.trim_start();
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    let body = if let Some(rest) = t.strip_prefix(['-', '*', '+']) {
        rest
    } else if digits > 0 && t[digits..].starts_with(['.', ')']) {
        &t[digits + 1..]
    } else {
        t
    };
    body.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Every heading outside code, at any level, in order.
pub fn headings(text: &str) -> Vec<Heading<'_>> {
    let lines = Lines::new(text);
    let mut out = Vec::new();
    for (event, range) in parser(text) {
        if let Event::Start(Tag::Heading { level, .. }) = event {
            let first = lines.of(range.start);
            let last = lines.of(range.end.saturating_sub(1).max(range.start));
            let line = line_slice(text, &lines, range.start);
            out.push(Heading {
                level: level as u8,
                title: heading_title(line),
                line: first + 1,
                range: lines.start(first)..lines.end_with_newline(last),
            });
        }
    }
    out
}

/// A heading block's text: `## Title ##` -> `Title`; a setext heading's first line.
pub fn heading_title(block: &str) -> &str {
    let t = block.lines().next().unwrap_or("").trim();
    let hashes = t.bytes().take_while(|&b| b == b'#').count();
    if hashes == 0 {
        return t;
    }
    let rest = t[hashes..].trim();
    // A closing run of #s is not part of the title.
    let closed = rest.trim_end_matches('#');
    if closed.len() < rest.len() && (closed.is_empty() || closed.ends_with(' ')) {
        closed.trim_end()
    } else {
        rest
    }
}

/// A section of the document: a heading and the text up to the next heading of the same or a
/// higher level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section<'a> {
    /// Its heading.
    pub heading: Heading<'a>,
    /// Its body: from after the heading to the next heading at this level or above.
    pub body: Range<usize>,
}

/// The sections opened by headings of exactly `level`, in order; each ends where the next heading
/// of `level` or a higher one (fewer `#`) begins.
pub fn sections(text: &str, level: u8) -> Vec<Section<'_>> {
    let all = headings(text);
    let mut out = Vec::new();
    for (i, h) in all.iter().enumerate() {
        if h.level != level {
            continue;
        }
        let end = all[i + 1..]
            .iter()
            .find(|n| n.level <= level)
            .map_or(text.len(), |n| n.range.start);
        out.push(Section {
            heading: h.clone(),
            body: h.range.end.min(end)..end,
        });
    }
    out
}

/// Byte ranges of code: code blocks (fenced or indented, fences included) and inline code spans.
pub fn code(text: &str) -> Vec<Range<usize>> {
    let lines = Lines::new(text);
    let mut out = Vec::new();
    for (event, range) in parser(text) {
        match event {
            Event::Start(Tag::CodeBlock(kind)) => {
                // A fenced block's range starts at its fence; an indented one's at its text.
                let r = match kind {
                    CodeBlockKind::Fenced(_) => {
                        let last = lines.of(range.end.saturating_sub(1).max(range.start));
                        lines.start(lines.of(range.start))..lines.end_with_newline(last)
                    }
                    CodeBlockKind::Indented => range,
                };
                out.push(r);
            }
            Event::Code(_) => out.push(range),
            _ => {}
        }
    }
    out
}

/// Whether byte `at` lies in one of `ranges` (sorted, as [`code`] returns them).
pub fn within(ranges: &[Range<usize>], at: usize) -> bool {
    let i = ranges.partition_point(|r| r.end <= at);
    ranges.get(i).is_some_and(|r| r.contains(&at))
}

/// The 1-based lines that are code-block lines (fences included), for callers that walk lines.
pub fn code_lines(text: &str) -> Vec<bool> {
    let lines = Lines::new(text);
    let n = text.lines().count();
    let mut out = vec![false; n];
    for (event, range) in parser(text) {
        if let Event::Start(Tag::CodeBlock(_)) = event {
            let first = lines.of(range.start);
            let last = lines.of(range.end.saturating_sub(1).max(range.start));
            // A fenced block's closing fence follows its text; count it too.
            let close = if text[lines.start(first)..]
                .trim_start()
                .starts_with(['`', '~'])
            {
                closing_fence(text, &lines, last, n)
            } else {
                last
            };
            for flag in out.iter_mut().take(close + 1).skip(first) {
                *flag = true;
            }
        }
    }
    out
}

/// The line of a fenced block's closing fence, given the block's last line by the parser.
fn closing_fence(text: &str, lines: &Lines, last: usize, n: usize) -> usize {
    let l = line_slice(text, lines, lines.start(last.min(n.saturating_sub(1))));
    if l.trim_start().starts_with("```") || l.trim_start().starts_with("~~~") {
        last
    } else {
        (last + 1).min(n.saturating_sub(1))
    }
}

/// The document's title: its first level-1 heading outside code, a byte-order mark ignored.
pub fn title(text: &str) -> Option<String> {
    let text = text.trim_start_matches('\u{feff}');
    headings(text)
        .into_iter()
        .find(|h| h.level == 1 && !h.title.is_empty() && is_atx(text, h))
        .map(|h| h.title.to_string())
}

fn is_atx(text: &str, h: &Heading) -> bool {
    text[h.range.clone()].trim_start().starts_with('#')
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "# Title\n\nIntro line one\nline two.\n\n```python\n## not a heading\nx = a[2]\n```\n\n~~~\n## nor this\n~~~\n\n## Section 1: Real\n\n- one\n- two\n  - nested\n3. three\n\n| a | b |\n|---|---|\n| 1 | x |\n| 2 | y |\n\n> quoted\n\n    indented code\n\n## Sources\n\n[1] A — https://a\n";

    #[test]
    fn headings_in_code_are_code_to_every_caller() {
        let h: Vec<(u8, &str, usize)> = headings(DOC)
            .iter()
            .map(|h| (h.level, h.title, h.line))
            .collect();
        assert_eq!(
            h,
            [
                (1, "Title", 1),
                (2, "Section 1: Real", 15),
                (2, "Sources", 31)
            ]
        );
        let s = sections(DOC, 2);
        assert_eq!(s.len(), 2);
        assert!(DOC[s[0].body.clone()].starts_with("\n- one"));
        assert!(DOC[s[0].body.clone()].ends_with("indented code\n\n"));
        assert_eq!(&DOC[s[1].body.clone()], "\n[1] A — https://a\n");
    }

    #[test]
    fn blocks_have_kinds_lines_items_and_rows() {
        let b = blocks(DOC);
        let kinds: Vec<Kind> = b.iter().map(|b| b.kind).collect();
        assert_eq!(
            kinds,
            [
                Kind::Heading(1),
                Kind::Paragraph,
                Kind::Code,
                Kind::Code,
                Kind::Heading(2),
                Kind::List,
                Kind::List,
                Kind::Table,
                Kind::Quote,
                Kind::Code,
                Kind::Heading(2),
                Kind::Paragraph,
            ]
        );
        assert_eq!(b[1].text, "Intro line one\nline two.");
        assert_eq!((b[1].line, b[1].last_line), (3, 4));
        assert_eq!(b[2].text, "```python\n## not a heading\nx = a[2]\n```");
        let items: Vec<(usize, &str)> = b[5]
            .items
            .iter()
            .map(|i| (i.line, i.text.as_str()))
            .collect();
        assert_eq!(items, [(17, "one"), (18, "two"), (19, "nested")]);
        assert_eq!(b[6].items[0].text, "three");
        let rows: Vec<(usize, &str)> = b[7]
            .items
            .iter()
            .map(|i| (i.line, i.text.as_str()))
            .collect();
        assert_eq!(rows, [(24, "1 · x"), (25, "2 · y")]);
    }

    #[test]
    fn code_ranges_cover_fences_and_spans() {
        let text = "a `x[1]` b [2]\n\n```\ny[3]\n```\nafter [4]\n";
        let code = code(text);
        let at = |s: &str| text.find(s).unwrap();
        assert!(within(&code, at("x[1]")));
        assert!(!within(&code, at("[2]")));
        assert!(within(&code, at("y[3]")));
        assert!(within(&code, at("```\ny")));
        assert!(!within(&code, at("[4]")));
        assert_eq!(
            code_lines(text),
            [false, false, true, true, true, false],
            "fences and their lines"
        );
    }

    #[test]
    fn an_unclosed_fence_runs_to_the_end() {
        let text = "# T\n\n```\n## inside\n";
        assert_eq!(headings(text).len(), 1);
        assert_eq!(code_lines(text), [false, false, true, true]);
    }

    #[test]
    fn titles_skip_code_and_the_byte_order_mark() {
        let md = "\u{feff}Setup notes\n\n```bash\n# install the toolchain\ncargo build\n```\n\n# Setup\n";
        assert_eq!(title(md).as_deref(), Some("Setup"));
        assert_eq!(
            title("\u{feff}# Real title\n").as_deref(),
            Some("Real title")
        );
        assert_eq!(title("~~~\n# not this\n~~~\n"), None);
        assert_eq!(title("#nospace\n# \n# Yes ##\n").as_deref(), Some("Yes"));
    }
}
