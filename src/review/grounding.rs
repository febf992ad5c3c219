//! The grounding check: every cited sentence, list item and table row of a draft is a claim,
//! checked against the text of the source it cites, exactly as the runner fetched it. Pure
//! functions: the caller hands in the sources' texts.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;

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

/// Words that end with a period without ending a sentence.
const ABBREVIATIONS: &[&str] = &[
    "e.g", "i.e", "etc", "vs", "cf", "al", "fig", "eq", "no", "mr", "mrs", "dr", "prof", "inc",
    "ltd", "approx", "resp", "sec", "ch", "vol", "ver", "v",
];

/// Split a paragraph's text into sentences: at `.`, `!` or `?` followed by a space and a
/// capital, digit, quote or bracket — not after an abbreviation ("e.g.", "vs."), an initial, or
/// inside a number or version ("1.11", "v1.2"). A citation after the period stays with its
/// sentence.
pub fn sentences(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if matches!(c, '.' | '!' | '?') && i + 1 < chars.len() && chars[i + 1].is_whitespace() {
            // A citation right after the end belongs to this sentence.
            let mut end = i + 1;
            let mut j = i + 1;
            loop {
                while j < chars.len() && chars[j] == ' ' {
                    j += 1;
                }
                if j < chars.len() && chars[j] == '[' {
                    let close = chars[j..].iter().position(|&c| c == ']').map(|p| j + p);
                    if let Some(k) = close
                        && chars[j + 1..k].iter().all(char::is_ascii_digit)
                        && k > j + 1
                    {
                        end = k + 1;
                        j = k + 1;
                        continue;
                    }
                }
                break;
            }
            let next = chars[j..].iter().find(|c| !c.is_whitespace());
            let word: String = chars[start..i]
                .iter()
                .rev()
                .take_while(|c| !c.is_whitespace())
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            let bare = word.trim_start_matches(['(', '"', '\'']).to_lowercase();
            let abbreviation = c == '.'
                && (ABBREVIATIONS.contains(&bare.as_str())
                    || (bare.chars().count() == 1 && bare.chars().all(char::is_alphabetic))
                    || bare.contains('.'));
            let starts_new = next.is_none_or(|n| {
                n.is_uppercase()
                    || n.is_ascii_digit()
                    || matches!(n, '"' | '\'' | '`' | '(' | '*' | '[')
            });
            if !abbreviation && starts_new {
                let s: String = chars[start..end].iter().collect();
                if !s.trim().is_empty() {
                    out.push(s.trim().to_string());
                }
                start = end;
                i = end;
                continue;
            }
        }
        i += 1;
    }
    let rest: String = chars[start..].iter().collect();
    if !rest.trim().is_empty() {
        out.push(rest.trim().to_string());
    }
    out
}

/// `[n]` numbers in a piece of text, in order (code spans excluded).
fn cites_in(text: &str) -> Vec<usize> {
    crate::draft::citations(text)
}

/// The text with `[n]` citations and markdown emphasis removed.
fn plain(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('[') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let digits = after.chars().take_while(char::is_ascii_digit).count();
        if digits > 0 && after[digits..].starts_with(']') {
            rest = &after[digits + 1..];
        } else {
            out.push('[');
            rest = after;
        }
    }
    out.push_str(rest);
    out.replace("**", "")
        .replace('`', "")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether a sentence states something checkable (not a heading-like fragment).
fn factual(text: &str) -> bool {
    let words = text.split_whitespace().count();
    words >= 6 || text.chars().any(|c| c.is_ascii_digit())
}

