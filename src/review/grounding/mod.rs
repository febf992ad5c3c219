//! The grounding check: every cited sentence, list item and table row of a draft is a claim,
//! checked against the text of the source it cites, exactly as the runner fetched it. Pure
//! functions: the caller hands in the sources' texts.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;

mod claims;

pub use claims::{claims, plain, sentence_spans, sentences};

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
    /// Why it is not supported, in words (`[4] was never gathered`, `the number 1.11 is not in
    /// the evidence`, `found in [3] instead`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A second opinion on claims the lexical check finds weak or unsupported (`[review] verify =
/// "model"`): whether an evidence passage supports a claim, and what asking cost.
pub trait SecondOpinion: Send + Sync {
    /// A name for the cache (the model).
    fn name(&self) -> &str;
    /// Whether `evidence` supports `claim`.
    fn supports(
        &self,
        claim: &str,
        evidence: &str,
    ) -> Result<(bool, Option<crate::state::Usage>), String>;
}

/// A shared second opinion, as run options carry it.
#[derive(Clone)]
pub struct Opinion(pub std::sync::Arc<dyn SecondOpinion>);

impl std::fmt::Debug for Opinion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Opinion({})", self.0.name())
    }
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

/// A text's content terms, through the one tokenizer.
fn content_words(text: &str) -> Vec<String> {
    crate::terms::terms(text)
}

