//! The grounding check and checklist of a 500-line draft citing 40 sources (target: under 50 ms).

use std::collections::BTreeMap;

use criterion::{Criterion, criterion_group, criterion_main};
use expanse::plan::Plan;
use expanse::review::{checklist, grounding};

/// 40 demo-corpus documents as the gathered sources, and a 500-line draft quoting their
/// paragraphs with citations, in five planned sections.
fn material() -> (BTreeMap<usize, String>, String, Plan) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/corpus");
    let mut docs = Vec::new();
    for dir in [
        "distributed-training",
        "inference-optimization",
        "orchestration",
    ] {
        let mut files: Vec<_> = std::fs::read_dir(root.join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        docs.extend(
            files
                .into_iter()
                .map(|f| std::fs::read_to_string(f).unwrap()),
        );
    }
    let sources: BTreeMap<usize, String> = docs
        .into_iter()
        .cycle()
        .take(40)
        .enumerate()
        .map(|(i, d)| (i + 1, d))
        .collect();
    let mut text = String::from("# Bench\n\n");
    let mut k = 0;
    'fill: for round in 0.. {
        for (n, doc) in &sources {
            if text.lines().count() >= 500 {
                break 'fill;
            }
            if (n - 1) % 8 == 0 && round == 0 {
                k += 1;
                text.push_str(&format!("## Section {k}: Part {k}\n\n"));
            }
            let para = doc
                .split("\n\n")
                .filter(|p| !p.starts_with('#') && !p.starts_with("```") && p.len() > 80)
                .nth(round)
                .unwrap_or("A filler sentence with no source behind it at all.");
            text.push_str(&format!("{} [{n}]\n\n", para.trim()));
        }
    }
    text.push_str("## Sources\n\n");
    for n in sources.keys() {
        text.push_str(&format!("[{n}] Doc {n} — corpus://{n}.md\n"));
    }
    let mut plan =
        String::from("### PART 1: Create b/x.md (~500 lines)\n- [ ] PART 1: Create b/x.md\n");
    for s in 1..=5 {
        plan.push_str(&format!("- [ ] Section {s}: Part {s} (~100 lines)\n"));
    }
    (sources, text, Plan::parse(&plan))
}

fn bench(c: &mut Criterion) {
    let (sources, text, plan) = material();
    let claims = grounding::claims(&text, true);
    eprintln!(
        "draft: {} lines, {} claims, {} sources",
        text.lines().count(),
        claims.len(),
        sources.len()
    );
    c.bench_function(
        "grounding check + checklist, 500-line draft, 40 sources",
        |b| {
            b.iter(|| {
                let judged = grounding::check(grounding::claims(&text, true), &sources);
                checklist(&plan.parts[0], &text, None, &[], None, &judged)
            })
        },
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
