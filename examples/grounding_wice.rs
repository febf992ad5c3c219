//! The grounding check on a benchmark of claims with their sources (WiCE, Climate-FEVER pairs,
//! the mechanical negation set), to compare the port with its Python prototype and score it
//! with `bench/grounding/score.py`. Each input line is `{"id", "claim", "sources": {"1":
//! text, …}}`, the claim carrying its `[n]` markers; each output line `{"id", "verdict",
//! "reason", "evidence"}`, in input order. A claims-per-second figure goes to stderr.
//!
//! `cargo run --release --example grounding_wice -- wice-dev.jsonl > pred.jsonl` (`-` reads
//! stdin)

use std::collections::BTreeMap;
use std::io::{BufRead, Write};

use expanse::review::grounding::{self, RawClaim};
use serde_json::{Value, json};

fn main() -> anyhow::Result<()> {
    let path = std::env::args()
        .nth(1)
        .ok_or_else(|| anyhow::anyhow!("usage: grounding_wice IN.jsonl|-"))?;
    let input: Box<dyn BufRead> = if path == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(std::io::BufReader::new(std::fs::File::open(&path)?))
    };
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let started = std::time::Instant::now();
    let mut n = 0usize;
    for line in input.lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let row: Value = serde_json::from_str(&line)?;
        let claim = row["claim"].as_str().unwrap_or_default();
        let sources: BTreeMap<usize, String> = row["sources"]
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| Some((k.parse().ok()?, v.as_str()?.to_string())))
            .collect();
        // As the prototype: a claim citing nothing is checked against every source it came with.
        let mut cites = expanse::draft::citations(claim);
        if cites.is_empty() {
            cites = sources.keys().copied().collect();
        }
        let raw = RawClaim {
            section: None,
            line: 1,
            text: grounding::plain(claim),
            cites,
        };
        let judged = grounding::check(vec![raw], &sources).remove(0);
        n += 1;
        // The "found in [n] instead" addition is expanse's, not the algorithm's: the benchmark
        // compares the reason of the cited sources alone.
        let reason = judged.note.unwrap_or_default();
        let reason = match reason.rfind("found in [") {
            Some(i) if reason.ends_with("] instead") => {
                reason[..i].trim_end_matches("; ").to_string()
            }
            _ => reason,
        };
        let record = json!({
            "id": row["id"],
            "verdict": judged.verdict.name(),
            "reason": reason,
            "evidence": judged.evidence.map(|e| e.text).unwrap_or_default(),
        });
        writeln!(out, "{record}")?;
    }
    out.flush()?;
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "{n} claims in {secs:.2} s ({:.0} claims/s, sources prepared per claim)",
        n as f64 / secs.max(1e-9)
    );
    Ok(())
}
