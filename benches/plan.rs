//! Parse a generated 1,000-PART plan, and a no-op edit on it.

use criterion::{Criterion, criterion_group, criterion_main};
use expanse::plan::{self, Plan};
use std::hint::black_box;

/// A plan of the seed's family with `parts` PARTs, five queries and five sections each.
fn generated_plan(parts: usize) -> String {
    let mut s = String::from("# Knowledge Expansion: Generated\n\n**Date**: 2026-11-24\n\n");
    for n in 1..=parts {
        if n % 4 == 1 {
            s.push_str(&format!(
                "## EXPANSION {}: Group {}\n\n",
                n / 4 + 1,
                n / 4 + 1
            ));
        }
        let target = format!("gen/topic-{n:04}.md");
        s.push_str(&format!(
            "### PART {n}: Create {target} (~500 lines)\n\n- [ ] PART {n}: Create {target}\n\n\
**Step 0: Check Existing Knowledge**\n- [ ] Read INDEX.md for topic {n} mentions\n\
- [ ] Grep for \"topic\" AND \"{n}\" in gen/ folder\n- [ ] Identify gaps: what is missing on {n}\n\n\
**Step 1: Web Research**\n"
        ));
        for q in 0..5 {
            s.push_str(&format!("- [ ] Search: \"topic {n} query {q}\"\n"));
        }
        s.push_str("- [ ] Scrape top 3 results\n\n**Step 2: Create Knowledge File**\n");
        for k in 1..=5 {
            s.push_str(&format!(
                "- [ ] Section {k}: Part {k} - hint for it (~100 lines)\n"
            ));
        }
        s.push_str(&format!(
            "- [ ] Cite all sources\n\n**Step 3: Create KNOWLEDGE DROP**\n\
- [ ] Create KNOWLEDGE-DROP-topic-{n}-2026-11-24-[TIME].md\n\n---\n\n"
        ));
    }
    s
}

fn bench(c: &mut Criterion) {
    let text = generated_plan(1000);
    assert_eq!(Plan::parse(&text).parts.len(), 1000);
    c.bench_function("parse 1000-PART plan", |b| {
        b.iter(|| Plan::parse(black_box(&text)))
    });
    c.bench_function("no-op untick on 1000-PART plan", |b| {
        b.iter(|| plan::untick(black_box(&text), 500).unwrap())
    });
    c.bench_function("tick on 1000-PART plan", |b| {
        b.iter(|| plan::tick(black_box(&text), 500, "Completed 2026-11-24 10:00").unwrap())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
