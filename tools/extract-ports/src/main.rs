//! Runs one of the Readability ports on crates.io over every page of the extraction development
//! set in one process, on one thread, and writes `ID.txt` plain-text predictions for `score.py`
//! (BENCHMARKS.md, "Extraction"). Each crate's own plain-text output is used (readable-rs gives
//! only a tree: its text nodes are joined, a line per block element). A panic on a page is
//! caught and counts as an empty prediction.
//!
//! usage: cargo run --locked --release -- CANDIDATE HTML_DIR OUT_DIR GROUND_TRUTH
//! CANDIDATE: libreadability, legible, readabilityrs, lectito, readability-rust, readable-rs.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Instant;

// Block-level tags: a newline is emitted around them when walking readable-rs's DOM.
const BLOCKS: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "br",
    "dd",
    "details",
    "div",
    "dl",
    "dt",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "li",
    "main",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "summary",
    "table",
    "td",
    "th",
    "tr",
    "ul",
    "tbody",
    "thead",
    "tfoot",
    "caption",
];

fn node_text(n: &readable_rs::parser::NodeRef, out: &mut String) {
    if let Some(t) = n.as_text() {
        out.push_str(&t.borrow());
        return;
    }
    let block = n
        .as_element()
        .map(|e| BLOCKS.contains(&&*e.name.local))
        .unwrap_or(false);
    if let Some(e) = n.as_element() {
        let name = &*e.name.local;
        if name == "script" || name == "style" || name == "noscript" || name == "template" {
            return;
        }
    }
    if block {
        out.push('\n');
    }
    for c in n.children() {
        node_text(&c, out);
    }
    if block {
        out.push('\n');
    }
}

fn tidy(s: &str) -> String {
    // collapse runs of whitespace inside lines, drop empty lines
    s.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Returns (text, produced_result)
fn run(cand: &str, html: &str, url: Option<&str>) -> (String, bool) {
    match cand {
        "libreadability" => match libreadability::extract(html, url) {
            Ok(a) => (a.text_content, true),
            Err(_) => (String::new(), false),
        },
        "legible" => match legible::parse(html, url, None) {
            Ok(a) => (a.text_content, true),
            Err(_) => (String::new(), false),
        },
        "readabilityrs" => {
            match readabilityrs::Readability::new(
                html,
                url,
                Some(readabilityrs::ReadabilityOptions::default()),
            ) {
                Ok(r) => match r.parse() {
                    Some(a) => (a.text_content.unwrap_or_default(), true),
                    None => (String::new(), false),
                },
                Err(_) => (String::new(), false),
            }
        }
        "lectito" => match lectito::extract(html, url, &lectito::ReadabilityOptions::default()) {
            Ok(Some(a)) => (a.text_content, true),
            _ => (String::new(), false),
        },
        "readability-rust" => {
            let p = match url {
                Some(u) => readability_rust::Readability::new_with_base_uri(html, u, None),
                None => readability_rust::Readability::new(html, None),
            };
            match p {
                Ok(mut p) => match p.parse() {
                    Some(a) => (a.text_content.unwrap_or_default(), true),
                    None => (String::new(), false),
                },
                Err(_) => (String::new(), false),
            }
        }
        "readable-rs" => {
            let prod = readable_rs::extract(
                html,
                url.unwrap_or(""),
                readable_rs::ExtractOptions::default(),
            );
            match prod.content {
                Some(n) => {
                    let mut s = String::new();
                    node_text(&n, &mut s);
                    (tidy(&s), true)
                }
                None => (String::new(), false),
            }
        }
        other => panic!("unknown candidate {other}"),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 5 {
        eprintln!("usage: ports CANDIDATE HTML_DIR OUT_DIR GROUND_TRUTH");
        std::process::exit(2);
    }
    let (cand, html_dir, out_dir, gt_path) = (&args[1], &args[2], &args[3], &args[4]);
    let gt: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(gt_path).expect("the ground truth"))
            .expect("the ground truth as JSON");
    let mut ids: Vec<String> = std::fs::read_dir(html_dir)
        .expect("the page folder")
        .filter_map(|e| {
            let p = e.ok()?.path();
            let name = p.file_name()?.to_str()?.to_string();
            name.strip_suffix(".html").map(|s| s.to_string())
        })
        .collect();
    ids.sort();
    let pages: Vec<(String, String, Option<String>)> = ids
        .iter()
        .map(|id| {
            let bytes = std::fs::read(format!("{html_dir}/{id}.html")).expect("a page");
            let html = String::from_utf8_lossy(&bytes).into_owned();
            let url = gt
                .get(id)
                .and_then(|v| v.get("url"))
                .and_then(|u| u.as_str())
                .map(|s| s.to_string());
            (id.clone(), html, url)
        })
        .collect();
    // silence default panic printing; we record panics ourselves
    std::panic::set_hook(Box::new(|_| {}));
    let mut results: Vec<String> = Vec::with_capacity(pages.len());
    let mut panicked: Vec<&str> = Vec::new();
    let mut no_result = 0usize;
    let mut per: Vec<(f64, &str)> = Vec::with_capacity(pages.len());
    let t0 = Instant::now();
    for (id, html, url) in &pages {
        let tp = Instant::now();
        let r = catch_unwind(AssertUnwindSafe(|| run(cand, html, url.as_deref())));
        per.push((tp.elapsed().as_secs_f64(), id));
        match r {
            Ok((t, ok)) => {
                if !ok {
                    no_result += 1;
                }
                results.push(t)
            }
            Err(_) => {
                panicked.push(id);
                results.push(String::new())
            }
        }
    }
    let secs = t0.elapsed().as_secs_f64();
    let _ = std::panic::take_hook();
    std::fs::create_dir_all(out_dir).expect("the output folder");
    for ((id, _, _), t) in pages.iter().zip(&results) {
        std::fs::write(format!("{out_dir}/{id}.txt"), t).expect("a prediction");
    }
    let n = pages.len();
    println!(
        "{cand}: {n} pages in {secs:.2} s, {:.1} pages/s",
        n as f64 / secs
    );
    per.sort_by(|a, b| b.0.total_cmp(&a.0));
    eprintln!(
        "{cand}: median {:.4} s/page; slowest {:?}",
        per[per.len() / 2].0,
        &per[..5.min(per.len())]
    );
    eprintln!(
        "{cand}: panics {} {:?}; no result (Err/None) {no_result}",
        panicked.len(),
        panicked
    );
    // Pages whose checked main text has words but whose prediction has under five.
    let words = |t: &str| {
        t.split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .count()
    };
    let empty = pages
        .iter()
        .zip(&results)
        .filter(|((id, _, _), t)| {
            let body = gt
                .get(id)
                .and_then(|v| v.get("articleBody"))
                .and_then(|b| b.as_str());
            body.is_some_and(|b| words(b) > 0) && words(t) < 5
        })
        .count();
    println!("{cand}: {empty} pages with main text came out empty");
}
