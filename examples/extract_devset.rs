//! Runs one extractor over every page of a folder in one process, writing `ID.txt` plain-text
//! predictions for `score.py` and printing pages per second (extraction only, one thread).
//!
//! usage: cargo run --release --example extract_devset -- CANDIDATE HTML_DIR OUT_DIR [GROUND_TRUTH]
//! HTML_DIR holds `ID.html` (or `ID.html.gz` decompressed beforehand); GROUND_TRUTH, when given,
//! supplies each page's URL, as a runner would know it. CANDIDATE is one of the names `--list` prints.
//! `SLOWEST=1` also prints the ten slowest pages; `THREADS=N` shares the pages among N threads.
//!
//! Python trafilatura, measured the same way for BENCHMARKS.md:
//! ```text
//! import os, sys, time, trafilatura
//! src, out = sys.argv[1], sys.argv[2]
//! os.makedirs(out, exist_ok=True)
//! pages = {f[:-5]: open(os.path.join(src, f), encoding="utf-8", errors="replace").read()
//!          for f in sorted(os.listdir(src)) if f.endswith(".html")}
//! start = time.perf_counter()
//! res = {k: trafilatura.extract(h) or "" for k, h in pages.items()}
//! dt = time.perf_counter() - start
//! for k, t in res.items():
//!     open(os.path.join(out, k + ".txt"), "w", encoding="utf-8").write(t)
//! print(f"{len(pages)} pages in {dt:.1f} s: {len(pages)/dt:.1f} pages/s")
//! ```

use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

use expanse::research::extract::sanitize::{MAX_DEPTH, sanitize};
use expanse::research::extract::{self, Extractor, markdown_to_text};
use rs_trafilatura::page_type::PageType;

type Run = fn(&str, Option<&str>) -> String;

/// One extractor alone on the sanitized page, as plain text.
fn alone(html: &str, url: Option<&str>, which: Extractor) -> String {
    let clean = sanitize(html, MAX_DEPTH).html;
    markdown_to_text(&extract::extract_with(&clean, url, which).markdown)
}

/// rs-trafilatura with its page-type classifier overridden: every page gets one type's
/// extraction profile (what a better classifier, or a per-page choice between profiles, could gain).
fn forced(html: &str, url: Option<&str>, pt: PageType) -> String {
    let options = rs_trafilatura::Options {
        url: url.map(str::to_string),
        include_tables: true,
        include_formatting: true,
        page_type: Some(pt),
        ..rs_trafilatura::Options::default()
    };
    let clean = sanitize(html, MAX_DEPTH).html;
    match rs_trafilatura::extract_with_options(&clean, &options) {
        Ok(r) => match r.content_html {
            Some(h) => markdown_to_text(&extract::to_markdown(&h)),
            None => r.content_text,
        },
        Err(_) => String::new(),
    }
}