/// The terms a claim's evidence must hold: numbers and versions (`1.11`, `3x`, `ZeRO-3`,
/// `v1.2`) and named terms (`FSDP`, `DeepSpeed`, `Megatron-LM`).
pub fn required_terms(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (k, raw) in text.split_whitespace().enumerate() {
        let w = raw.trim_matches(|c: char| !c.is_alphanumeric() && c != '.' && c != '-');
        let w = w.trim_end_matches(['.', '-']);
        if w.is_empty() {
            continue;
        }
        let has_digit = w.chars().any(|c| c.is_ascii_digit());
        let caps = w.chars().filter(|c| c.is_uppercase()).count();
        let inner_cap = w.chars().skip(1).any(char::is_uppercase);
        // The first word of a sentence is capitalised anyway; only inner capitals name it.
        let named = (caps >= 2 || inner_cap || (k > 0 && caps == 1 && w.chars().count() > 2))
            && w.chars().any(char::is_alphabetic);
        if has_digit || named {
            out.push(w.to_lowercase());
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Word ids shared by every source and claim of one check, so windows compare integers.
#[derive(Default)]
struct Vocab(HashMap<String, u32>);

impl Vocab {
    fn id(&mut self, word: String) -> u32 {
        let next = self.0.len() as u32;
        *self.0.entry(word).or_insert(next)
    }

    fn get(&self, word: &str) -> Option<u32> {
        self.0.get(word).copied()
    }
}

/// One window of a source: its text, lowercased, and its content words.
struct Window {
    text: String,
    lower: String,
    words: HashSet<u32>,
}

/// A source's text cut into sentence windows (a sentence with its neighbour), prepared once,
/// with the windows each word appears in so a claim only visits windows sharing a word.
struct Prepared {
    windows: Vec<Window>,
    postings: HashMap<u32, Vec<u32>>,
}

fn prepare(text: &str, vocab: &mut Vocab) -> Prepared {
    use crate::markdown::Kind;
    let mut sents: Vec<String> = Vec::new();
    for block in crate::markdown::blocks(text) {
        match block.kind {
            Kind::Code | Kind::Heading(_) => sents.push(block.text.to_string()),
            Kind::List | Kind::Table => sents.extend(block.items.iter().map(|i| i.text.clone())),
            _ => {
                for line in block.text.lines() {
                    sents.extend(sentences(line.trim()));
                }
            }
        }
    }
    let mut windows = Vec::new();
    let mut window = |text: String| {
        let words: HashSet<u32> = content_words(&text)
            .into_iter()
            .map(|w| vocab.id(w))
            .collect();
        Window {
            lower: text.to_lowercase(),
            text,
            words,
        }
    };
    for i in 0..sents.len() {
        let one = plain(&sents[i]);
        windows.push(window(one.clone()));
        if i + 1 < sents.len() {
            windows.push(window(format!("{one} {}", plain(&sents[i + 1]))));
        }
    }
    let mut postings: HashMap<u32, Vec<u32>> = HashMap::new();
    for (i, w) in windows.iter().enumerate() {
        for id in &w.words {
            postings.entry(*id).or_default().push(i as u32);
        }
    }
    Prepared { windows, postings }
}

/// A claim's words and required terms, looked up in the vocabulary once for all its sources.
struct Probe {
    /// Ids of the claim's distinct content words that occur in some source.
    known: Vec<u32>,
    /// Distinct content words in the claim, known or not (the coverage denominator).
    distinct: usize,
    /// Required terms, with their id when some source holds them as a word.
    required: Vec<(String, Option<u32>)>,
}

impl Probe {
    fn new(claim: &str, vocab: &Vocab) -> Self {
        let words: HashSet<String> = content_words(claim).into_iter().collect();
        Probe {
            known: words.iter().filter_map(|w| vocab.get(w)).collect(),
            distinct: words.len(),
            required: required_terms(claim)
                .into_iter()
                .map(|t| {
                    let id = vocab.get(&t);
                    (t, id)
                })
                .collect(),
        }
    }
}

/// How one source bears on one claim.
#[derive(Debug, Clone)]
struct Judgement {
    verdict: Verdict,
    evidence: Option<Evidence>,
    missing: Vec<String>,
}

/// Share of the claim's content words a window holds at least for `supported`.
const SUPPORTED: f64 = 0.6;
/// ... and for `weak`.
const WEAK: f64 = 0.35;

fn judge(probe: &Probe, n: usize, source: &Prepared) -> Judgement {
    if probe.distinct == 0 {
        return Judgement {
            verdict: Verdict::Supported,
            evidence: None,
            missing: Vec::new(),
        };
    }
    let holds = |w: &Window, (t, id): &(String, Option<u32>)| {
        id.is_some_and(|id| w.words.contains(&id)) || w.lower.contains(t.as_str())
    };
    // How many of the claim's words each window holds, counted from the postings.
    let mut hits = vec![0u32; source.windows.len()];
    for id in &probe.known {
        for &i in source
            .postings
            .get(id)
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            hits[i as usize] += 1;
        }
    }
    // The best window holds most of the claim's words and its numbers and names.
    let mut best: Option<(f64, f64, usize)> = None;
    for (i, &count) in hits.iter().enumerate() {
        if count == 0 {
            continue;
        }
        let w = &source.windows[i];
        let hit = f64::from(count) / probe.distinct as f64;
        let named = if probe.required.is_empty() {
            1.0
        } else {
            probe.required.iter().filter(|r| holds(w, r)).count() as f64
                / probe.required.len() as f64
        };
        let score = hit + 0.5 * named;
        // Prefer the shorter window on a tie (a sentence over a sentence pair).
        if best.is_none_or(|(b, _, _)| score > b + 1e-9) {
            best = Some((score, hit, i));
        }
    }
    let Some((_, coverage, i)) = best else {
        return Judgement {
            verdict: Verdict::Unsupported,
            evidence: None,
            missing: probe.required.iter().map(|(t, _)| t.clone()).collect(),
        };
    };
    let w = &source.windows[i];
    let missing: Vec<&(String, Option<u32>)> =
        probe.required.iter().filter(|r| !holds(w, r)).collect();
    let verdict = if coverage >= SUPPORTED && missing.is_empty() {
        Verdict::Supported
    } else if coverage >= WEAK
        && missing
            .iter()
            .all(|(_, id)| id.is_some_and(|id| source.postings.contains_key(&id)))
    {
        Verdict::Weak
    } else {
        Verdict::Unsupported
    };
    Judgement {
        verdict,
        evidence: (coverage > 0.0).then(|| Evidence {
            source: n,
            text: w.text.clone(),
        }),
        missing: missing.into_iter().map(|(t, _)| t.clone()).collect(),
    }
}

/// Judge every claim against the texts of the sources (number -> text as fetched). A citation
/// of a number not among them is unsupported; a claim its cited source does not support but
/// another gathered source does is unsupported and says where it is.
pub fn check(raw: Vec<RawClaim>, sources: &BTreeMap<usize, String>) -> Vec<Claim> {
    let mut vocab = Vocab::default();
    let prepared: BTreeMap<usize, Prepared> = sources
        .iter()
        .map(|(n, t)| (*n, prepare(t, &mut vocab)))
        .collect();
    raw.into_iter()
        .map(|c| {
            let probe = Probe::new(&c.text, &vocab);
            if c.cites.is_empty() {
                return Claim {
                    section: c.section,
                    line: c.line,
                    text: c.text,
                    cites: c.cites,
                    verdict: Verdict::Uncited,
                    evidence: None,
                    note: Some("cites no source".into()),
                };
            }
            let never: Vec<usize> = c
                .cites
                .iter()
                .copied()
                .filter(|n| !prepared.contains_key(n))
                .collect();
            let mut judged: Vec<Judgement> = c
                .cites
                .iter()
                .filter_map(|n| prepared.get(n).map(|p| judge(&probe, *n, p)))
                .collect();
            judged.sort_by_key(|j| j.verdict);
            let best = judged.into_iter().next();
            let (verdict, evidence, mut note) = match (best, never.is_empty()) {
                (_, false) => (
                    Verdict::Unsupported,
                    None,
                    Some(format!(
                        "{} never gathered",
                        never
                            .iter()
                            .map(|n| format!("[{n}]"))
                            .collect::<Vec<_>>()
                            .join(", ")
                            + if never.len() == 1 { " was" } else { " were" }
                    )),
                ),
                (Some(j), true) => {
                    let note = (!j.missing.is_empty())
                        .then(|| format!("not in the evidence: {}", j.missing.join(", ")));
                    (j.verdict, j.evidence, note)
                }
                (None, true) => (Verdict::Unsupported, None, None),
            };
            if verdict == Verdict::Unsupported {
                // Where it really is, if any gathered source supports it.
                let elsewhere = prepared
                    .iter()
                    .filter(|(n, _)| !c.cites.contains(n))
                    .map(|(n, p)| judge(&probe, *n, p))
                    .find(|j| j.verdict == Verdict::Supported);
                if let Some(j) = elsewhere
                    && let Some(e) = &j.evidence
                {
                    note = Some(format!(
                        "{}found in [{}] instead",
                        note.map(|n| format!("{n}; ")).unwrap_or_default(),
                        e.source
                    ));
                }
            }
            Claim {
                section: c.section,
                line: c.line,
                text: c.text,
                cites: c.cites,
                verdict,
                evidence,
                note,
            }
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
}
