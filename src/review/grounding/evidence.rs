//! Where a claim's support is in a source (spec §4–§5): the claim's terms and their IDF weights
//! over the source's sentences, the greedy cover choosing up to K sentences anywhere in the
//! source, quotations, and what counts as found.

use std::collections::{HashMap, HashSet};

use super::source::{PageNumber, Source, capital_runs, compound, initials, sig_digits};
use super::tokens::{Kind, Tok, Vocab, alpha, tokenize};

/// Evidence sentences at most (greedy), anywhere in the source.
const K: usize = 3;
/// A further sentence must add at least this share of the claim's total weight.
const MIN_GAIN: f64 = 0.10;
/// Share of the weight beyond the core that must be found.
const T_SUPPORT: f64 = 0.30;
/// Average terms' worth of weight that must all be found (roughly subject, predicate, object).
const CORE: f64 = 4.0;

/// `x` cut to `digits` significant digits: rounded half up, or truncated.
fn to_sig(x: f64, digits: usize, up: bool) -> f64 {
    let e = x.abs().log10().floor() as i32 - digits as i32 + 1;
    let scale = if e >= 0 {
        10f64.powi(e)
    } else {
        10f64.powf(f64::from(e))
    };
    let q = x.abs() / scale;
    let q = if up {
        (q + 0.5).floor()
    } else {
        (q + 1e-9).floor()
    };
    (q * scale).copysign(x)
}

/// Terms of the claim besides the negated one that a sentence must hold to be where the claim's
/// negation is stated (rule NEGATION-SITE).
const NEGATION_SITE_TERMS: usize = 2;

/// A distinct content key of the claim, with the other keys that count as finding it.
#[derive(Debug, Clone)]
pub(super) struct Term {
    /// Its key.
    pub key: u32,
    /// Keys that count as finding it too.
    pub alts: Vec<u32>,
    /// The claim token it was first written as.
    pub tok: usize,
}

impl Term {
    /// Whether the term is in a key set (`has` answers for one key).
    pub(super) fn found(&self, has: impl Fn(u32) -> bool) -> bool {
        has(self.key) || self.alts.iter().any(|&a| has(a))
    }
}

/// A claim tokenised once for all the sources it is checked against.
pub(super) struct Probe {
    /// Its tokens.
    pub toks: Vec<Tok>,
    /// Its terms with the alternatives any source may offer (COMPOUND, INITIALS).
    pub terms: Vec<Term>,
}

impl Probe {
    /// The claim's tokens and distinct content terms, in order of first appearance (§4.1).
    pub(super) fn new(text: &str, vocab: &mut Vocab) -> Probe {
        let toks = tokenize(text, vocab);
        let mut run_of: HashMap<usize, u32> = HashMap::new();
        for run in capital_runs(&toks) {
            let key = initials(&toks, run, vocab);
            for i in run.0..run.1 {
                run_of.insert(i, key);
            }
        }
        let mut seen = HashSet::new();
        let mut terms = Vec::new();
        for (k, t) in toks.iter().enumerate() {
            if t.stop || !seen.insert(t.key) {
                continue;
            }
            let mut alts = Vec::new();
            if alpha(&t.lower) {
                if t.hyph_next && toks.get(k + 1).is_some_and(|n| alpha(&n.lower)) {
                    alts.push(compound(t, &toks[k + 1], vocab));
                } else if t.hyph_prev && k > 0 && alpha(&toks[k - 1].lower) {
                    alts.push(compound(&toks[k - 1], t, vocab));
                }
            }
            if let Some(&key) = run_of.get(&k) {
                alts.push(key);
            }
            terms.push(Term {
                key: t.key,
                alts,
                tok: k,
            });
        }
        Probe { toks, terms }
    }
}