fn candidates() -> Vec<(&'static str, Run)> {
    vec![
        // What runners get: sanitize, rs-trafilatura, fallbacks, on the extraction thread.
        ("expanse", |h, u| {
            extract::extract_page(h, u)
                .map(|p| markdown_to_text(&p.content))
                .unwrap_or_default()
        }),
        ("rs-trafilatura", |h, u| alone(h, u, Extractor::Trafilatura)),
        ("dom_smoothie", |h, u| alone(h, u, Extractor::Readability)),
        // rs-trafilatura + htmd on the raw page: what the sanitizer changes.
        ("rs-trafilatura-unsanitized", |h, u| {
            markdown_to_text(&extract::extract_with(h, u, Extractor::Trafilatura).markdown)
        }),
        ("whole", |h, u| alone(h, u, Extractor::Whole)),
        // rs-trafilatura's own text output on the raw page (no sanitizing, no htmd).
        ("rs-trafilatura-raw-text", |h, u| {
            let options = rs_trafilatura::Options {
                url: u.map(str::to_string),
                include_tables: true,
                include_formatting: true,
                ..rs_trafilatura::Options::default()
            };
            rs_trafilatura::extract_with_options(h, &options)
                .map(|r| r.content_text)
                .unwrap_or_default()
        }),
        // rs-trafilatura with one page type's profile on every page (BENCHMARKS.md, products).
        ("forced-article", |h, u| forced(h, u, PageType::Article)),
        ("forced-product", |h, u| forced(h, u, PageType::Product)),
        ("forced-category", |h, u| forced(h, u, PageType::Category)),
        ("forced-listing", |h, u| forced(h, u, PageType::Listing)),
        ("forced-service", |h, u| forced(h, u, PageType::Service)),
        ("forced-docs", |h, u| forced(h, u, PageType::Documentation)),
        ("forced-forum", |h, u| forced(h, u, PageType::Forum)),
        // Not text: rs-trafilatura's `extraction_quality`, its page type and word count, one
        // line per page, for `examples/devset_choose.py` (choosing a fallback by that signal).
        ("quality", |h, u| {
            let options = rs_trafilatura::Options {
                url: u.map(str::to_string),
                include_tables: true,
                include_formatting: true,
                ..rs_trafilatura::Options::default()
            };
            let clean = sanitize(h, MAX_DEPTH).html;
            match rs_trafilatura::extract_with_options(&clean, &options) {
                Ok(r) => format!(
                    "{} {} {}",
                    r.extraction_quality,
                    r.metadata.page_type.unwrap_or_default(),
                    r.content_text.split_whitespace().count()
                ),
                Err(_) => "0 none 0".into(),
            }
        }),
    ]
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let cands = candidates();
    if args.first().is_none_or(|a| a == "--list") || args.len() < 3 {
        for (name, _) in &cands {
            println!("{name}");
        }
        return;
    }
    let Some(&(name, run)) = cands.iter().find(|(n, _)| *n == args[0]) else {
        eprintln!("unknown candidate {}", args[0]);
        std::process::exit(2);
    };
    let (dir, out) = (Path::new(&args[1]), Path::new(&args[2]));
    let urls: HashMap<String, String> = args
        .get(3)
        .map(|gt| {
            let v: serde_json::Value =
                serde_json::from_slice(&std::fs::read(gt).expect("ground truth")).expect("json");
            v.as_object()
                .expect("an object of pages")
                .iter()
                .filter_map(|(k, p)| Some((k.clone(), p.get("url")?.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default();
    let mut pages: Vec<(String, String)> = std::fs::read_dir(dir)
        .expect("the page folder")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "html"))
        .map(|p| {
            let id = p
                .file_stem()
                .expect("a file name")
                .to_string_lossy()
                .to_string();
            let bytes = std::fs::read(&p).expect("a page");
            (id, String::from_utf8_lossy(&bytes).into_owned())
        })
        .collect();
    pages.sort();
    std::fs::create_dir_all(out).expect("the output folder");
    let threads: usize = std::env::var("THREADS")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(1)
        .max(1);
    let start = Instant::now();
    // Page i goes to thread i % threads; results come back in page order.
    let shards: Vec<Vec<(usize, String, f64)>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|k| {
                let (pages, urls) = (&pages, &urls);
                s.spawn(move || {
                    let mut done = Vec::new();
                    for (i, (id, html)) in pages.iter().enumerate().skip(k).step_by(threads) {
                        let t = Instant::now();
                        let text = run(html, urls.get(id).map(String::as_str));
                        done.push((i, text, t.elapsed().as_secs_f64()));
                    }
                    done
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a worker"))
            .collect()
    });
    let secs = start.elapsed().as_secs_f64();
    let mut done: Vec<(usize, String, f64)> = shards.into_iter().flatten().collect();
    done.sort_by_key(|d| d.0);
    let mut times: Vec<(f64, &str, usize)> = done
        .iter()
        .map(|(i, _, t)| (*t, pages[*i].0.as_str(), pages[*i].1.len()))
        .collect();
    let results: Vec<String> = done.into_iter().map(|d| d.1).collect();
    if std::env::var_os("SLOWEST").is_some() {
        times.sort_by(|a, b| b.0.total_cmp(&a.0));
        for (t, id, len) in times.iter().take(10) {
            println!("  slow {id}: {:.0} ms, {} KB", t * 1000.0, len / 1024);
        }
        let total: f64 = times.iter().map(|t| t.0).sum();
        let tenth: f64 = times.iter().take(times.len() / 10).map(|t| t.0).sum();
        let median = times[times.len() / 2].0;
        println!(
            "  median {:.1} ms; slowest tenth of pages take {:.0}% of the time",
            median * 1000.0,
            100.0 * tenth / total
        );
    }
    for ((id, _), text) in pages.iter().zip(&results) {
        std::fs::write(out.join(format!("{id}.txt")), text).expect("a prediction");
    }
    println!(
        "{name}: {} pages in {secs:.1} s, {:.1} pages/s ({threads} thread{}, extraction only)",
        pages.len(),
        pages.len() as f64 / secs,
        if threads == 1 { "" } else { "s" }
    );
}
