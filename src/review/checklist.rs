//! The checklist beside every diff: sections, line budgets, citations and overlap with the base.

use std::collections::{BTreeSet, HashSet};

use serde::Serialize;

use crate::draft::{citations, cited};
use crate::plan::Part;

/// One planned section and what the draft has for it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SectionCheck {
    /// The planned title.
    pub title: String,
    /// Whether a heading for it exists.
    pub present: bool,
    /// Whether it has content (not only a "Missing" note).
    pub filled: bool,
    /// Lines under its heading.
    pub lines: usize,
    /// The planned budget.
    pub budget: Option<u32>,
}

/// The draft measured against the plan's spec.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Checklist {
    /// Each planned section.
    pub sections: Vec<SectionCheck>,
    /// Lines of the whole file.
    pub lines: usize,
    /// The plan's `~N lines`.
    pub expected: Option<u32>,
    /// `[n]` citations in the text (occurrences, outside the Sources list).
    pub citations: usize,
    /// Entries in the Sources list.
    pub sources: usize,
    /// Numbers cited but not in Sources.
    pub cited_not_listed: Vec<usize>,
    /// Numbers in Sources but never cited.
    pub listed_not_cited: Vec<usize>,
    /// Share of the draft's paragraphs already in the base (0..1).
    pub overlap: f64,
}

/// A draft is clean when every section is present and filled, every citation resolves, it cites
/// something, it is at least half its planned length, and under half of it repeats the base.
impl Checklist {
    /// Whether `run --approve-all` may approve it unattended.
    pub fn is_clean(&self) -> bool {
        self.sections.iter().all(|s| s.present && s.filled)
            && self.cited_not_listed.is_empty()
            && self.listed_not_cited.is_empty()
            && self.citations > 0
            && self.expected.is_none_or(|e| self.lines * 2 >= e as usize)
            && self.overlap < 0.5
    }

    /// Sections present.
    pub fn present(&self) -> usize {
        self.sections.iter().filter(|s| s.present).count()
    }

    /// One line: `5/5 sections, 486/500 lines, 14 citations, 0 dangling`.
    pub fn summary(&self) -> String {
        let lines = match self.expected {
            Some(e) => format!("{}/{} lines", self.lines, e),
            None => format!("{} lines", self.lines),
        };
        let mut s = format!(
            "{}/{} sections, {lines}, {} citations, {} dangling",
            self.present(),
            self.sections.len(),
            self.citations,
            self.cited_not_listed.len() + self.listed_not_cited.len()
        );
        let empty = self
            .sections
            .iter()
            .filter(|s| s.present && !s.filled)
            .count();
        if empty > 0 {
            s.push_str(&format!(", {empty} without content"));
        }
        if self.overlap > 0.0 {
            s.push_str(&format!(
                ", {:.0}% already in the base",
                self.overlap * 100.0
            ));
        }
        s
    }
}

/// Measure `text` against `part`'s spec; `base` is the text of the existing files the checks found.
pub fn checklist(part: &Part, text: &str, base: &[String]) -> Checklist {
    let (body, sources_block) = split_sources(text);
    let headings: Vec<(usize, &str)> = body
        .lines()
        .enumerate()
        .filter(|(_, l)| l.starts_with("## "))
        .collect();
    let total_body_lines = body.lines().count();
    let sections = part
        .sections
        .iter()
        .map(|s| {
            let want = s.title.to_lowercase();
            let found = headings
                .iter()
                .position(|(_, h)| h.to_lowercase().contains(&want));
            let (lines, filled) = match found {
                Some(i) => {
                    let start = headings[i].0;
                    let end = headings.get(i + 1).map_or(total_body_lines, |h| h.0);
                    let content: Vec<&str> = body
                        .lines()
                        .skip(start + 1)
                        .take(end - start - 1)
                        .filter(|l| !l.trim().is_empty())
                        .collect();
                    let filled = content
                        .iter()
                        .any(|l| !l.trim_start_matches("> ").starts_with("**Missing:**"));
                    (end - start, filled)
                }
                None => (0, false),
            };
            SectionCheck {
                title: s.title.clone(),
                present: found.is_some(),
                filled,
                lines,
                budget: s.lines,
            }
        })
        .collect();
    let used = cited(body);
    // Occurrences, not distinct numbers: "14 citations" counts every [n] in the text.
    let citations = citations(body).len();
    let listed: BTreeSet<usize> = sources_block
        .lines()
        .filter_map(|l| {
            let l = l.trim_start_matches("- ");
            let inner = l.strip_prefix('[')?;
            let end = inner.find(']')?;
            inner[..end].parse().ok()
        })
        .collect();
    Checklist {
        sections,
        lines: text.lines().count(),
        expected: part.expected_lines,
        citations,
        sources: listed.len(),
        cited_not_listed: used.difference(&listed).copied().collect(),
        listed_not_cited: listed.difference(&used).copied().collect(),
        overlap: overlap(body, base),
    }
}

