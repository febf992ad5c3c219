//! The chosen extractor on real pages of the development set (one or two per page type, copied
//! into `tests/fixtures/extract-real/`, see NOTICE there): the snippets the set says must appear
//! do, the boilerplate it says must not appear does not, and headings survive into markdown.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use expanse::research::extract::{Kind, extract_document, markdown_to_text};

#[derive(serde::Deserialize)]
struct Expect {
    url: String,
    page_type: String,
    with: Vec<String>,
    without: Vec<String>,
}

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/extract-real")
}

/// Lower-cased word tokens joined by single spaces, padded: the scorer's view of text, so that
/// snippets match across markdown escapes, quotes and line breaks, and only on word boundaries.
fn words(text: &str) -> String {
    let mut out = String::from(" ");
    for w in text
        .split(|c: char| !c.is_alphanumeric() && c != '_')
        .filter(|w| !w.is_empty())
    {
        out.push_str(&w.to_lowercase());
        out.push(' ');
    }
    out
}

fn pages() -> Vec<(String, Vec<u8>, Expect)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|x| x != "json") {
            continue;
        }
        let id = path.file_stem().unwrap().to_string_lossy().to_string();
        let expect: Expect = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let gz = std::fs::File::open(dir().join(format!("{id}.html.gz"))).unwrap();
        let mut html = Vec::new();
        flate2::read::GzDecoder::new(gz)
            .read_to_end(&mut html)
            .unwrap();
        out.push((id, html, expect));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn real_pages_keep_their_main_text_and_drop_boilerplate() {
    let pages = pages();
    let types: std::collections::BTreeSet<&str> =
        pages.iter().map(|p| p.2.page_type.as_str()).collect();
    assert_eq!(
        types.into_iter().collect::<Vec<_>>(),
        [
            "article",
            "collection",
            "documentation",
            "forum",
            "listing",
            "product",
            "service"
        ]
    );
    for (id, html, expect) in &pages {
        let kind = Kind::of(Some("text/html"), html).unwrap();
        let page = extract_document(html, kind, &expect.url)
            .unwrap_or_else(|e| panic!("{id} ({}): {e}", expect.page_type));
        let text = words(&markdown_to_text(&page.content));
        for w in &expect.with {
            assert!(
                text.contains(&words(w)),
                "{id} ({}): missing {w:?}\n{}",
                expect.page_type,
                page.content
            );
        }
        for w in &expect.without {
            assert!(
                !text.contains(&words(w)),
                "{id} ({}): kept boilerplate {w:?}\n{}",
                expect.page_type,
                page.content
            );
        }
    }
}

#[test]
fn headings_survive_into_the_markdown() {
    let with_headings = pages()
        .iter()
        // Pages whose main text is sectioned (on forums and collections the headings on a page
        // are mostly its chrome's).
        .filter(|(_, html, e)| {
            let h = String::from_utf8_lossy(html).to_ascii_lowercase();
            h.contains("<h2")
                && matches!(
                    e.page_type.as_str(),
                    "article" | "documentation" | "service"
                )
        })
        .map(|(id, html, e)| {
            let page = extract_document(html, Kind::Html, &e.url).unwrap();
            (
                id.clone(),
                page.content
                    .lines()
                    .any(|l| l.starts_with("## ") || l.starts_with("# ")),
            )
        })
        .collect::<Vec<_>>();
    assert!(!with_headings.is_empty());
    let kept = with_headings.iter().filter(|(_, h)| *h).count();
    // Every such page keeps some of them as markdown headings.
    assert_eq!(kept, with_headings.len(), "{with_headings:?}");
}