/// Rules NAME-FORM and ROUNDING: a named term or a number absent from the page as written is
/// found through the page's form of it (`libyan`/`libya`; 164 for 164.79, 1.2 million for
/// 1,234,567; a one-digit number only for a decimal, 3 for 3.2, never 200 for 250).
fn page_forms(terms: &mut [Term], toks: &[Tok], source: &Source, vocab: &Vocab) {
    for t in terms.iter_mut() {
        let tok = &toks[t.tok];
        let key: Vec<char> = vocab.word(t.key).chars().collect();
        if !tok.named || key.len() < 5 || t.found(|k| source.has(k)) {
            continue;
        }
        let prefix: String = key[..5].iter().collect();
        let from = source
            .by_text
            .partition_point(|&k| vocab.word(k) < prefix.as_str());
        for &k in &source.by_text[from..] {
            let w = vocab.word(k);
            if !w.starts_with(&prefix) {
                break;
            }
            let len = w.chars().count();
            let common = w.chars().zip(&key).take_while(|(a, b)| a == *b).count();
            if common + 1 >= len.min(key.len()) {
                t.alts.push(k);
                break;
            }
        }
    }
    for t in terms.iter_mut() {
        let w = vocab.word(t.key);
        if toks[t.tok].kind != Kind::Number
            || !super::numbers::is_plain_number(w)
            || t.found(|k| source.has(k))
        {
            continue;
        }
        let (Ok(c), d) = (w.parse::<f64>(), sig_digits(w)) else {
            continue;
        };
        if c == 0.0 {
            continue;
        }
        let decimal = w.contains('.');
        let near = |p: &PageNumber| {
            if p.value == 0.0 || p.sig <= d {
                false // the page's number must be the more precise one
            } else if d >= 2 {
                (to_sig(p.value, d, true) - c).abs() < 1e-9 * c.abs()
                    || (to_sig(p.value, d, false) - c).abs() < 1e-9 * c.abs()
            } else {
                p.decimal && !decimal && (c == (p.value + 0.5).floor() || c == p.value.floor())
            }
        };
        if let Some(p) = source.numbers.iter().find(|p| near(p)) {
            t.alts.push(p.key);
        }
    }
}

/// For each cue (a token `cue` holds for), the content word it governs, its head: the first
/// non-stop token after it in its clause (SCOPE = 1), a clause ending at `but` or after a token
/// followed by punctuation. `is not a professor` → professor.
pub(super) fn governed(toks: &[&Tok], cue: impl Fn(&Tok) -> bool) -> Vec<(usize, Option<usize>)> {
    let mut out = Vec::new();
    for (k, t) in toks.iter().enumerate() {
        if !cue(t) {
            continue;
        }
        let mut head = None;
        if !t.clause_end {
            for (j, u) in toks.iter().enumerate().skip(k + 1) {
                if u.lower == "but" {
                    break;
                }
                if !u.stop {
                    head = Some(j);
                    break;
                }
                if u.clause_end {
                    break;
                }
            }
        }
        out.push((k, head));
    }
    out
}

/// The keys the negation cues of `toks` govern.
pub(super) fn negated_keys(toks: &[&Tok]) -> HashSet<u32> {
    governed(toks, |t| t.neg)
        .into_iter()
        .filter_map(|(_, h)| h.map(|j| toks[j].key))
        .collect()
}

/// Whether some sentence of the source negates one of `keys`.
pub(super) fn negated_anywhere(keys: &HashSet<u32>, source: &Source) -> bool {
    let mut at: Vec<u32> = keys
        .iter()
        .flat_map(|&k| source.postings(k).iter().copied())
        .collect();
    at.sort_unstable();
    at.dedup();
    at.into_iter().any(|i| {
        let toks: Vec<&Tok> = source.sents[i as usize].toks.iter().collect();
        negated_keys(&toks).iter().any(|k| keys.contains(k))
    })
}

/// Rule QUOTE: the claim's double-quoted spans of quoted words (≥ 2 content tokens, one in
/// lower case: a capitalised span is a title, its words named terms already), as token indices.
fn quotations(toks: &[Tok]) -> Vec<Vec<usize>> {
    let mut spans: Vec<(usize, Vec<usize>)> = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        let Some(q) = t.quote.filter(|_| !t.stop) else {
            continue;
        };
        match spans.iter_mut().find(|(s, _)| *s == q) {
            Some((_, v)) => v.push(i),
            None => spans.push((q, vec![i])),
        }
    }
    spans
        .into_iter()
        .map(|(_, v)| v)
        .filter(|v| {
            v.len() >= 2
                && v.iter()
                    .any(|&i| toks[i].surface.starts_with(char::is_lowercase))
        })
        .collect()
}

/// The first sentence whose content keys hold the span's keys contiguously and in order.
fn quoted_in(keys: &[u32], source: &Source) -> Option<usize> {
    source
        .postings(keys[0])
        .iter()
        .map(|&i| i as usize)
        .find(|&i| {
            let seq: Vec<u32> = source.sents[i]
                .toks
                .iter()
                .filter(|u| !u.stop)
                .map(|u| u.key)
                .collect();
            seq.windows(keys.len()).any(|w| w == keys)
        })
}

