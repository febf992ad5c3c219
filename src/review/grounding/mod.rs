//! The grounding check: every cited sentence, list item and table row of a draft is a claim,
//! checked against the text of the source it cites, exactly as the runner fetched it. Pure
//! functions: the caller hands in the sources' texts.

use std::collections::BTreeMap;

use serde::Serialize;

mod claims;
mod evidence;
mod normalise;
mod numbers;
mod raw;
mod source;
mod tokens;
mod verdict;

pub use claims::{claims, plain, sentence_spans, sentences};

use evidence::Probe;
use source::Source;
use tokens::Vocab;
use verdict::judge;

/// How well a claim's cited source supports it.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The evidence holds the claim's words, numbers and names.
    Supported,
    /// Part of it is there; a person should look.
    Weak,
    /// The cited source does not say it (or was never gathered).
    Unsupported,
    /// A factual sentence in a section that must cite, citing nothing.
    Uncited,
}

impl Verdict {
    /// The verdict's name as JSON and the CLI print it.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Supported => "supported",
            Verdict::Weak => "weak",
            Verdict::Unsupported => "unsupported",
            Verdict::Uncited => "uncited",
        }
    }

    /// A gutter glyph that reads without colour.
    pub fn glyph(self) -> &'static str {
        match self {
            Verdict::Supported => "✓",
            Verdict::Weak => "~",
            Verdict::Unsupported => "✗",
            Verdict::Uncited => "?",
        }
    }
}

/// The best evidence found for a claim.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Evidence {
    /// The source's number.
    pub source: usize,
    /// The sentence(s) of the source.
    pub text: String,
}

/// One claim of a draft and its verdict.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Claim {
    /// The planned section it sits in (the nearest `## ` heading), if any.
    pub section: Option<String>,
    /// 1-based line of the draft where it starts.
    pub line: usize,
    /// The claim's text, citations removed.
    pub text: String,
    /// The source numbers it cites (inherited from its paragraph, list or table when it
    /// carries none of its own).
    pub cites: Vec<usize>,
    /// The verdict.
    pub verdict: Verdict,
    /// The best evidence in the cited sources, if any was found.
    pub evidence: Option<Evidence>,
    /// Why it is not supported, in words (`[4] was never gathered`, `the source never gives
    /// 1.13`, `found in [3] instead`); None when it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A claim before it is judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawClaim {
    /// The nearest `## ` heading above it.
    pub section: Option<String>,
    /// 1-based line.
    pub line: usize,
    /// The text, citations removed.
    pub text: String,
    /// Cited numbers.
    pub cites: Vec<usize>,
}