/// The claims of a draft: sentences of paragraphs, list items and table rows, each with its own
/// citations or the ones closing its block; code, headings, quotes (the existing-knowledge note,
/// placeholders) and the Sources list are not claims. `must_cite` reports uncited factual
/// sentences as claims too.
pub fn claims(text: &str, must_cite: bool) -> Vec<RawClaim> {
    let mut out = Vec::new();
    let mut section: Option<String> = None;
    let mut in_code = false;
    // A block: its lines (1-based line, text), and whether it is a list or a table.
    let mut block: Vec<(usize, &str)> = Vec::new();
    let mut lead_cites: Vec<usize> = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    // Sentences of a paragraph ending in ':' wait for the block it introduces, whose citation
    // covers them too ("It runs the following cycle:" then a cited list).
    let mut waiting: Vec<RawClaim> = Vec::new();
    let flush = |block: &mut Vec<(usize, &str)>,
                 section: &Option<String>,
                 lead: &mut Vec<usize>,
                 waiting: &mut Vec<RawClaim>,
                 out: &mut Vec<RawClaim>| {
        if block.is_empty() {
            return;
        }
        let first = block[0].1.trim_start();
        let is_table = first.starts_with('|');
        let is_list = first.starts_with("- ")
            || first.starts_with("* ")
            || first
                .split_once(". ")
                .is_some_and(|(n, _)| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
        let units: Vec<(usize, String)> = if is_table {
            block
                .iter()
                .skip(1)
                .filter(|(_, l)| !l.chars().all(|c| matches!(c, '|' | '-' | ':' | ' ')))
                .map(|(n, l)| (*n, l.trim().trim_matches('|').replace('|', " · ")))
                .collect()
        } else if is_list {
            let mut items: Vec<(usize, String)> = Vec::new();
            for (n, l) in block.iter() {
                let t = l.trim_start();
                let marker = t.starts_with("- ")
                    || t.starts_with("* ")
                    || t.split_once(". ").is_some_and(|(k, _)| {
                        !k.is_empty() && k.chars().all(|c| c.is_ascii_digit())
                    });
                if marker || items.is_empty() {
                    let body = t
                        .trim_start_matches("- ")
                        .trim_start_matches("* ")
                        .trim_start_matches(|c: char| c.is_ascii_digit())
                        .trim_start_matches(". ");
                    items.push((*n, body.to_string()));
                } else if let Some(last) = items.last_mut() {
                    last.1.push(' ');
                    last.1.push_str(t);
                }
            }
            items
        } else {
            let joined = block
                .iter()
                .map(|(_, l)| l.trim())
                .collect::<Vec<_>>()
                .join(" ");
            sentences(&joined)
                .into_iter()
                .map(|s| (block[0].0, s))
                .collect()
        };
        // A citation closing the block covers the units without their own.
        let closing: Vec<usize> = units
            .iter()
            .rev()
            .find_map(|(_, u)| {
                let c = cites_in(u);
                (!c.is_empty()).then_some(c)
            })
            .unwrap_or_else(|| if is_table { lead.clone() } else { Vec::new() });
        let introduces = !is_table
            && !is_list
            && closing.is_empty()
            && block
                .last()
                .is_some_and(|(_, l)| l.trim_end().ends_with(':'));
        for w in waiting.drain(..) {
            let cites = if w.cites.is_empty() {
                closing.clone()
            } else {
                w.cites.clone()
            };
            if cites.is_empty() && !(must_cite && factual(&w.text)) {
                continue;
            }
            out.push(RawClaim { cites, ..w });
        }
        for (n, u) in units {
            let own = cites_in(&u);
            let cites = if own.is_empty() { closing.clone() } else { own };
            let text = plain(&u);
            // "From [2]:" and other fragments say nothing to check.
            if text
                .split_whitespace()
                .filter(|w| w.chars().any(char::is_alphanumeric))
                .count()
                < 2
            {
                continue;
            }
            let mut cites = cites;
            cites.dedup();
            let claim = RawClaim {
                section: section.clone(),
                line: n,
                text,
                cites,
            };
            if introduces {
                waiting.push(claim);
                continue;
            }
            if claim.cites.is_empty() && !(must_cite && factual(&claim.text)) {
                continue;
            }
            out.push(claim);
        }
        // A paragraph ending in ':' (or "From [n]:") leads into the table after it.
        lead.clear();
        if !is_table && !is_list {
            let last = block.last().map_or("", |(_, l)| l.trim_end());
            if plain(last).ends_with(':') {
                // `From [2]:` introduces a table; `[2]:` is not a citation elsewhere.
                *lead = cites_in(&last.replace("]:", "] :"));
            }
        }
        block.clear();
    };
    while i < lines.len() {
        let line = lines[i];
        let t = line.trim_start();
        if t.starts_with("```") || t.starts_with("~~~") {
            flush(
                &mut block,
                &section,
                &mut lead_cites,
                &mut waiting,
                &mut out,
            );
            // Code is not a claim: a lead-in before it stands alone.
            out.extend(
                waiting
                    .drain(..)
                    .filter(|w| !w.cites.is_empty() || (must_cite && factual(&w.text))),
            );
            in_code = !in_code;
            i += 1;
            continue;
        }
        if in_code {
            i += 1;
            continue;
        }
        if let Some(h) = t.strip_prefix("## ") {
            flush(
                &mut block,
                &section,
                &mut lead_cites,
                &mut waiting,
                &mut out,
            );
            let h = h.trim();
            if h.eq_ignore_ascii_case("sources") {
                break;
            }
            section = Some(h.split_once(": ").map_or(h, |(_, t)| t).to_string());
            i += 1;
            continue;
        }
        if t.starts_with('#') || t.starts_with('>') || t.is_empty() {
            flush(
                &mut block,
                &section,
                &mut lead_cites,
                &mut waiting,
                &mut out,
            );
            i += 1;
            continue;
        }
        // A table starts a block of its own even without a blank line before it.
        if t.starts_with('|')
            && block
                .last()
                .is_some_and(|(_, l)| !l.trim_start().starts_with('|'))
        {
            flush(
                &mut block,
                &section,
                &mut lead_cites,
                &mut waiting,
                &mut out,
            );
        }
        block.push((i + 1, line));
        i += 1;
    }
    flush(
        &mut block,
        &section,
        &mut lead_cites,
        &mut waiting,
        &mut out,
    );
    // A lead-in with nothing after it stands alone.
    out.extend(
        waiting
            .into_iter()
            .filter(|w| !w.cites.is_empty() || (must_cite && factual(&w.text))),
    );
    out.sort_by_key(|c| c.line);
    out
}

/// Lowercased content words of a text (stopwords and one-letter words out).
fn content_words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric() && c != '.' && c != '-')
        .map(|w| w.trim_matches(['.', '-']))
        .filter(|w| w.chars().count() > 1)
        .map(str::to_lowercase)
        .filter(|w| !is_stopword(w))
        .collect()
}

