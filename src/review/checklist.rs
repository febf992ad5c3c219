//! The checklist beside every diff: each planned section filled (a placeholder is not content)
//! and near its budget, citations resolving, length, overlap with the base, and how many claims
//! their sources support. Every failing item says why; clean means nothing failed.

use std::collections::{BTreeSet, HashSet};

use serde::Serialize;

use super::grounding::{Claim, Verdict};
use crate::draft::{citations, cited, is_placeholder};
use crate::plan::Part;
use crate::words::plural;

/// Share of claims that must be supported (✓) or undecided (~) for a draft to be clean; a
/// single ✗ (a named conflict or absence) is never clean.
pub const MIN_SUPPORTED: f64 = 0.9;
/// Share of the planned length a clean draft reaches at least.
pub const MIN_LENGTH: f64 = 0.6;

/// How an item of the checklist stands.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Mark {
    /// Fine.
    Ok,
    /// Worth a look; does not stop a clean approval.
    Warn,
    /// Fails the checklist.
    Fail,
}

/// One planned section and what the draft has for it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SectionCheck {
    /// The planned title.
    pub title: String,
    /// Whether a heading for it exists.
    pub present: bool,
    /// Whether it has content beyond a placeholder.
    pub filled: bool,
    /// It holds the Missing placeholder.
    pub placeholder: bool,
    /// Lines under its heading.
    pub lines: usize,
    /// The planned budget.
    pub budget: Option<u32>,
    /// Claims in it.
    pub claims: usize,
    /// Claims its sources support (✓).
    pub supported: usize,
    /// Claims the check cannot decide (~).
    #[serde(default)]
    pub weak: usize,
    /// Claims with a named conflict or absence (✗), or citing no source (?).
    #[serde(default)]
    pub unsupported: usize,
    /// How it stands.
    pub mark: Mark,
    /// Why, when it is not Ok.
    pub why: Option<String>,
}

/// The draft measured against the plan's spec.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Checklist {
    /// Each planned section.
    pub sections: Vec<SectionCheck>,
    /// `## ` headings that match no planned section.
    pub unplanned: Vec<String>,
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
    /// Numbers cited that are not among the sources gathered for the PART.
    pub not_gathered: Vec<usize>,
    /// Share of the draft's paragraphs already in the base (0..1).
    pub overlap: f64,
    /// Claims checked against their sources.
    pub claims: usize,
    /// Of those, supported (✓).
    pub supported: usize,
    /// Of those, undecided (~).
    pub weak: usize,
    /// Of those, with a named conflict or absence (✗), or citing nothing (?).
    pub unsupported: usize,
    /// Placeholders anywhere in the file.
    pub placeholders: usize,
    /// Lines of the existing file (the one the draft grows) that the draft removes or changes.
    pub removed: Vec<ExistingLine>,
    /// Lines the existing file had (0: the draft makes a new file).
    pub existing_lines: usize,
    /// The sites the Sources list draws on, most used first.
    pub sites: Vec<SiteCount>,
}

/// One site of the Sources list and the entries from it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SiteCount {
    /// The host (`arxiv.org`), or "your corpus" for the local documents.
    pub site: String,
    /// The source numbers from it.
    pub sources: Vec<usize>,
}

/// The site of one Sources entry (`[3] Title — https://arxiv.org/abs/1`), if it names an address.
fn entry_site(line: &str) -> Option<String> {
    let word = line
        .split_whitespace()
        .find(|w| w.contains("://"))?
        .trim_end_matches(['.', ',', ')', '>']);
    if word.starts_with("corpus://") {
        return Some("your corpus".into());
    }
    crate::sources::host(word)
}

/// A line of the existing file.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ExistingLine {
    /// 1-based line in the file on disk.
    pub line: usize,
    /// Its text.
    pub text: String,
}

