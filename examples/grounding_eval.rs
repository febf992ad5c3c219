//! How well the grounding check tells claims their sources support from wrong ones, on a
//! labelled set built from the demo corpus: right claims (a source's sentence, and paraphrases
//! keeping its numbers) and wrong ones (the wrong source number, a changed number, a source
//! never gathered, a sentence no gathered source says). Prints precision and recall of the
//! "not supported" verdict per kind.
//!
//! `cargo run --release --example grounding_eval [-- --errors]`

use std::collections::BTreeMap;

use expanse::review::grounding::{self, RawClaim, Verdict};

/// Sentences of a markdown document that make good claims: prose, 8–40 words.
fn candidate_sentences(md: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_code = false;
    for block in md.split("\n\n") {
        let t = block.trim();
        if let Some(rest) = t.strip_prefix("```") {
            in_code = !rest.contains("```");
            continue;
        }
        if in_code || t.starts_with('#') || t.starts_with('|') || t.starts_with('-') {
            continue;
        }
        for s in grounding::sentences(&t.replace('\n', " ")) {
            let words = s.split_whitespace().count();
            if (8..=40).contains(&words) && !s.contains('`') && !s.contains("http") {
                out.push(s);
            }
        }
    }
    out
}

/// A paraphrase keeping the numbers and names: the clauses reordered around the first comma,
/// and a few connecting words dropped.
fn paraphrase(s: &str) -> Option<String> {
    let body = s.trim_end_matches('.');
    let (a, b) = body.split_once(", ")?;
    let b = b
        .split_whitespace()
        .filter(|w| !matches!(*w, "the" | "a" | "an" | "that" | "which"))
        .collect::<Vec<_>>()
        .join(" ");
    Some(format!("{b}, {}.", a.to_lowercase()))
}

/// The sentence with its first number changed, None when it has none.
fn renumber(s: &str) -> Option<String> {
    let i = s.find(|c: char| c.is_ascii_digit())?;
    let d = s[i..].chars().next()?.to_digit(10)?;
    let new = char::from_digit((d + 3) % 10, 10)?;
    Some(format!("{}{new}{}", &s[..i], &s[i + 1..]))
}

fn main() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/corpus");
    let mut docs: Vec<String> = Vec::new();
    for dir in [
        "distributed-training",
        "inference-optimization",
        "orchestration",
        "alternative-hardware",
    ] {
        let mut files: Vec<_> = std::fs::read_dir(root.join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for f in files {
            docs.push(std::fs::read_to_string(f).unwrap());
        }
    }
    // The gathered sources: the first 40 documents, numbered 1..=40; the rest are never gathered.
    let gathered: BTreeMap<usize, String> = docs
        .iter()
        .take(40)
        .enumerate()
        .map(|(i, d)| (i + 1, d.clone()))
        .collect();
    let mut claims: Vec<(&str, bool, RawClaim)> = Vec::new();
    let claim = |text: String, cites: Vec<usize>| RawClaim {
        section: None,
        line: 1,
        text,
        cites,
    };
    for (n, doc) in gathered.iter() {
        let sents = candidate_sentences(doc);
        let Some(first) = sents.first() else { continue };
        // Right: verbatim, and a paraphrase keeping numbers.
        claims.push(("verbatim", false, claim(first.clone(), vec![*n])));
        if let Some(p) = sents.iter().find_map(|s| paraphrase(s)) {
            claims.push(("paraphrase", false, claim(p, vec![*n])));
        }
        // Wrong: the source of the next document cited instead.
        let other = if *n == 40 { 1 } else { n + 1 };
        if let Some(s) = sents.get(1) {
            claims.push(("wrong source", true, claim(s.clone(), vec![other])));
        }
        // Wrong: a number changed.
        if let Some(s) = sents.iter().find_map(|s| renumber(s)) {
            claims.push(("changed number", true, claim(s, vec![*n])));
        }
    }
    // Wrong: citing a source never gathered, and saying what no gathered source says.
    for doc in docs.iter().skip(40).take(20) {
        let sents = candidate_sentences(doc);
        if let Some(s) = sents.first() {
            claims.push(("never gathered", true, claim(s.clone(), vec![99])));
        }
        if let Some(s) = sents.get(1) {
            claims.push(("not in the sources", true, claim(s.clone(), vec![1])));
        }
    }
    let raw: Vec<RawClaim> = claims.iter().map(|(_, _, c)| c.clone()).collect();
    let judged = grounding::check(raw, &gathered);
    // `--errors`: each claim judged wrong, with its verdict, note and evidence.
    let errors = std::env::args().any(|a| a == "--errors");
    let mut by_kind: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let (mut tp, mut fp, mut fn_) = (0, 0, 0);
    for ((kind, wrong, _), j) in claims.iter().zip(&judged) {
        let flagged = j.verdict != Verdict::Supported;
        let e = by_kind.entry(kind).or_default();
        e.0 += 1;
        if flagged == *wrong {
            e.1 += 1;
        } else if errors {
            println!(
                "{kind}: {} {:?}\n  claim: {}\n  note: {}\n  evidence: {}\n",
                j.verdict.name(),
                j.cites,
                j.text,
                j.note.as_deref().unwrap_or(""),
                j.evidence.as_ref().map_or("", |e| e.text.as_str())
            );
        }
        match (wrong, flagged) {
            (true, true) => tp += 1,
            (false, true) => fp += 1,
            (true, false) => fn_ += 1,
            _ => {}
        }
    }
    let wrong_total = claims.iter().filter(|c| c.1).count();
    println!(
        "{} labelled claims ({} wrong, {} right)\n",
        claims.len(),
        wrong_total,
        claims.len() - wrong_total
    );
    println!("| kind | claims | judged right |\n|---|---|---|");
    for (kind, (n, ok)) in &by_kind {
        println!(
            "| {kind} | {n} | {ok} ({:.0}%) |",
            *ok as f64 * 100.0 / *n as f64
        );
    }
    let precision = tp as f64 / (tp + fp).max(1) as f64;
    let recall = tp as f64 / (tp + fn_).max(1) as f64;
    println!(
        "\n\"not supported\" verdicts: precision {precision:.3}, recall {recall:.3} (tp {tp}, fp {fp}, fn {fn_})"
    );
}
