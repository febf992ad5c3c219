//! The model's second opinion on the claims the lexical check doubts (`[review] verify =
//! "model"`): one request per section holding its doubtful claims with their evidence, the
//! answers cached per claim and evidence, the tokens journalled. The model must quote the span
//! of the evidence it relies on; a "supported" whose quote the evidence does not hold counts
//! for nothing. Pure prompt and parsing here; the request is the [`ModelJudge`]'s.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::grounding::{Claim, Verdict};
use crate::journal::Cache;
use crate::research::ResearchError;
use crate::state::Usage;

/// What the model says of one claim.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Judgement {
    /// The evidence states it.
    Supported,
    /// The evidence does not say it.
    NotSupported,
    /// The evidence says otherwise.
    Contradicted,
}

/// The model's answer on one claim: its judgement and the span of the evidence it quoted.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Answer {
    /// Its judgement.
    pub judgement: Judgement,
    /// The words of the evidence it quoted, when the evidence holds them.
    pub quote: Option<String>,
}

/// A model that answers a prompt (the configured OpenAI-compatible server).
pub trait ModelJudge: Send + Sync {
    /// Its name, for the cache and the notes (the model).
    fn name(&self) -> &str;
    /// The model's whole answer to `system` and `user`, and what it cost.
    fn ask(&self, system: &str, user: &str) -> Result<(String, Option<Usage>), ResearchError>;
}

/// A shared judge, as run options carry it.
#[derive(Clone)]
pub struct Judge(pub std::sync::Arc<dyn ModelJudge>);

impl std::fmt::Debug for Judge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Judge({})", self.0.name())
    }
}

/// Claims asked about in one request at most (a long section is asked in several).
pub const PER_REQUEST: usize = 12;

/// The instructions every request starts with.
pub const SYSTEM: &str = "You check claims against excerpts of the sources they cite. For each numbered claim, decide from its excerpt alone: SUPPORTED (the excerpt states it, numbers and names included), NOT SUPPORTED (the excerpt does not say it), or CONTRADICTED (the excerpt says otherwise). Answer with one line per claim, in order, exactly like:\n1: SUPPORTED \"the exact words of the excerpt that state it\"\n2: NOT SUPPORTED\n3: CONTRADICTED \"the exact words of the excerpt that say otherwise\"\nQuote the excerpt word for word. Write nothing else.";

/// The user message for `items` (claim, evidence), numbered from 1.
pub fn prompt(items: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (i, (claim, evidence)) in items.iter().enumerate() {
        out.push_str(&format!(
            "{}. Claim: {}\n   Excerpt: {}\n\n",
            i + 1,
            claim.trim(),
            evidence.trim()
        ));
    }
    out.push_str(&format!(
        "Answer {} lines, one per claim, as instructed.",
        items.len()
    ));
    out
}

/// Words of `text` lower-cased, for comparing a quote with the evidence whatever its case,
/// spacing and punctuation.
fn squash(text: &str) -> String {
    crate::terms::words(text).join(" ")
}

/// The answers in a model's `raw` reply to a request of `evidence.len()` items: for each item the
/// last line that starts with its number and names a judgement (a rambling model's other lines
/// are ignored; `<think>` blocks are dropped first). A quote is kept only when its words are in
/// the item's evidence; a SUPPORTED or CONTRADICTED without one is no answer.
pub fn parse(raw: &str, evidence: &[&str]) -> Vec<Option<Answer>> {
    let text = crate::research::http::sse::strip_think(raw);
    let mut out: Vec<Option<Answer>> = vec![None; evidence.len()];
    for line in text.lines() {
        let t = line.trim().trim_start_matches(['*', '-', '#', ' ']);
        let digits = t.chars().take_while(char::is_ascii_digit).count();
        let Ok(n) = t[..digits].parse::<usize>() else {
            continue;
        };
        if n == 0 || n > evidence.len() {
            continue;
        }
        let rest = t[digits..].trim_start_matches([':', '.', ')', ' ', '*']);
        let upper = rest.to_ascii_uppercase();
        let judgement = if upper.starts_with("NOT SUPPORTED") || upper.starts_with("UNSUPPORTED") {
            Judgement::NotSupported
        } else if upper.starts_with("SUPPORTED") {
            Judgement::Supported
        } else if upper.starts_with("CONTRADICTED") {
            Judgement::Contradicted
        } else {
            continue;
        };
        let quote = rest
            .find(['"', '“'])
            .map(|start| {
                let q = &rest[start..];
                let inner = q.trim_start_matches(['"', '“']);
                let end = inner.rfind(['"', '”']).unwrap_or(inner.len());
                inner[..end].trim().to_string()
            })
            .filter(|q| {
                let q = squash(q);
                !q.is_empty() && squash(evidence[n - 1]).contains(&q)
            });
        out[n - 1] = match (judgement, &quote) {
            (Judgement::NotSupported, _) => Some(Answer { judgement, quote }),
            (_, Some(_)) => Some(Answer { judgement, quote }),
            // A verdict that quotes nothing of the excerpt cannot be checked, so it is not used.
            (_, None) => None,
        };
    }
    out
}