/// What the source holds of a claim (§4–§5).
pub(super) struct Look<'a> {
    /// The claim's terms with this page's forms (NAME-FORM, ROUNDING).
    pub terms: Vec<Term>,
    /// Their IDF weights over the source's sentences.
    pub weights: Vec<f64>,
    /// The chosen sentences, in source order.
    pub chosen: Vec<usize>,
    /// The anchors (the greedy anchor and the sentences quotations were found in), in source
    /// order: where the claim's polarity is read.
    pub anchors: Vec<usize>,
    /// The first quoted span found nowhere, as claim token indices.
    pub misquoted: Option<Vec<usize>>,
    /// The chosen sentences' tokens, concatenated.
    pub ev_toks: Vec<&'a Tok>,
    /// Keys of evidence tokens no evidence negation governs.
    pub plain: HashSet<u32>,
    /// Keys the claim's negation cues govern.
    pub claim_neg: HashSet<u32>,
    /// Per term: found (§5).
    pub found: Vec<bool>,
    /// Share of the claim's weight found.
    pub cov: f64,
    /// Rule COVERAGE.
    pub enough: bool,
}

impl Look<'_> {
    /// The chosen sentences' text, joined by one space.
    pub(super) fn text(&self, source: &Source) -> String {
        join(&self.chosen, source)
    }
}

