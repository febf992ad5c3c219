//! Main-content extraction: token F1 against hand-checked texts and pages per second, for each
//! extractor, on the hand-made evaluation pages in `tests/fixtures/extract/` (the 999-page
//! development set is measured by `examples/extract_devset.rs`, see BENCHMARKS.md).

use std::path::Path;
use std::time::Instant;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use expanse::research::extract::sanitize::{MAX_DEPTH, sanitize};
use expanse::research::extract::{
    Extractor, extract_page, extract_with, markdown_to_text, token_f1,
};

const URL: &str = "https://example.com/page";

/// A candidate: a name and a function from HTML to markdown.
type Candidate = (&'static str, fn(&str) -> String);

fn candidates() -> Vec<Candidate> {
    vec![
        ("whole page + htmd", |h| {
            extract_with(&sanitize(h, MAX_DEPTH).html, Some(URL), Extractor::Whole).markdown
        }),
        ("dom_smoothie + htmd", |h| {
            extract_with(
                &sanitize(h, MAX_DEPTH).html,
                Some(URL),
                Extractor::Readability,
            )
            .markdown
        }),
        ("rs-trafilatura + htmd", |h| {
            extract_with(
                &sanitize(h, MAX_DEPTH).html,
                Some(URL),
                Extractor::Trafilatura,
            )
            .markdown
        }),
        ("expanse (chosen, bounded)", |h| {
            extract_page(h, Some(URL))
                .map(|p| p.content)
                .unwrap_or_default()
        }),
    ]
}

struct Fixture {
    name: String,
    html: String,
    expected: String,
}

fn fixtures() -> Vec<Fixture> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/extract");
    let mut out: Vec<Fixture> = std::fs::read_dir(&dir)
        .expect("the evaluation pages are in tests/fixtures/extract")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "html"))
        .map(|p| {
            let name = p.file_stem().unwrap().to_string_lossy().to_string();
            Fixture {
                html: std::fs::read_to_string(&p).unwrap(),
                expected: std::fs::read_to_string(dir.join(format!("{name}.expected.txt")))
                    .unwrap(),
                name,
            }
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// Prints the F1 table and a pages/s figure per extractor (measured outside criterion too, so
/// the table is complete even with `--quick`).
fn table(pages: &[Fixture]) {
    println!(
        "\nextraction quality on {} pages (token F1; P / R averaged)",
        pages.len()
    );
    print!("{:<18}", "page");
    let cands = candidates();
    for (name, _) in &cands {
        print!(" | {:>22}", name);
    }
    println!();
    let mut sums = vec![(0.0, 0.0, 0.0); cands.len()];
    for page in pages {
        print!("{:<18}", page.name);
        for (i, (_, run)) in cands.iter().enumerate() {
            let got = markdown_to_text(&run(&page.html));
            let (p, r, f) = token_f1(&page.expected, &got);
            sums[i].0 += p;
            sums[i].1 += r;
            sums[i].2 += f;
            print!(" | {:>22.3}", f);
        }
        println!();
    }
    let n = pages.len() as f64;
    print!("{:<18}", "mean F1");
    for s in &sums {
        print!(" | {:>22.3}", s.2 / n);
    }
    println!();
    print!("{:<18}", "mean P / R");
    for s in &sums {
        print!(" | {:>22}", format!("{:.3} / {:.3}", s.0 / n, s.1 / n));
    }
    println!();
    print!("{:<18}", "pages/s");
    for (_, run) in &cands {
        let rounds = 20;
        let start = Instant::now();
        for _ in 0..rounds {
            for page in pages {
                std::hint::black_box(run(&page.html));
            }
        }
        let rate = (rounds * pages.len()) as f64 / start.elapsed().as_secs_f64();
        print!(" | {:>22.0}", rate);
    }
    println!("\n");
}

fn bench(c: &mut Criterion) {
    let pages = fixtures();
    table(&pages);
    let mut group = c.benchmark_group("extract");
    group.throughput(Throughput::Elements(pages.len() as u64));
    for (name, run) in candidates() {
        group.bench_function(name, |b| {
            b.iter(|| {
                for page in &pages {
                    std::hint::black_box(run(&page.html));
                }
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
