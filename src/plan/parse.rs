//! Markdown plan -> [`Plan`]: pulldown-cmark events with source offsets, items classified by shape.

use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};

use super::items::{RawItem, classify, drop_name};
use super::model::{CheckboxLine, Diagnostic, DropSpec, Expansion, Part, PartSpan, Plan, Severity};
use super::shapes::is_done_mark;
use super::text::{
    LineIndex, line_budget, numbered, split_parenthesised, strip_checkbox, strip_prefix_ci,
};
use super::validate;

/// Why a plan's bytes could not be read as a plan at all.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ParseError {
    /// The bytes are not UTF-8 text.
    #[error(
        "not UTF-8 text (invalid byte at offset {offset}); a plan must be a UTF-8 markdown file"
    )]
    NotUtf8 {
        /// 1-based line of the first invalid byte.
        line: usize,
        /// Its byte offset.
        offset: usize,
    },
    /// The bytes contain NUL, so this is a binary file.
    #[error("binary data (a NUL byte at offset {offset}); a plan must be a markdown text file")]
    Binary {
        /// 1-based line of the NUL byte.
        line: usize,
        /// Its byte offset.
        offset: usize,
    },
}

impl ParseError {
    /// 1-based line where the problem is.
    pub fn line(&self) -> usize {
        match self {
            ParseError::NotUtf8 { line, .. } | ParseError::Binary { line, .. } => *line,
        }
    }
}

impl Plan {
    /// Parse raw bytes, refusing non-UTF-8 and binary input.
    pub fn from_bytes(bytes: &[u8]) -> Result<Plan, ParseError> {
        let line_of = |offset: usize| bytes[..offset].iter().filter(|&&b| b == b'\n').count() + 1;
        let text = std::str::from_utf8(bytes).map_err(|e| ParseError::NotUtf8 {
            line: line_of(e.valid_up_to()),
            offset: e.valid_up_to(),
        })?;
        if let Some(offset) = bytes.iter().position(|&b| b == 0) {
            return Err(ParseError::Binary {
                line: line_of(offset),
                offset,
            });
        }
        Ok(Plan::parse(text))
    }

    /// Parse markdown text. Never fails: unknown items are kept as text, problems become diagnostics.
    pub fn parse(text: &str) -> Plan {
        let mut builder = Builder::new(text);
        builder.run();
        builder.finish()
    }
}

/// A PART being assembled.
struct PartDraft {
    number: u32,
    line: usize,
    heading: Option<(String, usize)>,
    checkbox: Option<(CheckboxLine, String)>,
    expansion: Option<Expansion>,
    items: Vec<RawItem>,
}

/// Whether items still belong to the last PART, and what opened it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PartOpen {
    /// No PART: items are ignored.
    Closed,
    /// A `### PART N:` heading of this level; a heading at or above it ends the PART.
    Heading(HeadingLevel),
    /// A `- [ ] PART N:` line with no heading; a top-level heading (`##` or above) ends it.
    Checkbox,
}

impl PartOpen {
    /// The heading level at or above which a heading ends the PART.
    fn level(self) -> Option<HeadingLevel> {
        match self {
            PartOpen::Closed => None,
            PartOpen::Heading(l) => Some(l),
            PartOpen::Checkbox => Some(HeadingLevel::H2),
        }
    }
}

struct Builder<'a> {
    text: &'a str,
    lines: LineIndex<'a>,
    title: Option<String>,
    date: Option<String>,
    /// The `Sources:` line's text, as written.
    sources: Option<String>,
    expansions: Vec<Expansion>,
    current_expansion: Option<Expansion>,
    parts: Vec<PartDraft>,
    /// Whether items still belong to the last PART, and what opened it.
    part_open: PartOpen,
    diagnostics: Vec<Diagnostic>,
}

impl<'a> Builder<'a> {
    fn new(text: &'a str) -> Self {
        Builder {
            text,
            lines: LineIndex::new(text),
            title: None,
            date: None,
            sources: None,
            expansions: Vec::new(),
            current_expansion: None,
            parts: Vec::new(),
            part_open: PartOpen::Closed,
            diagnostics: Vec::new(),
        }
    }