/// The text of some sentences, joined by one space.
pub(super) fn join(at: &[usize], source: &Source) -> String {
    at.iter()
        .map(|&i| source.sents[i].text.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Look for a claim's terms in a source (which must hold a sentence): IDF weights, the greedy
/// cover, quotations, what is found and whether it is enough.
pub(super) fn look<'a>(probe: &Probe, source: &'a Source, vocab: &Vocab) -> Look<'a> {
    let mut terms = probe.terms.clone();
    page_forms(&mut terms, &probe.toks, source, vocab);
    // Rule IDF: a word on every line of the page (its subject) says little; a term absent from
    // the page weighs like a rare one.
    let n = source.sents.len() as f64;
    let mut holds: HashMap<u32, Vec<usize>> = HashMap::new();
    let mut weights = Vec::with_capacity(terms.len());
    for (j, t) in terms.iter().enumerate() {
        let at = source.sentences_of(t.key, &t.alts);
        weights.push((1.0 + n / at.len().max(1) as f64).ln());
        for i in at {
            holds.entry(i).or_default().push(j);
        }
    }
    let total: f64 = weights.iter().sum();
    let mut holds: Vec<(u32, Vec<usize>)> = holds.into_iter().collect();
    holds.sort_unstable_by_key(|(i, _)| *i);
    // Rule COVER: greedy weighted set cover by up to K sentences anywhere in the source.
    let mut uncovered = vec![true; terms.len()];
    let mut chosen: Vec<usize> = Vec::new();
    for _ in 0..K {
        let mut best: Option<(usize, &[usize])> = None;
        let mut best_gain = 0.0;
        for (i, ts) in &holds {
            let i = *i as usize;
            if chosen.contains(&i) {
                continue;
            }
            let gain: f64 = ts
                .iter()
                .filter(|&&j| uncovered[j])
                .map(|&j| weights[j])
                .sum();
            if gain > best_gain + 1e-9 {
                best = Some((i, ts));
                best_gain = gain;
            }
        }
        let Some((i, ts)) = best else { break };
        if !chosen.is_empty() && best_gain < MIN_GAIN * total {
            break;
        }
        chosen.push(i);
        for &j in ts {
            uncovered[j] = false;
        }
        if !uncovered.contains(&true) {
            break;
        }
    }
    let mut anchors: Vec<usize> = chosen.iter().take(1).copied().collect();
    // Rule QUOTE: a quotation is verbatim, and the sentence quoted is where its polarity lives.
    let mut misquoted = None;
    for span in quotations(&probe.toks) {
        let keys: Vec<u32> = span.iter().map(|&i| probe.toks[i].key).collect();
        match quoted_in(&keys, source) {
            Some(at) => {
                if !chosen.contains(&at) {
                    chosen.push(at);
                }
                if !anchors.contains(&at) {
                    anchors.push(at);
                }
            }
            None => {
                misquoted.get_or_insert(span);
            }
        }
    }
    // Rule NEGATION-SITE: a claim's negation lives in the sentence that negates what it
    // governs ("Zero means no deliberate waiting"), which the cover may have left out as adding
    // little weight. Only a sentence about the same thing: one that also holds at least
    // NEGATION_SITE_TERMS other terms of the claim ("I can't find what I'm looking for" on a
    // page does not share a claim's "didn't find").
    let claim_toks: Vec<&Tok> = probe.toks.iter().collect();
    let claim_neg = negated_keys(&claim_toks);
    for &k in &claim_neg {
        let negates = |i: usize| {
            let sent = &source.sents[i];
            let toks: Vec<&Tok> = sent.toks.iter().collect();
            let shared = terms
                .iter()
                .filter(|t| t.key != k && t.found(|key| sent.has(key)))
                .count();
            shared >= NEGATION_SITE_TERMS && negated_keys(&toks).contains(&k)
        };
        if anchors.iter().any(|&i| negates(i)) {
            continue;
        }
        // One the cover chose first, else any.
        let at = chosen.iter().copied().find(|&i| negates(i)).or_else(|| {
            source
                .postings(k)
                .iter()
                .map(|&i| i as usize)
                .find(|&i| negates(i))
        });
        if let Some(at) = at {
            if !chosen.contains(&at) {
                chosen.push(at);
            }
            anchors.push(at);
        }
    }
    chosen.sort_unstable();
    anchors.sort_unstable();
    let ev_toks: Vec<&Tok> = chosen
        .iter()
        .flat_map(|&i| source.sents[i].toks.iter())
        .collect();
    // Rule NEGATED-MENTION: "do not allow automobiles" does not state "allowed", unless the
    // claim negates it too.
    let gov: HashSet<usize> = governed(&ev_toks, |t| t.neg)
        .into_iter()
        .filter_map(|(_, h)| h)
        .collect();
    let plain: HashSet<u32> = ev_toks
        .iter()
        .enumerate()
        .filter(|(j, u)| !u.stop && !gov.contains(j))
        .map(|(_, u)| u.key)
        .collect();
    let only_negated: HashSet<u32> = gov
        .iter()
        .map(|&j| ev_toks[j].key)
        .filter(|k| !plain.contains(k) && !claim_neg.contains(k))
        .collect();
    let in_evidence =
        |k: u32| !only_negated.contains(&k) && chosen.iter().any(|&i| source.sents[i].has(k));
    // Rule DATES-PAGE: a page's dateline or heading dates everything it reports.
    let found: Vec<bool> = terms
        .iter()
        .map(|t| {
            t.found(in_evidence)
                || (matches!(probe.toks[t.tok].kind, Kind::Year | Kind::Month)
                    && t.found(|k| source.has(k)))
        })
        .collect();
    let got: f64 = weights
        .iter()
        .zip(&found)
        .filter(|(_, f)| **f)
        .map(|(w, _)| w)
        .sum();
    let cov = got / total;
    // Rule COVERAGE: the first CORE terms' worth must all be found, so a short claim must be
    // found whole; beyond that a share T_SUPPORT of the rest.
    let slack = (1.0 - T_SUPPORT) * (total - CORE * total / terms.len() as f64).max(0.0);
    let enough = total - cov * total <= slack + 1e-9;
    Look {
        terms,
        weights,
        chosen,
        anchors,
        misquoted,
        ev_toks,
        plain,
        claim_neg,
        found,
        cov,
        enough,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(text: &str) -> (Source, Vocab) {
        let mut v = Vocab::default();
        (Source::prepare(text, &mut v), v)
    }

    #[test]
    fn rounding_and_name_forms() {
        let (s, mut v) = source(
            "The tower is 164.79 meters tall. A Libyan city had 1,234,567 people in 3.2 days.",
        );
        for (claim, found) in [
            ("It is 164 meters tall.", true),
            ("It had 1.2 million people.", true),
            ("It took 3 days.", true),
            ("It is 165 meters tall.", true),
            ("It is 166 meters tall.", false),
            ("It had 2 million people.", false),
            ("The city is in Libya.", true),
        ] {
            let p = Probe::new(claim, &mut v);
            let l = look(&p, &s, &v);
            let required: Vec<bool> = l
                .terms
                .iter()
                .zip(&l.found)
                .filter(|(t, _)| {
                    let tok = &p.toks[t.tok];
                    tok.kind == Kind::Number || tok.named
                })
                .map(|(_, f)| *f)
                .collect();
            assert_eq!(required, [found], "{claim}");
        }
    }

    #[test]
    fn a_negation_is_looked_for_where_the_source_states_it() {
        // The demo corpus's page, where the cover takes the second sentence but anchors on the
        // first.
        let (src, mut vocab) = source(include_str!(
            "../../../assets/corpus/inference-optimization/triton-02-dynamic-batching.md"
        ));
        let probe = Probe::new(
            "`max_queue_delay_microseconds`: how long a request may wait in the queue for others to join its batch. Zero (the default) means no deliberate waiting.",
            &mut vocab,
        );
        let l = look(&probe, &src, &vocab);
        assert!(
            join(&l.anchors, &src).contains("no deliberate waiting"),
            "{}",
            join(&l.anchors, &src)
        );
    }

    #[test]
    fn significant_digits() {
        assert_eq!(sig_digits("164"), 3);
        assert_eq!(sig_digits("1200000"), 2);
        assert_eq!(sig_digits("2.5"), 2);
        assert_eq!(sig_digits("0.05"), 1);
        assert_eq!(to_sig(164.79, 3, true), 165.0);
        assert_eq!(to_sig(164.79, 3, false), 164.0);
    }
}
