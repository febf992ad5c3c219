//! Diff a 10,000-line file against a copy with 10% of its lines edited (word-level changes inside).

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

fn file(lines: usize) -> String {
    (0..lines)
        .map(|i| format!("Line {i}: ZeRO stage {} partitions optimizer states, gradients and parameters across {} ranks for model {i}.", i % 3 + 1, 8 << (i % 4)))
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

fn edited(text: &str) -> String {
    text.lines()
        .enumerate()
        .map(|(i, l)| {
            if i % 10 == 3 {
                l.replace("gradients", "activations")
                    .replace("ranks", "GPUs")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

fn bench(c: &mut Criterion) {
    let old = file(10_000);
    let new = edited(&old);
    let d = expanse::review::diff(Some(&old), &new, "x.md");
    assert_eq!((d.added, d.removed), (1_000, 1_000));
    assert!(
        d.hunks
            .iter()
            .flat_map(|h| &h.lines)
            .any(|l| l.segments.iter().any(|s| s.emphasized))
    );
    c.bench_function("diff 10k lines, 10% edited, word-level", |b| {
        b.iter(|| expanse::review::diff(Some(black_box(&old)), black_box(&new), "x.md"))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = bench
}
criterion_main!(benches);
