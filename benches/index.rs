//! Building the tantivy index of the demo corpus (`assets/corpus/`) from scratch.

use criterion::{Criterion, criterion_group, criterion_main};
use std::path::Path;

fn bench(c: &mut Criterion) {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/corpus");
    let mut g = c.benchmark_group("index");
    g.sample_size(10);
    g.bench_function("build the demo corpus index", |b| {
        b.iter_with_setup(
            || tempfile::tempdir().unwrap(),
            |dir| {
                let (_, info) =
                    expanse::research::local::LocalSearch::open(&corpus, dir.path()).unwrap();
                assert!(info.built && info.documents >= 48);
            },
        )
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
