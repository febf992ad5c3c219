//! Draft-vs-disk diffs: line hunks with word-level changes, as plain data both front ends render.

use serde::Serialize;
use similar::{ChangeTag, InlineChangeMode, InlineChangeOptions, TextDiff};

/// Lines of context around each change.
pub const CONTEXT: usize = 3;

/// How a diff line changed.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum LineTag {
    /// Unchanged context.
    Equal,
    /// Only in the draft.
    Insert,
    /// Only on disk.
    Delete,
}

/// A run of text inside a line; `emphasized` marks the words that changed.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Segment {
    /// Whether these words changed.
    pub emphasized: bool,
    /// The text, without the line ending.
    pub text: String,
}

/// One line of a hunk.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DiffLine {
    /// How it changed.
    pub tag: LineTag,
    /// 1-based line number on disk.
    pub old: Option<usize>,
    /// 1-based line number in the draft.
    pub new: Option<usize>,
    /// The line's text in segments.
    pub segments: Vec<Segment>,
}

impl DiffLine {
    /// The whole line's text.
    pub fn text(&self) -> String {
        self.segments.iter().map(|s| s.text.as_str()).collect()
    }
}

/// A group of changes with context.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Hunk {
    /// First old line (1-based) and count.
    pub old_start: usize,
    /// Old lines covered.
    pub old_len: usize,
    /// First new line (1-based).
    pub new_start: usize,
    /// New lines covered.
    pub new_len: usize,
    /// The lines.
    pub lines: Vec<DiffLine>,
}

/// A whole file's diff.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FileDiff {
    /// Path shown for the old side (the file on disk, or `/dev/null`).
    pub old_name: String,
    /// Path shown for the new side.
    pub new_name: String,
    /// The hunks, in order.
    pub hunks: Vec<Hunk>,
    /// Lines added.
    pub added: usize,
    /// Lines removed.
    pub removed: usize,
}

impl FileDiff {
    /// Whether the two sides are the same.
    pub fn is_empty(&self) -> bool {
        self.hunks.is_empty()
    }

    /// A plain unified diff (no colour), as `diff -u` would print it.
    pub fn unified(&self) -> String {
        let mut out = format!("--- {}\n+++ {}\n", self.old_name, self.new_name);
        for h in &self.hunks {
            out.push_str(&format!(
                "@@ -{},{} +{},{} @@\n",
                h.old_start, h.old_len, h.new_start, h.new_len
            ));
            for l in &h.lines {
                let sign = match l.tag {
                    LineTag::Equal => ' ',
                    LineTag::Insert => '+',
                    LineTag::Delete => '-',
                };
                out.push(sign);
                out.push_str(&l.text());
                out.push('\n');
            }
        }
        out
    }
}

/// The diff of `new` (the draft) against `old` (the file on disk, None if absent).
pub fn diff(old: Option<&str>, new: &str, name: &str) -> FileDiff {
    let old_text = old.unwrap_or("");
    let td = line_diff(old_text, new);
    let mut options = InlineChangeOptions::new();
    options.mode(InlineChangeMode::Words).semantic_cleanup(true);
    let mut hunks = Vec::new();
    let (mut added, mut removed) = (0, 0);
    for group in td.grouped_ops(CONTEXT) {
        let (Some(first), Some(last)) = (group.first(), group.last()) else {
            continue;
        };
        let old_range = first.old_range().start..last.old_range().end;
        let new_range = first.new_range().start..last.new_range().end;
        let mut lines = Vec::new();
        for op in &group {
            for change in td.iter_inline_changes_with_options(op, options) {
                let tag = match change.tag() {
                    ChangeTag::Equal => LineTag::Equal,
                    ChangeTag::Insert => {
                        added += 1;
                        LineTag::Insert
                    }
                    ChangeTag::Delete => {
                        removed += 1;
                        LineTag::Delete
                    }
                };
                let mut segments: Vec<Segment> = Vec::new();
                for (emphasized, text) in change.iter_strings_lossy() {
                    let text = text.trim_end_matches(['\n', '\r']);
                    if text.is_empty() {
                        continue;
                    }
                    // A line whose every word changed is shown plainly, not all-emphasized.
                    match segments.last_mut() {
                        Some(s) if s.emphasized == emphasized => s.text.push_str(text),
                        _ => segments.push(Segment {
                            emphasized,
                            text: text.to_string(),
                        }),
                    }
                }
                if segments.len() == 1 {
                    segments[0].emphasized = false;
                }
                lines.push(DiffLine {
                    tag,
                    old: change.old_index().map(|i| i + 1),
                    new: change.new_index().map(|i| i + 1),
                    segments,
                });
            }
        }
        hunks.push(Hunk {
            old_start: if old_range.is_empty() {
                old_range.start
            } else {
                old_range.start + 1
            },
            old_len: old_range.len(),
            new_start: if new_range.is_empty() {
                new_range.start
            } else {
                new_range.start + 1
            },
            new_len: new_range.len(),
            lines,
        });
    }
    FileDiff {
        old_name: if old.is_some() {
            format!("a/{name}")
        } else {
            "/dev/null".to_string()
        },
        new_name: format!("b/{name}"),
        hunks,
        added,
        removed,
    }
}

