//! A source prepared for every claim citing it (spec §3): its markdown cut into sentences, each
//! tokenised once with its key set (content keys, compound and initials keys), and which
//! sentences hold each key.

use std::collections::HashMap;

use super::claims::{plain, sentence_spans};
use super::tokens::{Tok, Vocab, alpha, tokenize};

/// One sentence of a source, tokenised once.
pub(super) struct Sentence {
    /// As the source writes it (citations and emphasis markers removed).
    pub text: String,
    pub toks: Vec<Tok>,
    /// Its key set, sorted: content keys plus compound and initials keys.
    keys: Vec<u32>,
}

impl Sentence {
    pub(super) fn has(&self, key: u32) -> bool {
        self.keys.binary_search(&key).is_ok()
    }
}

/// A number the page gives, for rule ROUNDING.
pub(super) struct PageNumber {
    /// Its key…
    pub key: u32,
    /// …its value…
    pub value: f64,
    /// …how many significant digits it states…
    pub sig: usize,
    /// …and whether it is written with a decimal point.
    pub decimal: bool,
}

/// A source prepared for every claim citing it: sentences, which sentences hold each key, the
/// page keys in text order (rules NAME-FORM and ROUNDING scan them, "the first" being the
/// first in that order, so verdicts never depend on hashing) and the page's numbers.
pub(super) struct Source {
    /// Its sentences, in order.
    pub sents: Vec<Sentence>,
    /// The sentences (ascending) offering each key.
    postings: HashMap<u32, Vec<u32>>,
    /// The page keys, sorted by their text.
    pub by_text: Vec<u32>,
    /// The page's numbers, in the same order.
    pub numbers: Vec<PageNumber>,
}

/// The sentences of a markdown source: paragraph (and heading, quote) lines split into
/// sentences; list items line by line, like paragraphs, their markers off; a table's header and
/// rows one unit each; code skipped.
fn units(text: &str) -> Vec<String> {
    use crate::markdown::{Kind as Block, blocks, heading_title};
    let mut out = Vec::new();
    let split = |s: &str, out: &mut Vec<String>| {
        let s = s.trim();
        for r in sentence_spans(s) {
            let p = plain(&s[r]);
            if !p.is_empty() {
                out.push(p);
            }
        }
    };
    for block in blocks(text) {
        match block.kind {
            // Code is skipped: as one unit a code block holds so many keys that it "gives" any
            // small number (a YAML block's `parallelTrialCount: 3` passed a claim's changed 3).
            Block::Code => {}
            Block::List => {
                // Line by line as paragraphs, the marker off: a list's numbering is not a
                // number the page states (`4.` would "give" a claim's 4).
                for item in &block.items {
                    for (i, line) in item.raw.lines().enumerate() {
                        let line = line.trim();
                        split(if i == 0 { unmarked(line) } else { line }, &mut out);
                    }
                }
            }
            Block::Table => {
                let head = block.text.lines().next().unwrap_or("");
                let cells: Vec<&str> = head
                    .split('|')
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .collect();
                split(&cells.join(" · "), &mut out);
                for row in &block.items {
                    split(&row.text, &mut out);
                }
            }
            Block::Heading(_) => split(heading_title(block.text), &mut out),
            _ => {
                for line in block.text.lines() {
                    split(line.trim_start_matches(['>', ' ']), &mut out);
                }
            }
        }
    }
    out
}

/// A list item's first line without its marker (`- `, `* `, `+ `, `12. `, `3) `).
fn unmarked(line: &str) -> &str {
    let digits = line.bytes().take_while(u8::is_ascii_digit).count();
    let rest = if let Some(rest) = line.strip_prefix(['-', '*', '+']) {
        rest
    } else if (1..=9).contains(&digits) && line[digits..].starts_with(['.', ')']) {
        &line[digits + 1..]
    } else {
        return line;
    };
    if rest.is_empty() || rest.starts_with(char::is_whitespace) {
        rest.trim_start()
    } else {
        line
    }
}

/// Runs `(start, end)` of at least two consecutive capitalised alphabetic tokens (`United
/// States`).
pub(super) fn capital_runs(toks: &[Tok]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut k = 0;
    while k < toks.len() {
        let mut j = k;
        while j < toks.len()
            && toks[j].surface.starts_with(char::is_uppercase)
            && alpha(&toks[j].lower)
        {
            j += 1;
        }
        if j - k >= 2 {
            out.push((k, j));
        }
        k = j.max(k + 1);
    }
    out
}