/// Words too common to say what a claim is about. A `match`, not a slice scan: this runs for
/// every word of every source window.
#[rustfmt::skip]
fn is_stopword(w: &str) -> bool {
    matches!(w,
        "the" | "and" | "for" | "with" | "that" | "this" | "are" | "was" | "were" | "from" |
        "into" | "than" | "then" | "its" | "their" | "there" | "which" | "when" | "while" |
        "also" | "can" | "has" | "have" | "had" | "but" | "not" | "all" | "any" | "each" | "more" |
        "most" | "such" | "only" | "other" | "these" | "those" | "they" | "them" | "you" | "your" |
        "our" | "will" | "would" | "should" | "could" | "may" | "might" | "been" | "being" |
        "over" | "under" | "about" | "after" | "before" | "between" | "both" | "does" | "did" |
        "how" | "what" | "who" | "why" | "where" | "one" | "per" | "via" | "out" | "use" | "used" |
        "using" | "an" | "as" | "at" | "be" | "by" | "in" | "is" | "it" | "of" | "on" | "or" |
        "to" | "so" | "if" | "no" | "do"
    )
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
    let mut sents: Vec<String> = Vec::new();
    let mut in_code = false;
    for block in text.split("\n\n") {
        let t = block.trim();
        if let Some(rest) = t.strip_prefix("```") {
            in_code = !rest.contains("```");
            sents.push(t.to_string());
            continue;
        }
        if in_code {
            if t.contains("```") {
                in_code = false;
            }
            sents.push(t.to_string());
            continue;
        }
        for line in t.lines() {
            let l = line.trim();
            if l.starts_with('|')
                || l.starts_with("- ")
                || l.starts_with("* ")
                || l.starts_with('#')
            {
                sents.push(l.to_string());
            } else {
                sents.extend(sentences(l));
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

    #[test]
    fn sentences_split_around_abbreviations_versions_and_citations() {
        let s = sentences(
            "FSDP shards state, e.g. gradients and parameters. It arrived in PyTorch v1.12 in 2022. [2] Stage 3 is ZeRO-3 vs. stage 2. [1][3] Done.",
        );
        assert_eq!(
            s,
            [
                "FSDP shards state, e.g. gradients and parameters.",
                "It arrived in PyTorch v1.12 in 2022. [2]",
                "Stage 3 is ZeRO-3 vs. stage 2. [1][3]",
                "Done."
            ]
        );
    }

    #[test]
    fn claims_skip_code_and_quotes_and_inherit_block_citations() {
        let text = "# T\n\n> **Existing knowledge.** none.\n\n## Section 1: Overview\n\nZeRO removes redundancy across ranks. It partitions optimizer states first. [1]\n\n```python\nx = a[2]\n```\n\n- stage one shards optimizer state\n- stage two shards gradients [3]\n\nFrom [2]:\n\n| stage | shards |\n|---|---|\n| 1 | optimizer |\n\n## Sources\n\n[1] a — b\n";
        let c = claims(text, false);
        let view: Vec<(&str, Vec<usize>)> = c
            .iter()
            .map(|c| (c.text.as_str(), c.cites.clone()))
            .collect();
        assert_eq!(
            view,
            vec![
                ("ZeRO removes redundancy across ranks.", vec![1]),
                ("It partitions optimizer states first.", vec![1]),
                ("stage one shards optimizer state", vec![3]),
                ("stage two shards gradients", vec![3]),
                ("1 · optimizer", vec![2]),
            ]
        );
        assert!(c.iter().all(|c| c.section.as_deref() == Some("Overview")));
        assert_eq!(c[0].line, 7);
    }

    #[test]
    fn uncited_factual_sentences_count_only_where_citing_is_required() {
        let text = "## Section 1: A\n\nFSDP was added to PyTorch in version 1.11 in 2022.\n";
        assert!(claims(text, false).is_empty());
        let c = check(claims(text, true), &BTreeMap::new());
        assert_eq!(c[0].verdict, Verdict::Uncited);
    }

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