fn line_diff<'a>(old: &'a str, new: &'a str) -> TextDiff<'a, 'a, str> {
    TextDiff::configure()
        .timeout(std::time::Duration::from_secs(2))
        .diff_lines(old, new)
}

/// What a draft does to the lines of the file it replaces.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineChanges {
    /// The draft's lines that are new (1-based).
    pub inserted: std::collections::BTreeSet<usize>,
    /// The file's lines the draft removes or changes: (1-based line, text).
    pub removed: Vec<(usize, String)>,
}

/// The lines `new` adds to `old` and the lines of `old` it removes or changes.
pub fn line_changes(old: &str, new: &str) -> LineChanges {
    let td = line_diff(old, new);
    let mut out = LineChanges::default();
    for change in td.iter_all_changes() {
        match change.tag() {
            ChangeTag::Insert => {
                if let Some(i) = change.new_index() {
                    out.inserted.insert(i + 1);
                }
            }
            ChangeTag::Delete => {
                if let Some(i) = change.old_index() {
                    let text = change.value().trim_end_matches(['\n', '\r']).to_string();
                    out.removed.push((i + 1, text));
                }
            }
            ChangeTag::Equal => {}
        }
    }
    out
}

/// `old` with only the hunks numbered in `keep` (1-based, in the order [`diff`] gives them) of
/// its diff against `new` applied; every other line stays as `old` has it.
pub fn apply_hunks(old: &str, new: &str, keep: &std::collections::BTreeSet<usize>) -> String {
    let old_lines: Vec<&str> = old.split_inclusive('\n').collect();
    let new_lines: Vec<&str> = new.split_inclusive('\n').collect();
    let td = line_diff(old, new);
    let mut out = String::with_capacity(new.len().max(old.len()));
    let mut at = 0;
    for (i, group) in td.grouped_ops(CONTEXT).iter().enumerate() {
        let take = keep.contains(&(i + 1));
        for op in group {
            let (_, o, n) = op.as_tag_tuple();
            // Lines between hunks are equal on both sides.
            for l in &old_lines[at..o.start] {
                out.push_str(l);
            }
            if take {
                for l in &new_lines[n] {
                    out.push_str(l);
                }
            } else {
                for l in &old_lines[o.clone()] {
                    out.push_str(l);
                }
            }
            at = o.end;
        }
    }
    for l in &old_lines[at..] {
        out.push_str(l);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_file_is_all_inserts() {
        let d = diff(None, "a\nb\n", "x.md");
        assert_eq!((d.added, d.removed), (2, 0));
        assert_eq!(
            d.unified(),
            "--- /dev/null\n+++ b/x.md\n@@ -0,0 +1,2 @@\n+a\n+b\n"
        );
    }

    #[test]
    fn changed_paragraph_has_word_level_emphasis() {
        let old =
            "# T\n\nZeRO stage 2 partitions gradients and optimizer states across ranks.\n\nend\n";
        let new = "# T\n\nZeRO stage 3 partitions parameters, gradients and optimizer states across ranks.\n\nend\n";
        let d = diff(Some(old), new, "x.md");
        assert_eq!((d.added, d.removed), (1, 1));
        let ins = d.hunks[0]
            .lines
            .iter()
            .find(|l| l.tag == LineTag::Insert)
            .unwrap();
        let emph: Vec<&str> = ins
            .segments
            .iter()
            .filter(|s| s.emphasized)
            .map(|s| s.text.as_str())
            .collect();
        assert!(emph.iter().any(|t| t.contains('3')), "{emph:?}");
        assert!(emph.iter().any(|t| t.contains("parameters")), "{emph:?}");
        assert!(
            !emph.iter().any(|t| t.contains("optimizer")),
            "unchanged words are not emphasized: {emph:?}"
        );
        assert_eq!(ins.new, Some(3));
        assert!(diff(Some(old), old, "x.md").is_empty());
    }

    #[test]
    fn kept_hunks_are_applied_and_the_others_left_as_they_were() {
        let old: String = (1..=30).map(|i| format!("line {i}\n")).collect();
        let new = old
            .replace("line 2\n", "line 2 changed\n")
            .replace("line 15\n", "line 15\nadded after 15\n")
            .replace("line 29\n", "");
        let d = diff(Some(&old), &new, "x.md");
        assert_eq!(d.hunks.len(), 3);
        let keep = |k: &[usize]| apply_hunks(&old, &new, &k.iter().copied().collect());
        assert_eq!(keep(&[1, 2, 3]), new);
        assert_eq!(keep(&[]), old);
        let middle = keep(&[2]);
        assert!(middle.contains("added after 15\n"));
        assert!(middle.contains("line 2\n") && middle.contains("line 29\n"));
        let c = line_changes(&old, &middle);
        assert_eq!(c.inserted.into_iter().collect::<Vec<_>>(), [16]);
        assert!(c.removed.is_empty());
        let c = line_changes(&old, &new);
        assert_eq!(
            c.removed,
            [(2, "line 2".to_string()), (29, "line 29".to_string())]
        );
    }
}
