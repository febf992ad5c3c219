//! The typed model of a knowledge-expansion plan: PARTs, their checks, queries, sections and drop.

use serde::Serialize;

/// A parsed plan: its title, date, EXPANSION groups and PARTs in document order.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Plan {
    /// The `# ...` title, if the plan has one.
    pub title: Option<String>,
    /// The value of a `**Date**: ...` line, kept as written.
    pub date: Option<String>,
    /// The sites its `**Sources**: prefer …; deny …; only …` line names (empty without one).
    pub sources: crate::sources::SourcePolicy,
    /// The EXPANSION headings in document order.
    pub expansions: Vec<Expansion>,
    /// Every PART in document order.
    pub parts: Vec<Part>,
    /// Problems found while parsing (malformed items never fail a parse; they land here).
    pub diagnostics: Vec<Diagnostic>,
}

/// An `## EXPANSION N: Title` group.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Expansion {
    /// The EXPANSION's number.
    pub number: u32,
    /// Its title, after the colon.
    pub title: String,
}

/// One PART: a knowledge file to research and write.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Part {
    /// The PART number, unique within a valid plan.
    pub number: u32,
    /// The EXPANSION the PART sits under, if any.
    pub expansion: Option<Expansion>,
    /// The heading's text after `PART N:`, without the size (`Create <target>`).
    pub title: String,
    /// The knowledge file to write, relative to the knowledge base root.
    pub target: String,
    /// The `~N lines` size from the heading or checkbox line.
    pub expected_lines: Option<u32>,
    /// Whether the PART's checkbox is ticked with a done glyph ([`super::DONE_MARKS`]).
    pub done: bool,
    /// The trailing parenthesised text of the checkbox line (`Completed 2025-11-13 22:59`).
    pub annotation: Option<String>,
    /// Step 0 style items: what to look at in the base before researching.
    pub checks: Vec<Check>,
    /// Every `Search: "..."` query, unquoted and unescaped.
    pub queries: Vec<String>,
    /// What to scrape: the top N hits, or a named target.
    pub scrape: Vec<Scrape>,
    /// The planned sections of the knowledge file, in order.
    pub sections: Vec<Section>,
    /// Citation requirements as written (`Cite all sources`).
    pub requirements: Vec<String>,
    /// The KNOWLEDGE DROP to write, if the PART asks for one.
    pub drop: Option<DropSpec>,
    /// Items whose shape expanse does not know, kept as text.
    pub other: Vec<String>,
    /// Where the PART is in the source.
    #[serde(skip)]
    pub span: PartSpan,
}

/// Source positions of a PART, for diagnostics and byte-preserving edits.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PartSpan {
    /// 1-based line of the PART's heading (or of its checkbox line when it has no heading).
    pub line: usize,
    /// The checkbox line, when the PART has one.
    pub checkbox: Option<CheckboxLine>,
}

/// The `- [✓] PART N: Create <target> (annotation)` line that records completion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckboxLine {
    /// 1-based line number.
    pub line: usize,
    /// Byte offset of the line's first byte.
    pub start: usize,
    /// Byte offset just past the line's content (before `\n` or `\r\n`).
    pub end: usize,
    /// The character between the brackets.
    pub mark: char,
    /// The target named on the checkbox line.
    pub target: String,
}

/// Something to look at in the knowledge base before researching.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Check {
    /// Read a file or every file matching a glob, optionally for a topic (`Read INDEX.md for TPU mentions`).
    Read {
        /// A path or glob relative to the knowledge base root.
        path: String,
        /// Whether `path` contains glob characters.
        glob: bool,
        /// What to look for in it, if the item says.
        focus: Option<String>,
    },
    /// Grep the base for terms joined by AND or OR.
    Grep {
        /// The terms, unquoted.
        terms: Vec<String>,
        /// How the terms combine.
        op: GrepOp,
        /// The folder to search, relative to the knowledge base root.
        scope: Option<String>,
    },
    /// A free-form look at existing knowledge (`Check existing NVIDIA-related files`).
    Look {
        /// The item as written.
        text: String,
    },
    /// `Identify gaps: ...`, kept as a note for the writer.
    Gaps {
        /// The text after `Identify gaps:`.
        note: String,
    },
}

/// How grep terms combine.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum GrepOp {
    /// Every term must occur in the file.
    And,
    /// Any term may occur.
    Or,
}

/// What to scrape after searching.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Scrape {
    /// The best N hits of the preceding searches.
    Top {
        /// How many.
        n: u32,
    },
    /// A named target (`Scrape NVIDIA docs`): searched for, then its best hit scraped.
    Named {
        /// The phrase as written.
        target: String,
    },
}