impl Checklist {
    /// Why the draft is not clean; empty when it is (what `run --approve-all` may approve).
    pub fn reasons(&self) -> Vec<String> {
        let mut out = Vec::new();
        if !self.removed.is_empty() {
            out.push(self.removed_line());
        }
        for s in &self.sections {
            if s.mark == Mark::Fail {
                out.push(format!(
                    "\"{}\": {}",
                    s.title,
                    s.why.clone().unwrap_or_default()
                ));
            }
        }
        if self.placeholders > 0 && self.sections.iter().all(|s| !s.placeholder) {
            out.push(format!(
                "{} in the file",
                plural(self.placeholders, "Missing placeholder")
            ));
        }
        if !self.cited_not_listed.is_empty() {
            out.push(format!(
                "cited but not in Sources: {}",
                numbers(&self.cited_not_listed)
            ));
        }
        if !self.not_gathered.is_empty() {
            out.push(format!(
                "cites sources never gathered: {}",
                numbers(&self.not_gathered)
            ));
        }
        if self.citations == 0 {
            out.push("cites no source".into());
        }
        if let Some(e) = self.expected
            && (self.lines as f64) < e as f64 * MIN_LENGTH
        {
            out.push(format!(
                "{} of the planned {e} ({:.0}%; at least {:.0}% needed)",
                plural(self.lines, "line"),
                self.lines as f64 * 100.0 / e.max(1) as f64,
                MIN_LENGTH * 100.0
            ));
        }
        if self.overlap >= 0.5 {
            out.push(format!(
                "{:.0}% of its paragraphs are already in the base",
                self.overlap * 100.0
            ));
        }
        if self.unsupported > 0 {
            out.push(format!(
                "{} a source contradicts, never gives or was not cited for (✗)",
                plural(self.unsupported, "claim")
            ));
        }
        if self.claims > 0
            && ((self.supported + self.weak) as f64) < self.claims as f64 * MIN_SUPPORTED
        {
            out.push(format!(
                "{} of {} claims supported or undecided (at least {:.0}% needed)",
                self.supported + self.weak,
                self.claims,
                MIN_SUPPORTED * 100.0
            ));
        }
        out
    }

    /// `removes or changes 2 lines of the existing file (line 3: "…", line 9: "…")`.
    pub fn removed_line(&self) -> String {
        let shown: Vec<String> = self
            .removed
            .iter()
            .take(3)
            .map(|l| {
                format!(
                    "line {}: \"{}\"",
                    l.line,
                    crate::words::shorten(&l.text, 60)
                )
            })
            .collect();
        format!(
            "removes or changes {} of the existing file ({}{})",
            plural(self.removed.len(), "line"),
            shown.join(", "),
            if self.removed.len() > 3 { ", …" } else { "" }
        )
    }

    /// Whether `run --approve-all` may approve it unattended.
    pub fn is_clean(&self) -> bool {
        self.reasons().is_empty()
    }

    /// Sections present and filled.
    pub fn filled(&self) -> usize {
        self.sections.iter().filter(|s| s.filled).count()
    }

