//! A draft awaiting review: the knowledge file's text, its drop, and the sources behind them.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::knowledge::Existing;
use crate::plan::Part;
use crate::research::Source;

/// A gathered source as the draft records it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SourceRef {
    /// Its citation number.
    pub n: usize,
    /// Its address.
    pub url: String,
    /// Its title.
    pub title: String,
}

/// One PART's draft.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Draft {
    /// The PART number.
    pub part: u32,
    /// The target path, relative to `knowledge/`.
    pub target: String,
    /// The knowledge file's full text, `## Sources` included.
    pub text: String,
    /// The drop's file name as planned (`[TIME]` still in it).
    pub drop_name: String,
    /// The drop's text.
    pub drop_text: String,
    /// Every gathered source.
    pub sources: Vec<SourceRef>,
    /// What the checks found, for the overlap check at review.
    pub existing: Existing,
    /// Which writer made it.
    pub writer: String,
    /// When it was made, local `YYYY-MM-DD HH:MM`.
    pub created: String,
    /// SHA-256 of the target on disk when the draft's diff was last computed (None: absent).
    #[serde(default)]
    pub base_hash: Option<String>,
}

impl Draft {
    /// Lines of the knowledge file.
    pub fn lines(&self) -> usize {
        self.text.lines().count()
    }
}

/// Every `[n]` citation in `text`, in order, repeats included. Code blocks, inline code, indexing
/// such as `out[0]`, links `[3](url)` and reference definitions `[3]:` are not citations.
pub fn citations(text: &str) -> Vec<usize> {
    let mut out = Vec::new();
    let mut in_fence = false;
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            continue;
        }
        let bytes = line.as_bytes();
        let mut in_code = false;
        for (i, &b) in bytes.iter().enumerate() {
            if b == b'`' {
                in_code = !in_code;
            }
            if b != b'[' || in_code {
                continue;
            }
            let glued = i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
            let digits = bytes[i + 1..]
                .iter()
                .take_while(|c| c.is_ascii_digit())
                .count();
            let close = i + 1 + digits;
            if glued || digits == 0 || digits > 4 || bytes.get(close) != Some(&b']') {
                continue;
            }
            if matches!(bytes.get(close + 1), Some(b'(') | Some(b':')) {
                continue;
            }
            if let Ok(n) = line[i + 1..close].parse() {
                out.push(n);
            }
        }
    }
    out
}

/// The distinct `[n]` citation numbers used in `text`.
pub fn cited(text: &str) -> BTreeSet<usize> {
    citations(text).into_iter().collect()
}

/// The body with a `## Sources` list rendered by expanse: every gathered source the body cites.
pub fn with_sources(body: &str, sources: &[Source]) -> String {
    let body = strip_model_sources(body);
    let used = cited(&body);
    let mut out = body.trim_end().to_string();
    out.push_str("\n\n## Sources\n\n");
    let listed: Vec<&Source> = sources.iter().filter(|s| used.contains(&s.n)).collect();
    if listed.is_empty() {
        out.push_str("No source was cited.\n");
    }
    for s in listed {
        out.push_str(&format!("[{}] {} — {}\n", s.n, s.page.title, s.page.url));
    }
    out
}

/// A writer's own trailing Sources/References section is dropped: expanse renders that list itself.
fn strip_model_sources(body: &str) -> String {
    let mut cut = body.len();
    let mut offset = 0;
    for line in body.split_inclusive('\n') {
        let t = line
            .trim()
            .trim_start_matches('#')
            .trim()
            .to_ascii_lowercase();
        if line.starts_with("## ")
            && matches!(t.as_str(), "sources" | "references" | "bibliography")
        {
            cut = offset;
            break;
        }
        offset += line.len();
    }
    body[..cut].to_string()
}

/// The KNOWLEDGE DROP for a draft: runner, timestamp, status, file with line count, sources, gap.
pub fn render_drop(
    part: &Part,
    text_lines: usize,
    sources: &[SourceRef],
    existing: &Existing,
    when: &str,
) -> String {
    let mut s = format!("# KNOWLEDGE DROP: {}\n\n", part.drop_slug());
    s.push_str(&format!("- **Runner**: PART {}\n", part.number));
    s.push_str(&format!("- **Timestamp**: {when}\n"));
    s.push_str("- **Status**: ✓ COMPLETE\n");
    s.push_str(&format!(
        "- **Knowledge file**: `{}` ({text_lines} lines)\n\n",
        part.target
    ));
    s.push_str("## Sources used\n\n");
    if sources.is_empty() {
        s.push_str("None: no source was found for this PART.\n");
    }
    for src in sources {
        s.push_str(&format!("- [{}] {} — {}\n", src.n, src.title, src.url));
    }
    s.push_str("\n## Gap filled\n\n");
    let sections: Vec<&str> = part.sections.iter().map(|s| s.title.as_str()).collect();
    let topic = part
        .expansion
        .as_ref()
        .map(|e| e.title.clone())
        .unwrap_or_else(|| "the knowledge base".to_string());
    s.push_str(&format!(
        "Adds `{}` to {topic}, covering: {}.\n",
        part.target,
        if sections.is_empty() {
            "the planned topic".to_string()
        } else {
            sections.join("; ")
        }
    ));
    if !existing.gaps.is_empty() {
        s.push_str(&format!(
            "Gap named by the plan: {}\n",
            existing.gaps.join("; ")
        ));
    }
    if existing.files.iter().any(|f| f.path != "INDEX.md") {
        let files: Vec<&str> = existing
            .files
            .iter()
            .filter(|f| f.path != "INDEX.md")
            .map(|f| f.path.as_str())
            .collect();
        s.push_str(&format!("Builds on: {}\n", files.join(", ")));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::research::Page;

    #[test]
    fn citations_are_found_but_not_links() {
        let t = "a [1] b [12][3] c [4](http://x) d [5]: e [x] [123456] out[0] `y[7]` [1]\n```\nz = a [8]\n```\n";
        assert_eq!(citations(t), [1, 12, 3, 1]);
        assert_eq!(cited(t).into_iter().collect::<Vec<_>>(), [1, 3, 12]);
    }

    #[test]
    fn sources_list_is_rendered_from_gathered_sources_only() {
        let src = |n: usize| Source {
            n,
            page: Page {
                url: format!("https://e.com/{n}"),
                title: format!("T{n}"),
                content: String::new(),
            },
        };
        let body = "# X\n\nfact [2] and [9]\n\n## Sources\n\n[9] https://made-up.example\n";
        let out = with_sources(body, &[src(1), src(2)]);
        assert!(
            out.ends_with("## Sources\n\n[2] T2 — https://e.com/2\n"),
            "{out}"
        );
        assert!(!out.contains("made-up"));
    }
}