/// What the model's answer does to a claim's verdict and note.
fn apply_answer(claim: &mut Claim, model: &str, answer: &Answer) {
    let quote = answer.quote.as_deref().unwrap_or("");
    match answer.judgement {
        Judgement::Supported => {
            claim.verdict = Verdict::Supported;
            claim.note = Some(format!("the model ({model}) found it stated: \"{quote}\""));
        }
        Judgement::Contradicted => {
            claim.verdict = Verdict::Unsupported;
            claim.note = Some(format!(
                "the model ({model}) says the source contradicts it: \"{quote}\""
            ));
        }
        Judgement::NotSupported => {
            let lexical = claim.note.take().unwrap_or_default();
            claim.note = Some(if lexical.is_empty() {
                format!("the model ({model}) found it not stated")
            } else {
                format!("{lexical}; the model ({model}) found it not stated either")
            });
        }
    }
}

/// Put the claims the lexical check doubts (weak or unsupported, with evidence) to `judge`,
/// section by section, [`PER_REQUEST`] at a time; answers already in `cache` are not asked
/// again. `spent` gets each request's usage. A request that fails leaves its claims as they
/// were, and is returned as the error after the others are asked.
pub fn second_opinion(
    claims: &mut [Claim],
    judge: &dyn ModelJudge,
    cache: &Cache,
    mut spent: impl FnMut(Usage),
) -> Result<(), ResearchError> {
    let name = judge.name().to_string();
    let key = |c: &Claim| format!("{name}\u{0}{}\u{0}{}", c.text, evidence_of(c));
    // Cached answers first; the rest grouped by section, in file order.
    let mut asked: BTreeMap<Option<String>, Vec<usize>> = BTreeMap::new();
    for (i, c) in claims.iter_mut().enumerate() {
        if !matches!(c.verdict, Verdict::Weak | Verdict::Unsupported) || c.evidence.is_none() {
            continue;
        }
        match cache.get_json::<Answer>("model-judgements", &key(c)) {
            Some(a) => apply_answer(c, &name, &a),
            None => asked.entry(c.section.clone()).or_default().push(i),
        }
    }
    let mut failed = None;
    for group in asked.values() {
        for chunk in group.chunks(PER_REQUEST) {
            let items: Vec<(String, String)> = chunk
                .iter()
                .map(|&i| (claims[i].text.clone(), evidence_of(&claims[i]).to_string()))
                .collect();
            let borrowed: Vec<(&str, &str)> = items
                .iter()
                .map(|(c, e)| (c.as_str(), e.as_str()))
                .collect();
            let (raw, usage) = match judge.ask(SYSTEM, &prompt(&borrowed)) {
                Ok(r) => r,
                Err(e) => {
                    failed.get_or_insert(e);
                    continue;
                }
            };
            if let Some(u) = usage {
                spent(u);
            }
            let evidence: Vec<&str> = items.iter().map(|(_, e)| e.as_str()).collect();
            for (&i, answer) in chunk.iter().zip(parse(&raw, &evidence)) {
                let Some(answer) = answer else { continue };
                let _ = cache.put_json("model-judgements", &key(&claims[i]), &answer);
                apply_answer(&mut claims[i], &name, &answer);
            }
        }
    }
    failed.map_or(Ok(()), Err)
}