/// The text before `## Sources` and the Sources block itself.
fn split_sources(text: &str) -> (&str, &str) {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if line.trim_end() == "## Sources" {
            return (&text[..offset], &text[offset + line.len()..]);
        }
        offset += line.len();
    }
    (text, "")
}

/// Word 5-grams of a text, lowercased.
fn shingles(text: &str) -> HashSet<String> {
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    words.windows(5).map(|w| w.join(" ")).collect()
}

/// Share of the body's paragraphs whose 5-grams are mostly (80%+) in the base already.
fn overlap(body: &str, base: &[String]) -> f64 {
    if base.is_empty() {
        return 0.0;
    }
    let base_shingles: HashSet<String> = base.iter().flat_map(|b| shingles(b)).collect();
    let paragraphs: Vec<HashSet<String>> = body
        .split("\n\n")
        .filter(|p| !p.trim_start().starts_with('#'))
        .map(shingles)
        .filter(|s| !s.is_empty())
        .collect();
    if paragraphs.is_empty() {
        return 0.0;
    }
    let repeated = paragraphs
        .iter()
        .filter(|p| p.iter().filter(|s| base_shingles.contains(*s)).count() * 5 >= p.len() * 4)
        .count();
    repeated as f64 / paragraphs.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Plan;

    fn part() -> Part {
        Plan::parse("### PART 1: Create a.md (~20 lines)\n- [ ] PART 1: Create a.md\n- [ ] Section 1: Overview (~8 lines)\n- [ ] Section 2: Stages (~8 lines)\n- [ ] Section 3: Tuning (~4 lines)\n").parts.remove(0)
    }

    const DRAFT: &str = "# A\n\n## Section 1: Overview\n\nZeRO removes redundant copies of model state across ranks. [1]\n\nIt is used widely in practice today for training. [2][1]\n\n## Section 2: Stages\n\n> **Missing:** none of the gathered sources covers \"Stages\".\n\n## Sources\n\n[1] One — https://a\n[2] Two — https://b\n[3] Three — https://c\n";

    #[test]
    fn sections_citations_and_dangling_numbers() {
        let c = checklist(&part(), DRAFT, &[]);
        assert_eq!(c.present(), 2);
        assert!(c.sections[0].filled);
        assert!(!c.sections[1].filled, "a Missing note is not content");
        assert!(!c.sections[2].present);
        assert_eq!(c.sections[0].lines, 6);
        assert_eq!(c.citations, 3);
        assert_eq!(c.sources, 3);
        assert_eq!(c.listed_not_cited, [3]);
        assert!(c.cited_not_listed.is_empty());
        assert_eq!(
            c.summary(),
            "2/3 sections, 17/20 lines, 3 citations, 1 dangling, 1 without content"
        );
        assert!(!c.is_clean());
    }

    #[test]
    fn cited_but_not_listed_and_clean() {
        let text = "# A\n\n## Section 1: Overview\n\nfact [4]\n\n## Sources\n\n[1] x — y\n";
        let c = checklist(&part(), text, &[]);
        assert_eq!(c.cited_not_listed, [4]);
        assert_eq!(c.listed_not_cited, [1]);

        let clean = "# A\n\n## Section 1: Overview\n\nOne fact here. [1]\n\n## Section 2: Stages\n\nTwo. [1]\n\n## Section 3: Tuning\n\nThree. [1]\n\n## Sources\n\n[1] x — y\n";
        assert!(checklist(&part(), clean, &[]).is_clean());
    }

    #[test]
    fn overlap_counts_paragraphs_already_in_the_base() {
        let base = vec![
            "Notes. ZeRO removes redundant copies of model state across ranks. More.".to_string(),
        ];
        let c = checklist(&part(), DRAFT, &base);
        assert!((c.overlap - 1.0 / 3.0).abs() < 1e-9, "{}", c.overlap);
        assert!(c.summary().ends_with("33% already in the base"));
    }
}