    /// One line: `4/5 sections filled, 486/500 lines, 14 citations, 128 claims: 120 ✓ 8 ~ 0 ✗ (94% ✓)`.
    pub fn summary(&self) -> String {
        let lines = match self.expected {
            Some(e) => format!("{}/{} lines", self.lines, e),
            None => plural(self.lines, "line"),
        };
        let mut s = format!(
            "{}/{} sections filled, {lines}, {}",
            self.filled(),
            self.sections.len(),
            plural(self.citations, "citation")
        );
        if self.claims > 0 {
            s.push_str(&format!(
                ", {} claims: {} ✓ {} ~ {} ✗ ({:.0}% ✓)",
                self.claims,
                self.supported,
                self.weak,
                self.unsupported,
                self.supported as f64 * 100.0 / self.claims as f64
            ));
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

fn numbers(ns: &[usize]) -> String {
    ns.iter()
        .map(|n| format!("[{n}]"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Measure `text` against `part`'s spec. `original` is the file on disk the draft grows (None:
/// a new file): none of its lines may go, and only the draft's own lines are held to the rules
/// on citations and repetition. `base` is the text of the other files the checks found;
/// `gathered` the numbers of the sources the runner gathered (None: unknown, not checked);
/// `claims` the grounding check's verdicts.
pub fn checklist(
    part: &Part,
    text: &str,
    original: Option<&str>,
    base: &[String],
    gathered: Option<&BTreeSet<usize>>,
    claims: &[Claim],
) -> Checklist {
    let (body, sources_block) = split_sources(text);
    let body_lines: Vec<&str> = body.lines().collect();
    // (0-based line, title) of each `## ` heading outside code.
    let headings: Vec<(usize, &str)> = crate::markdown::headings(body)
        .into_iter()
        .filter(|h| h.level == 2)
        .map(|h| (h.line - 1, h.title))
        .collect();
    let mut matched: HashSet<usize> = HashSet::new();
    let sections: Vec<SectionCheck> = part
        .sections
        .iter()
        .enumerate()
        .map(|(k, s)| {
            let want = s.title.to_lowercase();
            let prefix = format!("section {}:", k + 1);
            let found = headings.iter().position(|(_, h)| {
                let l = h.to_lowercase();
                l.starts_with(&prefix)
                    || l.trim_end().ends_with(&want)
                    || crate::knowledge::coverage::names(h, &s.title)
            });
            if let Some(i) = found {
                matched.insert(i);
            }
            let (lines, content, placeholder) = match found {
                Some(i) => {
                    let start = headings[i].0;
                    let end = headings.get(i + 1).map_or(body_lines.len(), |h| h.0);
                    let under = &body_lines[start + 1..end];
                    let placeholder = under.iter().any(|l| is_placeholder(l));
                    let content = under
                        .iter()
                        .filter(|l| !l.trim().is_empty() && !is_placeholder(l))
                        .count();
                    // A placeholder's wrapped lines continue the quote.
                    let content = if placeholder {
                        under
                            .iter()
                            .filter(|l| {
                                let t = l.trim();
                                !t.is_empty() && !t.starts_with('>')
                            })
                            .count()
                    } else {
                        content
                    };
                    // From its first to its last line of text, blank lines between blocks included.
                    let first = under.iter().position(|l| !l.trim().is_empty());
                    let last = under.iter().rposition(|l| !l.trim().is_empty());
                    let lines = match (first, last) {
                        (Some(a), Some(b)) => b - a + 1,
                        _ => 0,
                    };
                    (lines, content, placeholder)
                }
                None => (0, 0, false),
            };
            let in_section: Vec<&Claim> = claims
                .iter()
                .filter(|c| {
                    c.section
                        .as_deref()
                        .is_some_and(|t| t.eq_ignore_ascii_case(&s.title))
                })
                .collect();
            let supported = in_section
                .iter()
                .filter(|c| c.verdict == Verdict::Supported)
                .count();
            let weak = in_section
                .iter()
                .filter(|c| c.verdict == Verdict::Weak)
                .count();
            let unsupported = in_section.len() - supported - weak;
            let filled = found.is_some() && content > 0;
            let (mark, why) = if found.is_none() {
                (Mark::Fail, Some("no heading for it".to_string()))
            } else if placeholder && content == 0 {
                (
                    Mark::Fail,
                    Some("only the Missing placeholder: no source covered it".to_string()),
                )
            } else if placeholder {
                (Mark::Fail, Some("holds a Missing placeholder".to_string()))
            } else if !filled {
                (Mark::Fail, Some("empty".to_string()))
            } else if let Some(b) = s.lines
                && lines * 2 < b as usize
            {
                (
                    Mark::Fail,
                    Some(format!("{lines} of its {b} lines (under half)")),
                )
            } else if let Some(b) = s.lines
                && (lines as f64) < b as f64 * 0.8
            {
                (Mark::Warn, Some(format!("{lines} of its {b} lines")))
            } else if unsupported > 0 {
                (
                    Mark::Warn,
                    Some(format!(
                        "{supported} ✓ {weak} ~ {unsupported} ✗ of {} claims",
                        in_section.len()
                    )),
                )
            } else {
                (Mark::Ok, None)
            };
            SectionCheck {
                title: s.title.clone(),
                present: found.is_some(),
                filled,
                placeholder,
                lines,
                budget: s.lines,
                claims: in_section.len(),
                supported,
                weak,
                unsupported,
                mark,
                why,
            }
        })
        .collect();
    let unplanned: Vec<String> = headings
        .iter()
        .enumerate()
        .filter(|(i, _)| !matched.contains(i))
        .map(|(_, (_, h))| h.to_string())
        .collect();
    let changes = original.map(|o| super::diff::line_changes(o, text));
    // The draft's own lines: a person's citations and paragraphs are theirs, not the run's.
    let own: String = match &changes {
        Some(c) => body
            .lines()
            .enumerate()
            .filter(|(i, _)| c.inserted.contains(&(i + 1)))
            .map(|(_, l)| format!("{l}\n"))
            .collect(),
        None => body.to_string(),
    };
    let used = cited(body);
    // Occurrences, not distinct numbers: "14 citations" counts every [n] in the text.
    let citations = citations(body).len();
    let entries: Vec<(usize, &str)> = sources_block
        .lines()
        .filter_map(|l| {
            let l = l.trim_start_matches("- ");
            let inner = l.strip_prefix('[')?;
            let end = inner.find(']')?;
            Some((inner[..end].parse().ok()?, &inner[end..]))
        })
        .collect();
    let listed: BTreeSet<usize> = entries.iter().map(|(n, _)| *n).collect();
    let mut sites: Vec<SiteCount> = Vec::new();
    for (n, rest) in &entries {
        let Some(site) = entry_site(rest) else {
            continue;
        };
        match sites.iter_mut().find(|s| s.site == site) {
            Some(s) => s.sources.push(*n),
            None => sites.push(SiteCount {
                site,
                sources: vec![*n],
            }),
        }
    }
    sites.sort_by_key(|s| std::cmp::Reverse(s.sources.len()));
    Checklist {
        sections,
        unplanned,
        lines: text.lines().count(),
        expected: part.expected_lines,
        citations,
        sources: listed.len(),
        cited_not_listed: used.difference(&listed).copied().collect(),
        listed_not_cited: listed.difference(&used).copied().collect(),
        not_gathered: gathered
            .map_or_else(Vec::new, |g| cited(&own).difference(g).copied().collect()),
        overlap: overlap(&own, base),
        claims: claims.len(),
        supported: claims
            .iter()
            .filter(|c| c.verdict == Verdict::Supported)
            .count(),
        weak: claims.iter().filter(|c| c.verdict == Verdict::Weak).count(),
        unsupported: claims
            .iter()
            .filter(|c| matches!(c.verdict, Verdict::Unsupported | Verdict::Uncited))
            .count(),
        placeholders: body.lines().filter(|l| is_placeholder(l)).count(),
        removed: changes
            .map(|c| {
                c.removed
                    .into_iter()
                    .map(|(line, text)| ExistingLine { line, text })
                    .collect()
            })
            .unwrap_or_default(),
        existing_lines: original.map_or(0, |o| o.lines().count()),
        sites,
    }
}

/// The text before `## Sources` and the Sources block itself.
fn split_sources(text: &str) -> (&str, &str) {
    match crate::markdown::headings(text)
        .into_iter()
        .find(|h| h.level == 2 && h.title == "Sources")
    {
        Some(h) => (&text[..h.range.start], &text[h.range.end..]),
        None => (text, ""),
    }
}

/// Share of the body's paragraphs whose 5-grams are mostly (80%+) in the base already.
fn overlap(body: &str, base: &[String]) -> f64 {
    if base.is_empty() {
        return 0.0;
    }
    let base_shingles: HashSet<String> = base
        .iter()
        .flat_map(|b| crate::terms::shingles(b))
        .collect();
    let paragraphs: Vec<HashSet<String>> = crate::markdown::blocks(body)
        .into_iter()
        .filter(|b| !matches!(b.kind, crate::markdown::Kind::Heading(_)))
        .map(|b| crate::terms::shingles(b.text))
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
    use crate::review::grounding;

    fn part() -> Part {
        Plan::parse("### PART 1: Create a.md (~20 lines)\n- [ ] PART 1: Create a.md\n- [ ] Section 1: Overview (~8 lines)\n- [ ] Section 2: Stages (~8 lines)\n- [ ] Section 3: Tuning (~4 lines)\n").parts.remove(0)
    }

    fn check(text: &str) -> Checklist {
        let sources = std::collections::BTreeMap::from([
            (1, "ZeRO removes redundant copies of model state across ranks. It is used widely in practice today for training.".to_string()),
            (2, "It is used widely in practice today for training runs.".to_string()),
        ]);
        let claims = grounding::check(grounding::claims(text, false), &sources);
        checklist(
            &part(),
            text,
            None,
            &[],
            Some(&BTreeSet::from([1, 2])),
            &claims,
        )
    }

    const DRAFT: &str = "# A\n\n## Section 1: Overview\n\nZeRO removes redundant copies of model state across ranks. [1]\n\nIt is used widely in practice today for training. [2][1]\n\n## Section 2: Stages\n\n> **Missing:** none of the gathered sources covers \"Stages\".\n\n## Extra notes\n\nSomething unplanned. [1]\n\n## Sources\n\n[1] One — https://a\n[2] Two — https://b\n[3] Three — https://c\n";

    #[test]
    fn the_sites_of_the_sources_are_counted() {
        let text = "# A\n\n## Section 1: Overview\n\nZeRO. [1]\n\n## Sources\n\n[1] A — https://www.arxiv.org/abs/1\n[2] B — https://github.com/x\n[3] C — https://arxiv.org/abs/2.\n[4] D — corpus://zero.md\n[5] E\n";
        let c = check(text);
        let sites: Vec<(&str, Vec<usize>)> = c
            .sites
            .iter()
            .map(|s| (s.site.as_str(), s.sources.clone()))
            .collect();
        assert_eq!(
            sites,
            [
                ("arxiv.org", vec![1, 3]),
                ("github.com", vec![2]),
                ("your corpus", vec![4])
            ]
        );
    }

    #[test]
    fn a_placeholder_is_never_content_and_every_failure_says_why() {
        let c = check(DRAFT);
        assert!(c.sections[0].filled);
        assert!(!c.sections[1].filled, "a Missing note is not content");
        assert_eq!(c.sections[1].mark, Mark::Fail);
        assert!(!c.sections[2].present);
        assert_eq!(c.unplanned, ["Extra notes"]);
        assert_eq!(c.listed_not_cited, [3]);
        let reasons = c.reasons().join("\n");
        assert!(
            reasons.contains("\"Stages\": only the Missing placeholder"),
            "{reasons}"
        );
        assert!(
            reasons.contains("\"Tuning\": no heading for it"),
            "{reasons}"
        );
        assert!(!c.is_clean());
        assert_eq!(c.filled(), 1);
    }

    #[test]
    fn a_placeholder_only_draft_with_no_sources_is_not_clean() {
        let text = "# A\n\n## Section 1: Overview\n\n> **Missing:** nothing.\n\n## Section 2: Stages\n\n> **Missing:** nothing.\n\n## Section 3: Tuning\n\n> **Missing:** nothing.\n\n## Sources\n\nNo source was cited.\n";
        let c = check(text);
        assert_eq!(c.filled(), 0);
        assert!(
            c.summary().starts_with("0/3 sections filled"),
            "{}",
            c.summary()
        );
        assert!(c.reasons().len() >= 4, "{:?}", c.reasons());
    }

    #[test]
    fn short_and_long_sections_and_cites_of_sources_never_gathered() {
        let filler =
            |n: usize| "ZeRO removes redundant copies of model state across ranks. [1]\n".repeat(n);
        let text = format!(
            "# A\n\n## Section 1: Overview\n\n{}\n## Section 2: Stages\n\n{}\n## Section 3: Tuning\n\n{}\n## Sources\n\n[1] a — b\n[9] c — d\n",
            filler(3),
            filler(7),
            filler(9) + "Made up [9].\nAlso invented here [9].\n"
        );
        let c = check(&text);
        assert_eq!(c.sections[0].mark, Mark::Fail, "3 of 8 lines is under half");
        assert_eq!(c.sections[1].mark, Mark::Ok, "7 of 8 lines");
        assert_eq!(
            c.sections[2].mark,
            Mark::Warn,
            "over budget is not a failure; two claims are unsupported"
        );
        assert_eq!(c.not_gathered, [9]);
        assert!(
            c.reasons()
                .iter()
                .any(|r| r.contains("never gathered: [9]"))
        );
    }

    #[test]
    fn a_clean_draft() {
        let body = "ZeRO removes redundant copies of model state across ranks. [1]\n".repeat(8);
        let text = format!(
            "# A\n\n## Section 1: Overview\n\n{body}\n## Section 2: Stages\n\n{body}\n## Section 3: Tuning\n\n{body}\n## Sources\n\n[1] x — y\n"
        );
        let c = check(&text);
        assert!(c.is_clean(), "{:?}", c.reasons());
        assert_eq!(c.sections[0].supported, 8);
    }

    #[test]
    fn overlap_counts_paragraphs_already_in_the_base() {
        let base = vec![
            "Notes. ZeRO removes redundant copies of model state across ranks. More.".to_string(),
        ];
        let c = checklist(&part(), DRAFT, None, &base, None, &[]);
        assert!((c.overlap - 1.0 / 3.0).abs() < 1e-9, "{}", c.overlap);
    }

    #[test]
    fn undecided_claims_are_clean_and_one_conflict_is_not() {
        let body = "ZeRO removes redundant copies of model state across ranks. [1]\n".repeat(8);
        let text = format!(
            "# A\n\n## Section 1: Overview\n\n{body}\n## Section 2: Stages\n\n{body}\n## Section 3: Tuning\n\n{body}\n## Sources\n\n[1] x — y\n"
        );
        let claim = |line: usize, verdict: Verdict| Claim {
            section: Some("Overview".into()),
            line,
            text: "ZeRO removes redundant copies of model state across ranks.".into(),
            cites: vec![1],
            verdict,
            evidence: None,
            note: None,
        };
        let weak: Vec<Claim> = (0..10).map(|i| claim(i, Verdict::Weak)).collect();
        let c = checklist(&part(), &text, None, &[], Some(&BTreeSet::from([1])), &weak);
        assert!(
            c.is_clean(),
            "~ means the check cannot tell: {:?}",
            c.reasons()
        );
        assert!(
            c.summary().contains("10 claims: 0 ✓ 10 ~ 0 ✗ (0% ✓)"),
            "{}",
            c.summary()
        );
        let mut one_conflict = weak.clone();
        one_conflict[3].verdict = Verdict::Unsupported;
        let c = checklist(
            &part(),
            &text,
            None,
            &[],
            Some(&BTreeSet::from([1])),
            &one_conflict,
        );
        assert!(!c.is_clean());
        assert!(
            c.reasons()
                .iter()
                .any(|r| r.starts_with("1 claim a source contradicts")),
            "{:?}",
            c.reasons()
        );
        assert_eq!((c.sections[0].weak, c.sections[0].unsupported), (9, 1));
    }
}
