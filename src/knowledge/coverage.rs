//! What the base already holds for each planned section: which headings of which files name it
//! and how much text they carry, so a PART adds what is missing instead of repeating what a
//! person wrote. Pure functions over texts already read.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::markdown;
use crate::plan::Section;

/// How much of a planned section the base already holds.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Coverage {
    /// Nothing in the base is about it.
    New,
    /// A heading of the base names it, with less text than the plan asks for.
    Extends,
    /// A heading of the base names it with about as much text as the plan asks for.
    Covered,
}

impl Coverage {
    /// The word a reviewer reads.
    pub fn word(self) -> &'static str {
        match self {
            Coverage::New => "new",
            Coverage::Extends => "extends existing text",
            Coverage::Covered => "already covered",
        }
    }
}

/// A heading of the base that covers a planned section.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct CoveredBy {
    /// The file, relative to the knowledge base.
    pub path: String,
    /// The heading's text.
    pub heading: String,
    /// Lines of text under it.
    pub lines: usize,
}

/// One planned section against the base.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SectionCoverage {
    /// The planned section's title.
    pub section: String,
    /// How much the base holds.
    pub status: Coverage,
    /// The headings that cover it, best first.
    pub found: Vec<CoveredBy>,
}

/// Share of a planned title's terms a heading must hold to name the same topic ...
const NAMES_IT: f64 = 0.6;
/// ... and share of the heading's terms that must be the title's ("Stages compared" does not
/// name "Choosing a stage").
const NAMED_BY: f64 = 0.5;
/// Share of the planned length under a heading that makes the section covered.
const COVERED_SHARE: f64 = 0.8;

/// A heading and the text under it (to the next heading of its level or above).
struct HeadingText<'a> {
    title: &'a str,
    lines: usize,
}

fn headings_with_text(text: &str) -> Vec<HeadingText<'_>> {
    let all = markdown::headings(text);
    all.iter()
        .enumerate()
        .filter(|(_, h)| h.level >= 2)
        .map(|(i, h)| {
            let end = all[i + 1..]
                .iter()
                .find(|n| n.level <= h.level)
                .map_or(text.len(), |n| n.range.start);
            let body = &text[h.range.end.min(end)..end];
            HeadingText {
                title: h.title,
                lines: body.lines().filter(|l| !l.trim().is_empty()).count(),
            }
        })
        .collect()
}

/// Share of `wanted`'s terms that `have` holds.
fn share(wanted: &HashSet<String>, have: &HashSet<String>) -> f64 {
    if wanted.is_empty() {
        return 0.0;
    }
    wanted.iter().filter(|t| have.contains(*t)).count() as f64 / wanted.len() as f64
}

/// The heading of a planned section's own form (`Section 2: Title`) reduced to its title.
pub fn bare_title(heading: &str) -> &str {
    match heading.split_once(": ") {
        Some((lead, rest))
            if lead.starts_with("Section ")
                && lead["Section ".len()..].chars().all(|c| c.is_ascii_digit()) =>
        {
            rest
        }
        _ => heading,
    }
}

/// Whether a heading names a planned section: its title's terms are mostly in the heading.
pub fn names(heading: &str, section_title: &str) -> bool {
    // "ZeRO-1, ZeRO-2, ZeRO-3 comparison" is about ZeRO and comparison; its numbers only list.
    let topic = |text: &str| -> HashSet<String> {
        crate::terms::terms(text)
            .into_iter()
            .filter(|t| !t.chars().all(|c| c.is_ascii_digit()))
            .collect()
    };
    let want = topic(section_title);
    let have = topic(bare_title(heading));
    if want.is_empty() {
        return bare_title(heading).eq_ignore_ascii_case(section_title.trim());
    }
    share(&want, &have) >= NAMES_IT && share(&have, &want) >= NAMED_BY
}

/// Each planned section against `files` (path, text): the headings naming it and how much they
/// hold. `budget_of` gives a section's planned lines.
pub fn coverage(
    sections: &[Section],
    files: &[(String, String)],
    budget_of: impl Fn(usize) -> usize,
) -> Vec<SectionCoverage> {
    let parsed: Vec<(&str, Vec<HeadingText>)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), headings_with_text(t)))
        .collect();
    sections
        .iter()
        .enumerate()
        .map(|(k, s)| {
            let mut found: Vec<CoveredBy> = parsed
                .iter()
                .flat_map(|(path, hs)| {
                    hs.iter()
                        .filter(|h| names(h.title, &s.title))
                        .map(|h| CoveredBy {
                            path: path.to_string(),
                            heading: h.title.to_string(),
                            lines: h.lines,
                        })
                })
                .collect();
            found.sort_by_key(|f| std::cmp::Reverse(f.lines));
            let most = found.first().map_or(0, |f| f.lines);
            let status = if found.is_empty() {
                Coverage::New
            } else if most as f64 >= budget_of(k) as f64 * COVERED_SHARE {
                Coverage::Covered
            } else {
                Coverage::Extends
            };
            SectionCoverage {
                section: s.title.clone(),
                status,
                found,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(title: &str) -> Section {
        Section {
            title: title.into(),
            hint: None,
            lines: Some(10),
        }
    }

    #[test]
    fn headings_that_name_a_section_are_found_with_their_size() {
        let notes = "# ZeRO stages (hand notes)\n\n## ZeRO stage comparison\n\nZeRO-2 gave 1.4x.\n\n## Pitfalls\n\nOffload is slow.\n";
        let long = format!(
            "# Memory\n\n## Memory optimization breakdown\n\n{}",
            "A line.\n".repeat(12)
        );
        let files = vec![
            ("zero.md".to_string(), notes.to_string()),
            ("mem.md".to_string(), long),
        ];
        let c = coverage(
            &[
                section("ZeRO-1, ZeRO-2, ZeRO-3 comparison"),
                section("Memory optimization breakdown"),
                section("Kubernetes scheduling"),
            ],
            &files,
            |_| 10,
        );
        assert_eq!(c[0].status, Coverage::Extends, "{c:?}");
        assert_eq!(c[0].found[0].path, "zero.md");
        assert_eq!(c[0].found[0].lines, 1);
        assert_eq!(c[1].status, Coverage::Covered);
        assert_eq!(c[2].status, Coverage::New);
        assert!(c[2].found.is_empty());
    }

    #[test]
    fn a_heading_in_code_covers_nothing() {
        let text = "# T\n\n```\n## Pitfalls\n```\n";
        let c = coverage(
            &[section("Pitfalls")],
            &[("a.md".into(), text.into())],
            |_| 10,
        );
        assert_eq!(c[0].status, Coverage::New);
    }

    #[test]
    fn expanse_headings_name_their_section() {
        assert!(names("Section 2: Pitfalls and fixes", "Pitfalls and fixes"));
        assert!(!names("Section 2: Pitfalls and fixes", "Installation"));
        assert!(!names("Stages compared", "Choosing a stage"));
        assert!(names(
            "ZeRO stage comparison",
            "ZeRO-1, ZeRO-2, ZeRO-3 comparison"
        ));
    }
}