    fn run(&mut self) {
        // Buffers for the innermost open heading, paragraph and items.
        let mut heading: Option<(HeadingLevel, usize, String)> = None;
        let mut paragraph: Option<String> = None;
        let mut items: Vec<(usize, usize, String)> = Vec::new(); // (list id, offset, text)
        let mut lists: Vec<usize> = Vec::new();
        let mut next_list = 0usize;

        let parser = Parser::new_ext(self.text, Options::empty()).into_offset_iter();
        for (event, range) in parser {
            match event {
                Event::Start(Tag::Heading { level, .. }) => {
                    heading = Some((level, range.start, String::new()))
                }
                Event::End(TagEnd::Heading(_)) => {
                    if let Some((level, offset, text)) = heading.take() {
                        self.on_heading(level, offset, text.trim());
                    }
                }
                Event::Start(Tag::List(_)) => {
                    lists.push(next_list);
                    next_list += 1;
                }
                Event::End(TagEnd::List(_)) => {
                    lists.pop();
                }
                Event::Start(Tag::Item) => items.push((
                    lists.last().copied().unwrap_or(0),
                    range.start,
                    String::new(),
                )),
                Event::End(TagEnd::Item) => {
                    if let Some((list, offset, text)) = items.pop() {
                        self.on_item(list, offset, text.trim());
                    }
                }
                Event::Start(Tag::Paragraph) if items.is_empty() => paragraph = Some(String::new()),
                Event::End(TagEnd::Paragraph) => {
                    if let Some(text) = paragraph.take() {
                        self.on_paragraph(text.trim());
                    }
                }
                Event::Text(t) | Event::Code(t) => {
                    let buf = if let Some((_, _, h)) = heading.as_mut() {
                        h
                    } else if let Some((_, _, i)) = items.last_mut() {
                        i
                    } else if let Some(p) = paragraph.as_mut() {
                        p
                    } else {
                        continue;
                    };
                    buf.push_str(&t);
                }
                Event::SoftBreak | Event::HardBreak => {
                    if let Some((_, _, i)) = items.last_mut() {
                        i.push(' ');
                    } else if let Some(p) = paragraph.as_mut() {
                        p.push('\n');
                    }
                }
                _ => {}
            }
        }
    }

    fn on_heading(&mut self, level: HeadingLevel, offset: usize, text: &str) {
        let line = self.lines.line_of(offset);
        if level == HeadingLevel::H1 && self.title.is_none() {
            self.title = Some(text.to_string());
            return;
        }
        // A heading at or above the PART's own level (or any top-level one) ends the PART.
        if let Some(part_level) = self.part_open.level()
            && level <= part_level
        {
            self.part_open = PartOpen::Closed;
        }
        if let Some((number, title)) = numbered(text, "EXPANSION") {
            let expansion = Expansion {
                number,
                title: title.to_string(),
            };
            self.expansions.push(expansion.clone());
            self.current_expansion = Some(expansion);
            return;
        }
        if let Some((number, rest)) = numbered(text, "PART") {
            self.parts.push(PartDraft {
                number,
                line,
                heading: Some((rest.to_string(), line)),
                checkbox: None,
                expansion: self.current_expansion.clone(),
                items: Vec::new(),
            });
            self.part_open = PartOpen::Heading(level);
        }
    }

    fn on_paragraph(&mut self, text: &str) {
        for line in text.lines() {
            if let Some(rest) = strip_prefix_ci(line.trim(), "Date:")
                && self.date.is_none()
            {
                self.date = Some(rest.trim().to_string());
            }
            if let Some(rest) = strip_prefix_ci(line.trim(), "Sources:")
                && self.sources.is_none()
            {
                self.sources = Some(rest.trim().to_string());
            }
        }
    }

    fn on_item(&mut self, list: usize, offset: usize, text: &str) {
        let line = self.lines.line_of(offset);
        let (mark, body) = strip_checkbox(text);
        if let (Some(_), Some((number, rest))) = (mark, numbered(body, "PART")) {
            let start = self.lines.start_of_line(line);
            let end = self.lines.end_of_content(line);
            let raw = &self.text[start..end];
            let mark = raw_mark(raw).unwrap_or(' ');
            let target = parse_part_title(rest).target;
            let checkbox = CheckboxLine {
                line,
                start,
                end,
                mark,
                target,
            };
            let same_part = self
                .parts
                .last()
                .is_some_and(|p| p.number == number && p.checkbox.is_none());
            if same_part {
                if let Some(p) = self.parts.last_mut() {
                    p.checkbox = Some((checkbox, rest.to_string()));
                }
            } else {
                // Legal (a plan may be checkbox lines only), but usually a typo in the number or
                // a forgotten heading: its items would silently land in a PART of their own.
                let above = match self.parts.last() {
                    Some(p) if self.part_open != PartOpen::Closed => format!(
                        ", or fix the number if it belongs to PART {} above (line {})",
                        p.number, p.line
                    ),
                    _ => String::new(),
                };
                self.diagnostics.push(Diagnostic {
                    line,
                    severity: Severity::Warning,
                    message: format!(
                        "checkbox line for PART {number} has no \"### PART {number}: …\" heading; it starts a PART of its own (add the heading{above})"
                    ),
                });
                self.parts.push(PartDraft {
                    number,
                    line,
                    heading: None,
                    checkbox: Some((checkbox, rest.to_string())),
                    expansion: self.current_expansion.clone(),
                    items: Vec::new(),
                });
                self.part_open = PartOpen::Checkbox;
            }
            return;
        }
        if self.part_open == PartOpen::Closed {
            return;
        }
        if let Some(part) = self.parts.last_mut() {
            part.items.push(RawItem {
                list,
                line,
                text: body.to_string(),
            });
        }
    }

