//! HTML -> markdown for fetched pages and corpus documents: main-content extraction (navigation,
//! headers, footers, ads, comments and scripts removed), then htmd for the markdown.

use crate::research::Page;

/// Tags whose content never reaches the writer, whatever the extractor kept.
const SKIPPED_TAGS: &[&str] = &[
    "script", "style", "noscript", "nav", "header", "footer", "aside", "form", "iframe", "svg",
    "button", "template", "head", "select", "input", "textarea", "dialog", "canvas", "object",
    "embed",
];

/// Page furniture that sits inside the main content often enough to fool a content scorer: ad
/// slots, cookie and consent banners, share bars, newsletter boxes, paywall prompts, modals.
const NOISE_SELECTORS: &str = concat!(
    ".ad, .ads, .advert, .advertisement, .ad-slot, .ad-container, .ad-inline, .adsbygoogle, ",
    "[data-ad-slot], [id^='div-gpt-ad'], [class*='advertisement'], [class*='sponsored'], ",
    "[class*='cookie'], [id*='cookie'], [id^='onetrust'], [class*='consent'], ",
    "[class*='share-bar'], [class*='social-share'], [class*='newsletter'], [class*='paywall'], ",
    "[role='dialog'], [aria-modal='true'], [hidden], ",
    "script, style, noscript, template, iframe, svg, canvas, object, embed"
);

/// Below this many characters of text an extractor's result is taken as a miss, and the whole
/// page (minus the skipped tags) is used instead.
const MIN_MAIN_CHARS: usize = 120;

/// A main-content extractor. [`Extractor::CHOSEN`] is what runners use; the baseline is kept for
/// the evaluation in `benches/extract.rs`, which also measures rs-trafilatura (a dev-dependency:
/// it writes `DEBUG:` lines to stderr on every page, which would garble the terminal UI).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extractor {
    /// No extraction: the whole body minus [`SKIPPED_TAGS`] (the baseline).
    Whole,
    /// dom_smoothie (a port of Mozilla's Readability) article HTML, converted by htmd.
    Readability,
}

impl Extractor {
    /// The extractor runners use, chosen by token F1 and pages/s on `tests/fixtures/extract/`.
    pub const CHOSEN: Extractor = Extractor::Readability;
    /// Every extractor, for evaluation.
    pub const ALL: [Extractor; 2] = [Extractor::Whole, Extractor::Readability];

    /// A short name for tables.
    pub fn name(self) -> &'static str {
        match self {
            Extractor::Whole => "whole page + htmd",
            Extractor::Readability => "dom_smoothie + htmd",
        }
    }
}

/// A page's title and main content as markdown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extracted {
    /// The page's title, if it has one.
    pub title: Option<String>,
    /// The main content as markdown.
    pub markdown: String,
}

/// The page exactly as runners see it: title (or the URL when there is none) and main content
/// as markdown. This is what `expanse extract FILE|URL` prints.
pub fn extract_page(html: &str, url: Option<&str>) -> Page {
    let e = extract(html, url);
    Page {
        url: url.unwrap_or_default().to_string(),
        title: e
            .title
            .unwrap_or_else(|| url.unwrap_or_default().to_string()),
        content: e.markdown,
    }
}

/// The main content of an HTML page with the chosen extractor, falling back to the whole page
/// when the extractor finds nothing worth keeping.
pub fn extract(html: &str, url: Option<&str>) -> Extracted {
    let chosen = extract_with(html, url, Extractor::CHOSEN);
    if text_len(&chosen.markdown) >= MIN_MAIN_CHARS || Extractor::CHOSEN == Extractor::Whole {
        return chosen;
    }
    let whole = extract_with(html, url, Extractor::Whole);
    if text_len(&whole.markdown) > text_len(&chosen.markdown) {
        Extracted {
            title: chosen.title.or(whole.title),
            markdown: whole.markdown,
        }
    } else {
        chosen
    }
}

/// The main content of an HTML page with one particular extractor (no fallback).
pub fn extract_with(html: &str, url: Option<&str>, which: Extractor) -> Extracted {
    let page_title = title_of(html);
    let doc = dom_query::Document::from(html);
    if let Some(noise) = doc.try_select(NOISE_SELECTORS) {
        noise.remove();
    }
    let (title, main_html) = match which {
        Extractor::Whole => (None, doc.html().to_string()),
        Extractor::Readability => match readability(doc.clone(), url) {
            (t, Some(h)) => (t, h),
            (t, None) => (t, doc.html().to_string()),
        },
    };
    let markdown = to_markdown(&main_html);
    Extracted {
        title: title
            .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
            .filter(|t| !t.is_empty())
            .or(page_title),
        markdown,
    }
}

/// The main content of an HTML page as markdown, and its title if it has one (corpus documents).
pub fn html_to_markdown(html: &str) -> (Option<String>, String) {
    let e = extract(html, None);
    (e.title, e.markdown)
}