/// Judge every claim against the texts of the sources (number -> text as fetched). Each source
/// is prepared once for all claims; a claim citing several is judged against each and the best
/// verdict wins. A citation of a number not among them is unsupported; a claim its cited source
/// does not support but another gathered source does is unsupported and says where it is.
pub fn check(raw: Vec<RawClaim>, sources: &BTreeMap<usize, String>) -> Vec<Claim> {
    let mut vocab = Vocab::default();
    let prepared: BTreeMap<usize, Source> = sources
        .iter()
        .map(|(n, t)| (*n, Source::prepare(t, &mut vocab)))
        .collect();
    raw.into_iter()
        .map(|c| {
            let claim = |verdict, evidence, note| Claim {
                section: c.section.clone(),
                line: c.line,
                text: c.text.clone(),
                cites: c.cites.clone(),
                verdict,
                evidence,
                note,
            };
            if c.cites.is_empty() {
                return claim(Verdict::Uncited, None, Some("cites no source".into()));
            }
            let probe = Probe::new(&c.text, &mut vocab);
            let never: Vec<usize> = c
                .cites
                .iter()
                .copied()
                .filter(|n| !prepared.contains_key(n))
                .collect();
            let (verdict, evidence, mut note) = if never.is_empty() {
                // The first of the best (min_by_key keeps the first minimum).
                let best = c
                    .cites
                    .iter()
                    .filter_map(|n| prepared.get(n).map(|s| (*n, judge(&probe, s, &vocab))))
                    .min_by_key(|(_, j)| j.verdict);
                match best {
                    Some((n, j)) => (
                        j.verdict,
                        (!j.evidence.is_empty()).then_some(Evidence {
                            source: n,
                            text: j.evidence,
                        }),
                        (!j.reason.is_empty()).then_some(j.reason),
                    ),
                    None => (Verdict::Unsupported, None, None),
                }
            } else {
                let list: Vec<String> = never.iter().map(|n| format!("[{n}]")).collect();
                let were = if never.len() == 1 { "was" } else { "were" };
                (
                    Verdict::Unsupported,
                    None,
                    Some(format!("{} {were} never gathered", list.join(", "))),
                )
            };
            if verdict == Verdict::Unsupported {
                // Where it really is, if any gathered source supports it.
                let elsewhere = prepared
                    .iter()
                    .filter(|(n, _)| !c.cites.contains(n))
                    .find(|(_, s)| judge(&probe, s, &vocab).verdict == Verdict::Supported);
                if let Some((n, _)) = elsewhere {
                    note = Some(format!(
                        "{}found in [{n}] instead",
                        note.map(|n| format!("{n}; ")).unwrap_or_default()
                    ));
                }
            }
            claim(verdict, evidence, note)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judge_one(claim: &str, cites: Vec<usize>) -> Claim {
        let sources = BTreeMap::from([
            (
                1,
                "# FSDP\n\nFSDP became part of core PyTorch in version 1.11 (2022). It shards parameters, gradients and optimizer states across ranks.".to_string(),
            ),
            (
                2,
                "# ZeRO\n\nZeRO stage 3 partitions the parameters themselves and gathers them just in time for each layer.".to_string(),
            ),
        ]);
        check(
            vec![RawClaim {
                section: None,
                line: 1,
                text: claim.into(),
                cites,
            }],
            &sources,
        )
        .remove(0)
    }

    #[test]
    fn verdicts_on_hand_made_cases() {
        // Verbatim.
        let c = judge_one(
            "FSDP became part of core PyTorch in version 1.11 (2022).",
            vec![1],
        );
        assert_eq!(c.verdict, Verdict::Supported);
        assert_eq!(c.evidence.unwrap().source, 1);
        // A paraphrase keeping the numbers.
        let c = judge_one(
            "In 2022, version 1.11 of PyTorch made FSDP part of its core.",
            vec![1],
        );
        assert_eq!(c.verdict, Verdict::Supported, "{c:?}");
        // A number not in the source.
        let c = judge_one(
            "FSDP became part of core PyTorch in version 1.13 (2022).",
            vec![1],
        );
        assert_ne!(c.verdict, Verdict::Supported);
        assert!(c.note.unwrap().contains("1.13"));
        // The wrong source number: the words are in [2].
        let c = judge_one(
            "ZeRO stage 3 partitions the parameters themselves.",
            vec![1],
        );
        assert_eq!(c.verdict, Verdict::Unsupported);
        assert!(c.note.unwrap().contains("found in [2] instead"));
        // A source never gathered.
        let c = judge_one(
            "ZeRO stage 3 partitions the parameters themselves.",
            vec![7],
        );
        assert_eq!(c.verdict, Verdict::Unsupported);
        assert!(c.note.unwrap().contains("[7] was never gathered"));
    }

    /// A claim's verdict and note against one source.
    pub(super) fn one(claim: &str, source: &str) -> (Verdict, String) {
        let c = check(
            vec![RawClaim {
                section: None,
                line: 1,
                text: claim.into(),
                cites: vec![1],
            }],
            &BTreeMap::from([(1, source.to_string())]),
        )
        .remove(0);
        (c.verdict, c.note.unwrap_or_default())
    }

    fn supported(claim: &str, source: &str) {
        assert_eq!(
            one(claim, source),
            (Verdict::Supported, String::new()),
            "{claim}"
        );
    }

    #[test]
    fn dashes_in_year_ranges_are_one_form() {
        supported(
            "The club won the 2018–19 league title.",
            "The club won the 2018-2019 league title.",
        );
    }

    #[test]
    fn number_words_are_digits() {
        supported(
            "The club won three league titles.",
            "The club won 3 league titles.",
        );
        supported(
            "He scored twenty-five goals for the club.",
            "He scored 25 goals for the club.",
        );
    }

    #[test]
    fn thousands_and_scales_are_one_number() {
        supported(
            "The school has 1,200 students.",
            "The school has 1200 students.",
        );
        supported(
            "The city has 1.5 million residents.",
            "The city has 1,500,000 residents.",
        );
    }

    #[test]
    fn possessives_plurals_and_hyphens_are_one_form() {
        supported(
            "The Presidents' Cup was held in Ohio.",
            "The President's Cup was held in Ohio.",
        );
        supported(
            "African-Americans voted in large numbers.",
            "African Americans voted in large numbers.",
        );
    }

    #[test]
    fn contractions_are_negations() {
        supported(
            "The drug is not approved in Europe.",
            "The drug isn't approved in Europe.",
        );
        let (v, note) = one(
            "The drug isn't approved in Europe.",
            "The drug is approved in Europe.",
        );
        assert_eq!(v, Verdict::Unsupported);
        assert!(
            note.starts_with("the claim says \"not approved\""),
            "{note}"
        );
    }

    #[test]
    fn iso_dates_and_dotted_acronyms_are_one_form() {
        supported(
            "The article was published on 25 August 2016.",
            "(meta data) PUBLISHED DATETIME: 2016-08-25 14:49\nThe article was published online.",
        );
        supported(
            "The U.S. Senate passed the bill.",
            "The US Senate passed the bill.",
        );
    }
}