fn evidence_of(c: &Claim) -> &str {
    c.evidence.as_ref().map_or("", |e| e.text.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    const EV1: &str = "ZeRO stage 3 partitions the parameters across ranks.";
    const EV2: &str = "FSDP arrived in PyTorch 1.11.";
    const EV3: &str = "Offload is slow.";

    #[test]
    fn a_rambling_answer_is_read_line_by_line() {
        let raw = "<think>Let me look at each claim carefully.</think>\nSure! Here is my assessment.\n\n**1: SUPPORTED** \"ZeRO stage 3 partitions the parameters\"\n2. CONTRADICTED — \"FSDP arrived in PyTorch 1.11\"\nI am not sure about 3, but:\n3) NOT SUPPORTED\n4: SUPPORTED \"extra\"\nHope this helps.";
        let got = parse(raw, &[EV1, EV2, EV3]);
        assert_eq!(
            got,
            vec![
                Some(Answer {
                    judgement: Judgement::Supported,
                    quote: Some("ZeRO stage 3 partitions the parameters".into())
                }),
                Some(Answer {
                    judgement: Judgement::Contradicted,
                    quote: Some("FSDP arrived in PyTorch 1.11".into())
                }),
                Some(Answer {
                    judgement: Judgement::NotSupported,
                    quote: None
                }),
            ]
        );
    }

    #[test]
    fn a_quote_the_evidence_does_not_hold_is_no_answer() {
        let raw = "1: SUPPORTED \"ZeRO stage 2 shards gradients\"\n2: SUPPORTED\n3: maybe";
        assert_eq!(parse(raw, &[EV1, EV2, EV3]), vec![None, None, None]);
    }

    #[test]
    fn a_prompt_numbers_each_claim_with_its_excerpt() {
        let p = prompt(&[
            ("ZeRO-3 shards parameters.", EV1),
            ("FSDP is in 1.11.", EV2),
        ]);
        assert!(p.starts_with("1. Claim: ZeRO-3 shards parameters.\n   Excerpt: ZeRO stage 3"));
        assert!(p.contains("2. Claim: FSDP is in 1.11.\n   Excerpt: FSDP arrived"));
        assert!(p.ends_with("Answer 2 lines, one per claim, as instructed."));
    }

    struct Scripted {
        asked: std::sync::Mutex<Vec<String>>,
    }

    impl ModelJudge for Scripted {
        fn name(&self) -> &str {
            "m"
        }
        fn ask(&self, _system: &str, user: &str) -> Result<(String, Option<Usage>), ResearchError> {
            self.asked.lock().unwrap().push(user.to_string());
            let lines: Vec<String> = user
                .lines()
                .filter(|l| l.contains(". Claim: "))
                .enumerate()
                .map(|(i, l)| {
                    if l.contains("stage 3") {
                        format!(
                            "{}: SUPPORTED \"partitions the parameters across ranks\"",
                            i + 1
                        )
                    } else {
                        format!("{}: NOT SUPPORTED", i + 1)
                    }
                })
                .collect();
            Ok((
                lines.join("\n"),
                Some(Usage {
                    prompt_tokens: 100,
                    completion_tokens: 10,
                    estimated: false,
                }),
            ))
        }
    }

    fn claim(section: &str, text: &str, verdict: Verdict, evidence: &str) -> Claim {
        Claim {
            section: Some(section.into()),
            line: 1,
            text: text.into(),
            cites: vec![1],
            verdict,
            evidence: Some(super::super::grounding::Evidence {
                source: 1,
                text: evidence.into(),
            }),
            note: Some("not in the evidence: 3".into()),
        }
    }

    #[test]
    fn one_request_per_section_and_each_answer_asked_once() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path());
        let judge = Scripted {
            asked: std::sync::Mutex::new(Vec::new()),
        };
        let make = || {
            vec![
                claim("A", "ZeRO stage 3 splits parameters.", Verdict::Weak, EV1),
                claim("A", "FSDP came in 1.12.", Verdict::Unsupported, EV2),
                claim("B", "Offload is fast.", Verdict::Weak, EV3),
                claim("B", "Already fine.", Verdict::Supported, EV3),
            ]
        };
        let mut claims = make();
        let mut tokens = 0;
        second_opinion(&mut claims, &judge, &cache, |u| tokens += u.total()).unwrap();
        assert_eq!(
            judge.asked.lock().unwrap().len(),
            2,
            "one request per section"
        );
        assert_eq!(tokens, 220);
        assert_eq!(claims[0].verdict, Verdict::Supported);
        assert_eq!(
            claims[0].note.as_deref(),
            Some("the model (m) found it stated: \"partitions the parameters across ranks\"")
        );
        assert_eq!(claims[1].verdict, Verdict::Unsupported);
        assert!(
            claims[1]
                .note
                .as_deref()
                .unwrap()
                .ends_with("the model (m) found it not stated either")
        );
        assert_eq!(
            claims[3].note.as_deref(),
            Some("not in the evidence: 3"),
            "a supported claim is not asked about"
        );
        // Asked again: every answer comes from the cache.
        let mut again = make();
        second_opinion(&mut again, &judge, &cache, |_| panic!("nothing is spent")).unwrap();
        assert_eq!(judge.asked.lock().unwrap().len(), 2);
        assert_eq!(again[0].verdict, Verdict::Supported);
    }
}