/// Markdown reduced to plain text: markup dropped, one paragraph, heading or list item per line
/// (`expanse extract --format text`).
pub fn markdown_to_text(md: &str) -> String {
    use pulldown_cmark::{Event, Parser, Tag, TagEnd};
    let mut out = String::with_capacity(md.len());
    let newline = |out: &mut String| {
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
    };
    for event in Parser::new(md) {
        match event {
            Event::Text(t) | Event::Code(t) => out.push_str(&t),
            Event::SoftBreak => out.push(' '),
            Event::HardBreak => out.push('\n'),
            Event::Start(Tag::Item) => newline(&mut out),
            Event::End(
                TagEnd::Paragraph
                | TagEnd::Heading(_)
                | TagEnd::Item
                | TagEnd::CodeBlock
                | TagEnd::TableRow
                | TagEnd::TableHead
                | TagEnd::BlockQuote(_),
            ) => newline(&mut out),
            Event::End(TagEnd::TableCell) => out.push('\t'),
            _ => {}
        }
    }
    let lines: Vec<&str> = out.lines().map(str::trim_end).collect();
    let mut text = lines.join("\n").trim().to_string();
    text.push('\n');
    text
}

/// Token-level precision, recall and F1 of `got` against `expected` (bags of lower-cased words),
/// the measure `benches/extract.rs` ranks extractors by.
pub fn token_f1(expected: &str, got: &str) -> (f64, f64, f64) {
    use std::collections::HashMap;
    fn bag(text: &str) -> HashMap<String, usize> {
        let mut bag = HashMap::new();
        for w in text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
        {
            *bag.entry(w.to_lowercase()).or_insert(0) += 1;
        }
        bag
    }
    let (want, have) = (bag(expected), bag(got));
    let overlap: usize = have
        .iter()
        .map(|(w, n)| (*n).min(want.get(w).copied().unwrap_or(0)))
        .sum();
    let (n_want, n_have) = (want.values().sum::<usize>(), have.values().sum::<usize>());
    if overlap == 0 || n_want == 0 || n_have == 0 {
        return (0.0, 0.0, 0.0);
    }
    let p = overlap as f64 / n_have as f64;
    let r = overlap as f64 / n_want as f64;
    (p, r, 2.0 * p * r / (p + r))
}

fn readability(doc: dom_query::Document, url: Option<&str>) -> (Option<String>, Option<String>) {
    // dom_smoothie refuses a relative or malformed document URL; extraction does not need one.
    let url = url.filter(|u| reqwest::Url::parse(u).is_ok());
    let Ok(mut r) = dom_smoothie::Readability::with_document(doc, url, None) else {
        return (None, None);
    };
    match r.parse() {
        Ok(article) => (Some(article.title), Some(article.content.to_string())),
        Err(_) => (None, None),
    }
}

/// An HTML fragment (an extractor's output) as tidy markdown, skipped tags dropped.
pub fn to_markdown(html: &str) -> String {
    let converter = htmd::HtmlToMarkdown::builder()
        .skip_tags(SKIPPED_TAGS.to_vec())
        .build();
    let md = converter.convert(html).unwrap_or_default();
    tidy(&md)
}

fn text_len(md: &str) -> usize {
    md.chars().filter(|c| c.is_alphanumeric()).count()
}

/// Collapse runs of blank lines left by removed elements.
fn tidy(md: &str) -> String {
    let mut out = String::with_capacity(md.len());
    let mut blank = 0;
    for line in md.lines() {
        if line.trim().is_empty() {
            blank += 1;
            if blank > 1 {
                continue;
            }
        } else {
            blank = 0;
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out.trim().to_string() + "\n"
}

fn title_of(html: &str) -> Option<String> {
    let lower = html.to_ascii_lowercase();
    let start = lower.find("<title")?;
    let open_end = lower[start..].find('>')? + start + 1;
    let close = lower[open_end..].find("</title>")? + open_end;
    let t = html[open_end..close]
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    (!t.is_empty()).then_some(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boilerplate_is_dropped() {
        let html = "<html><head><title>ZeRO  guide</title><script>var x=1;</script></head><body>\
<nav><a href='/'>Home</a> | <a href='/docs'>Docs</a></nav><header>Site header</header>\
<main><h1>ZeRO</h1><p>ZeRO partitions <b>optimizer state</b>.</p></main>\
<aside>Buy now!</aside><footer>© 2024</footer></body></html>";
        let (title, md) = html_to_markdown(html);
        assert_eq!(title.as_deref(), Some("ZeRO guide"));
        assert!(md.contains("ZeRO partitions **optimizer state**."), "{md}");
        for gone in ["Home", "Site header", "Buy now", "©", "var x"] {
            assert!(!md.contains(gone), "{gone} leaked into {md}");
        }
    }

    #[test]
    fn text_format_drops_markup() {
        let md = "# Title\n\nSome **bold** and `code` [link](http://x).\n\n- one\n- two\n";
        assert_eq!(
            markdown_to_text(md),
            "Title\nSome bold and code link.\none\ntwo\n"
        );
    }
}