/// Rule INITIALS: the key of a run's initials (`United States` offers `us`, as `US` is keyed).
pub(super) fn initials(toks: &[Tok], (a, b): (usize, usize), vocab: &mut Vocab) -> u32 {
    let s: String = toks[a..b]
        .iter()
        .filter_map(|t| t.lower.chars().next())
        .collect();
    vocab.stem(&s)
}

/// Rule COMPOUND: the key of two words written joined by a hyphen (`co-operation` offers
/// `cooper`, as `cooperation` is keyed).
pub(super) fn compound(a: &Tok, b: &Tok, vocab: &mut Vocab) -> u32 {
    vocab.stem(&format!("{}{}", a.lower, b.lower))
}

/// The keys a sentence offers: its content tokens' keys, compound and initials keys.
fn key_set(toks: &[Tok], vocab: &mut Vocab) -> Vec<u32> {
    let mut keys: Vec<u32> = toks.iter().filter(|t| !t.stop).map(|t| t.key).collect();
    for w in toks.windows(2) {
        if w[0].hyph_next && alpha(&w[0].lower) && alpha(&w[1].lower) {
            keys.push(compound(&w[0], &w[1], vocab));
        }
    }
    for run in capital_runs(toks) {
        keys.push(initials(toks, run, vocab));
    }
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// Significant digits a written number states: 164 → 3, 1200000 → 2, 2.5 → 2.
pub(super) fn sig_digits(key: &str) -> usize {
    let digits = key.replace('.', "");
    let digits = digits.trim_start_matches('0');
    let digits = if key.contains('.') {
        digits
    } else {
        digits.trim_end_matches('0')
    };
    digits.len().max(1)
}

impl Source {
    /// Split, normalise and tokenise a source text once.
    pub(super) fn prepare(text: &str, vocab: &mut Vocab) -> Source {
        let mut sents = Vec::new();
        let mut postings: HashMap<u32, Vec<u32>> = HashMap::new();
        for (i, text) in units(text).into_iter().enumerate() {
            let toks = tokenize(&text, vocab);
            let keys = key_set(&toks, vocab);
            for &k in &keys {
                postings.entry(k).or_default().push(i as u32);
            }
            sents.push(Sentence { text, toks, keys });
        }
        let mut by_text: Vec<u32> = postings.keys().copied().collect();
        by_text.sort_unstable_by(|a, b| vocab.word(*a).cmp(vocab.word(*b)));
        let numbers = by_text
            .iter()
            .filter_map(|&key| {
                let w = vocab.word(key);
                let value = super::numbers::is_plain_number(w)
                    .then(|| w.parse::<f64>().ok())
                    .flatten()?;
                Some(PageNumber {
                    key,
                    value,
                    sig: sig_digits(w),
                    decimal: w.contains('.'),
                })
            })
            .collect();
        Source {
            sents,
            postings,
            by_text,
            numbers,
        }
    }

    /// Whether some sentence offers `key` (the page keys).
    pub(super) fn has(&self, key: u32) -> bool {
        self.postings.contains_key(&key)
    }

    pub(super) fn postings(&self, key: u32) -> &[u32] {
        self.postings.get(&key).map_or(&[], Vec::as_slice)
    }

    /// The sentences (ascending) in whose key set `key`, or one of its `alts`, is found.
    pub(super) fn sentences_of(&self, key: u32, alts: &[u32]) -> Vec<u32> {
        let mut out: Vec<u32> = self.postings(key).to_vec();
        for &a in alts {
            out.extend_from_slice(self.postings(a));
        }
        out.sort_unstable();
        out.dedup();
        out
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
    fn markdown_sources_split_into_sentences() {
        let (s, _) = source(
            "# Title here\n\nFirst line. Second one.\nThird line\n\n- item one. Item two\n- item three\n\n4. Fourth step\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n```\ncode here\nmore\n```\n",
        );
        let texts: Vec<&str> = s.sents.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "Title here",
                "First line.",
                "Second one.",
                "Third line",
                "item one.",
                "Item two",
                "item three",
                "Fourth step",
                "a · b",
                "1 · 2",
            ]
        );
    }

    #[test]
    fn compounds_and_initials_are_offered() {
        let (s, mut v) = source("The co-operation of the United States.");
        let coop = v.stem("cooperation");
        let us = v.stem("us");
        assert!(s.has(coop) && s.has(us));
    }
}
