//! Splitting a markdown document into passages (paragraphs, lists, code, tables) under their headings.

use serde::{Deserialize, Serialize};

/// What kind of block a passage is; the writer cites each kind differently.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum PassageKind {
    /// Running text.
    Paragraph,
    /// A bullet or numbered list.
    List,
    /// A fenced code block.
    Code,
    /// A table.
    Table,
}

/// One block of a document.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Passage {
    /// The nearest heading above it ("" before the first).
    pub heading: String,
    /// The block's markdown.
    pub text: String,
    /// Its kind.
    pub kind: PassageKind,
}

/// Headings whose blocks are bibliography, not content.
fn is_reference_heading(h: &str) -> bool {
    let h = h.trim().to_ascii_lowercase();
    matches!(
        h.as_str(),
        "references" | "sources" | "further reading" | "bibliography" | "see also"
    )
}

/// The document's passages, in order; boilerplate (source notes, reference lists) left out.
pub fn passages(markdown: &str) -> Vec<Passage> {
    use crate::markdown::Kind;
    let mut out = Vec::new();
    let mut heading = String::new();
    let mut skipping = false;
    for block in crate::markdown::blocks(markdown) {
        let kind = match block.kind {
            Kind::Heading(_) => {
                heading = crate::markdown::heading_title(block.text).to_string();
                skipping = is_reference_heading(&heading);
                continue;
            }
            Kind::Rule => continue,
            Kind::Code => PassageKind::Code,
            Kind::Table => PassageKind::Table,
            Kind::List => PassageKind::List,
            Kind::Paragraph | Kind::Quote | Kind::Html | Kind::Other => PassageKind::Paragraph,
        };
        let text = block.text;
        let boilerplate = text
            .trim_start()
            .to_ascii_lowercase()
            .starts_with("source notes:");
        if skipping || boilerplate || (kind != PassageKind::Code && text.trim().len() < 40) {
            continue;
        }
        out.push(Passage {
            heading: heading.clone(),
            text: text.to_string(),
            kind,
        });
    }
    merge_lead_ins(out)
}

/// A paragraph ending in `:` introduces the list, code or table after it; alone it says nothing.
fn merge_lead_ins(passages: Vec<Passage>) -> Vec<Passage> {
    let mut out: Vec<Passage> = Vec::with_capacity(passages.len());
    for p in passages {
        if let Some(prev) = out.last_mut()
            && prev.kind == PassageKind::Paragraph
            && prev.text.trim_end().ends_with(':')
            && prev.heading == p.heading
            && p.kind != PassageKind::Paragraph
        {
            prev.text = format!("{}\n\n{}", prev.text.trim_end(), p.text);
            prev.kind = p.kind;
            continue;
        }
        out.push(p);
    }
    out
}

/// The document's title: its first `# ` heading outside fenced code (a shell comment in a
/// code block is not a title), a byte-order mark ignored.
pub fn title(markdown: &str) -> Option<String> {
    crate::markdown::title(markdown)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_title_is_a_heading_outside_code() {
        let md = "\u{feff}Setup notes\n\n```bash\n# install the toolchain\ncargo build\n```\n\n# Setup\n";
        assert_eq!(title(md).as_deref(), Some("Setup"));
        assert_eq!(
            title("\u{feff}# Real title\n").as_deref(),
            Some("Real title")
        );
        assert_eq!(title("~~~\n# not this\n~~~\n").as_deref(), None);
        assert_eq!(title("#nospace\n# \n# Yes\n").as_deref(), Some("Yes"));
    }

    #[test]
    fn blocks_headings_and_boilerplate() {
        let md = "# Doc\n\nSource notes: from the docs, written for the corpus.\n\n## Intro\n\n\
ZeRO removes redundancy across data-parallel ranks by partitioning state.\n\n\
- first item of a list that is long enough\n- second\n\n```python\nx = 1\n\ny = 2\n```\n\n\
## References\n\n- https://example.com/a-very-long-reference-url-here\n";
        let p = passages(md);
        assert_eq!(p.len(), 3, "{p:?}");
        assert_eq!(p[0].heading, "Intro");
        assert_eq!(p[0].kind, PassageKind::Paragraph);
        assert_eq!(p[1].kind, PassageKind::List);
        assert_eq!(p[2].kind, PassageKind::Code);
        assert!(
            p[2].text.contains("y = 2"),
            "a blank line inside code stays in the block"
        );
        assert_eq!(title(md).as_deref(), Some("Doc"));
    }

    #[test]
    fn a_lead_in_paragraph_stays_with_its_list() {
        let md = "## Stages\n\nZeRO is applied in three progressive stages, as follows:\n\n- stage one partitions optimizer states\n- stage two adds gradients\n";
        let p = passages(md);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].kind, PassageKind::List);
        assert!(p[0].text.starts_with("ZeRO is applied") && p[0].text.ends_with("adds gradients"));
    }
}