    fn finish(mut self) -> Plan {
        let drafts = std::mem::take(&mut self.parts);
        let parts: Vec<Part> = drafts.into_iter().map(|d| self.build_part(d)).collect();
        let sources = match self
            .sources
            .as_deref()
            .map(crate::sources::SourcePolicy::parse_line)
        {
            Some(Ok(p)) => p,
            Some(Err(why)) => {
                let line = self
                    .text
                    .lines()
                    .position(|l| {
                        l.contains("Sources**:") || l.trim_start().starts_with("Sources:")
                    })
                    .map_or(1, |i| i + 1);
                self.diagnostics.push(Diagnostic {
                    line,
                    severity: Severity::Error,
                    message: format!("the Sources line: {why}"),
                });
                Default::default()
            }
            None => Default::default(),
        };
        let mut plan = Plan {
            title: self.title,
            date: self.date,
            sources,
            expansions: self.expansions,
            parts,
            diagnostics: self.diagnostics,
        };
        validate::validate(&mut plan);
        plan
    }

    fn build_part(&mut self, draft: PartDraft) -> Part {
        let from_heading = draft.heading.as_ref().map(|(t, _)| parse_part_title(t));
        let from_checkbox = draft.checkbox.as_ref().map(|(_, t)| parse_part_title(t));
        let primary = from_heading
            .clone()
            .or_else(|| from_checkbox.clone())
            .unwrap_or_default();
        let annotation = from_checkbox.as_ref().and_then(|c| c.annotation.clone());
        let expected_lines = primary
            .lines
            .or_else(|| from_checkbox.as_ref().and_then(|c| c.lines));
        let checkbox = draft.checkbox.map(|(c, _)| c);
        let done = checkbox.as_ref().is_some_and(|c| is_done_mark(c.mark));

        let mut part = Part {
            number: draft.number,
            expansion: draft.expansion,
            title: primary.title,
            target: primary.target,
            expected_lines,
            done,
            annotation,
            span: PartSpan {
                line: draft.line,
                checkbox,
            },
            ..Part::default()
        };
        // The drop's contents are the other items of the list that names the drop.
        let drop_list = draft
            .items
            .iter()
            .find(|i| drop_name(&i.text).is_some())
            .map(|i| i.list);
        for item in &draft.items {
            if let Some(name) = drop_name(&item.text) {
                part.drop = Some(DropSpec {
                    name: name.to_string(),
                    contents: Vec::new(),
                });
            } else if Some(item.list) == drop_list {
                if let Some(drop) = part.drop.as_mut() {
                    drop.contents.push(item.text.clone());
                } else {
                    classify(&mut part, item, &mut self.diagnostics);
                }
            } else {
                classify(&mut part, item, &mut self.diagnostics);
            }
        }
        part
    }
}

/// What a PART's heading or checkbox line says after `PART N:`.
#[derive(Clone, Default)]
struct PartTitle {
    title: String,
    target: String,
    lines: Option<u32>,
    annotation: Option<String>,
}

fn parse_part_title(rest: &str) -> PartTitle {
    let mut title = rest.trim();
    let mut lines = None;
    let mut annotation = None;
    // Trailing groups, last first: `(~500 lines)` is the size, anything else the annotation.
    for _ in 0..2 {
        let Some((head, group)) = split_parenthesised(title) else {
            break;
        };
        if let Some(n) = line_budget(group) {
            lines = lines.or(Some(n));
        } else if annotation.is_none() {
            annotation = Some(group.trim().to_string());
        } else {
            break;
        }
        title = head.trim_end();
    }
    let after_verb = ["Create", "Write", "Update", "Expand"]
        .iter()
        .find_map(|verb| {
            strip_prefix_ci(title, verb).filter(|r| r.starts_with(char::is_whitespace))
        });
    let object = after_verb.unwrap_or(title).trim();
    let md = object
        .split_whitespace()
        .find(|t| t.to_ascii_lowercase().ends_with(".md"))
        .unwrap_or(object);
    // "Create a b.md": words run straight from the verb into the file name, so the name has a
    // space in it (the check says so) rather than silently being "b.md".
    let before = object.find(md).map_or("", |at| object[..at].trim_end());
    let spaced = after_verb.is_some()
        && !before.is_empty()
        && !before.ends_with([':', '—', '–', '-', ',', ')', '`', '"']);
    let target = if spaced {
        format!("{before} {md}")
    } else {
        md.to_string()
    };
    let target = target.trim_matches(|c| c == '`' || c == '"').to_string();
    PartTitle {
        title: title.to_string(),
        target,
        lines,
        annotation,
    }
}

/// The mark between the brackets on a raw checkbox line.
fn raw_mark(raw: &str) -> Option<char> {
    let open = raw.find('[')?;
    let mut chars = raw[open + 1..].chars();
    let mark = chars.next()?;
    (chars.next() == Some(']')).then_some(mark)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_title_with_size_and_annotation() {
        let t = parse_part_title("Create a/b.md (~500 lines) (Completed 2025-11-13 22:59)");
        assert_eq!(t.target, "a/b.md");
        assert_eq!(t.lines, Some(500));
        assert_eq!(t.annotation.as_deref(), Some("Completed 2025-11-13 22:59"));
        assert_eq!(t.title, "Create a/b.md");
    }
}