/// A planned section of the knowledge file.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Section {
    /// The section's title.
    pub title: String,
    /// The hint after ` - `, if any.
    pub hint: Option<String>,
    /// The `~L lines` budget, if given.
    pub lines: Option<u32>,
}

/// The KNOWLEDGE DROP a PART writes.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DropSpec {
    /// The file name as planned, `[TIME]` still in it.
    pub name: String,
    /// What the drop must list, as written.
    pub contents: Vec<String>,
}

/// A problem found in a plan, reported as `PLAN:LINE: message`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Diagnostic {
    /// 1-based line.
    pub line: usize,
    /// Error or warning.
    pub severity: Severity,
    /// What is wrong, in words for someone who has not read the code.
    pub message: String,
}

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The plan cannot be run as it is.
    Error,
    /// The plan runs, but something is probably not what the author meant.
    Warning,
}

impl Plan {
    /// The PART with this number.
    pub fn part(&self, number: u32) -> Option<&Part> {
        self.parts.iter().find(|p| p.number == number)
    }

    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error)
    }
}

impl Part {
    /// The target's file stem (`00-deepspeed-zero-optimizer`), for short labels.
    pub fn stem(&self) -> &str {
        let name = self.target.rsplit('/').next().unwrap_or(&self.target);
        name.strip_suffix(".md").unwrap_or(name)
    }

    /// The PART's title when the plan gives it one beyond "Create <target>"
    /// (`### PART 1: ZeRO stages — Create dist/zero.md`).
    pub fn own_title(&self) -> Option<&str> {
        const VERBS: [&str; 4] = ["create", "write", "update", "expand"];
        let edge =
            |c: char| c.is_whitespace() || matches!(c, ':' | '—' | '–' | '-' | ',' | '`' | '"');
        self.title
            .split(self.target.as_str())
            .map(|piece| {
                let piece = piece.trim_matches(edge);
                // A verb that leads up to the target is not part of the title.
                match piece.rsplit_once(char::is_whitespace) {
                    Some((head, verb)) if VERBS.contains(&verb.to_ascii_lowercase().as_str()) => {
                        head.trim_matches(edge)
                    }
                    _ if VERBS.contains(&piece.to_ascii_lowercase().as_str()) => "",
                    _ => piece,
                }
            })
            .filter(|p| !p.is_empty())
            .max_by_key(|p| p.len())
    }

    /// Section `k`'s line budget: its own, or an even share of the file's, or 60.
    pub fn budget_of(&self, k: usize) -> usize {
        let share = self
            .expected_lines
            .map(|l| l as usize / self.sections.len().max(1));
        self.sections
            .get(k)
            .and_then(|s| s.lines)
            .map(|l| l as usize)
            .or(share)
            .unwrap_or(60)
    }

    /// The drop's slug (`deepspeed-zero`), from the planned drop name or else the target stem.
    pub fn drop_slug(&self) -> String {
        self.drop
            .as_ref()
            .and_then(|d| drop_slug(&d.name))
            .unwrap_or_else(|| self.stem().to_string())
    }
}

/// `KNOWLEDGE-DROP-deepspeed-zero-2025-11-13-[TIME].md` -> `deepspeed-zero`.
fn drop_slug(name: &str) -> Option<String> {
    let rest = name.strip_prefix("KNOWLEDGE-DROP-")?;
    let rest = rest.strip_suffix(".md").unwrap_or(rest);
    let rest = rest.strip_suffix("-[TIME]").unwrap_or(rest);
    // Drop a trailing YYYY-MM-DD date if present.
    let bytes = rest.as_bytes();
    if bytes.len() > 11 {
        let (head, tail) = rest.split_at(rest.len() - 11);
        let t = tail.as_bytes();
        let is_date = t[0] == b'-'
            && t[5] == b'-'
            && t[8] == b'-'
            && t.iter()
                .enumerate()
                .all(|(i, c)| matches!(i, 0 | 5 | 8) || c.is_ascii_digit());
        if is_date {
            return Some(head.to_string());
        }
    }
    Some(rest.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drop_slug_strips_date_and_time() {
        assert_eq!(
            drop_slug("KNOWLEDGE-DROP-deepspeed-zero-2025-11-13-[TIME].md").as_deref(),
            Some("deepspeed-zero")
        );
        assert_eq!(drop_slug("KNOWLEDGE-DROP-ray.md").as_deref(), Some("ray"));
        assert_eq!(drop_slug("notes.md"), None);
    }
}
