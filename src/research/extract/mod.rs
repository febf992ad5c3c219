//! Page -> main content as markdown, for fetched pages, corpus documents and `expanse extract`:
//! the type is recognised (HTML, text, PDF), HTML is bounded by [`sanitize`] and reduced to its
//! main content (navigation, headers, footers, ads and scripts removed), then htmd makes the
//! markdown. Every entry point is total: it returns an [`ExtractError`] rather than panicking,
//! and runs on a thread of its own with a known stack (see [`bounded`]).

pub mod repeats;
pub mod sanitize;

use std::panic::AssertUnwindSafe;

use crate::research::{Page, passages, pdf};
use sanitize::{MAX_DEPTH, sanitize};

/// Largest HTML document extracted (larger ones are refused, not truncated: the end of a page
/// cut short is as likely to be its main text as anything else).
pub const MAX_HTML_BYTES: usize = 16 * 1024 * 1024;

/// Stack of the extraction thread. The sanitized tree is at most [`MAX_DEPTH`] deep (plus the
/// few dozen formatting elements the parser reopens, which [`sanitize`] also bounds), and the
/// extractors' recursion over it needs far less; the margin is for recursion we do not know
/// of. Only the pages the thread touches are committed, so a large reservation costs nothing.
pub const EXTRACT_STACK_BYTES: usize = 256 * 1024 * 1024;

/// Longest an extraction may take before the caller moves on without it. The slowest hostile
/// page measured takes under a second and a 300-page PDF a few; past this, something in a
/// parser or extractor has gone superlinear, and one page must not hold a runner up for good.
/// The thread cannot be stopped; it finishes in the background and its answer is dropped.
pub const EXTRACT_DEADLINE: std::time::Duration = std::time::Duration::from_secs(60);

/// Why a document gave no content.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ExtractError {
    /// Larger than the extractor takes.
    #[error("{bytes} bytes is over the {limit}-byte limit for extraction")]
    TooLarge {
        /// The document's size.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
    /// Not HTML, text, markdown or PDF.
    #[error("unsupported type {0} (expanse reads HTML, text, markdown and PDF)")]
    Unsupported(String),
    /// Parsed, but nothing readable was found.
    #[error("no readable main content")]
    NoContent,
    /// A PDF that cannot be read (encrypted, corrupt, image only, too many pages).
    #[error("PDF: {0}")]
    Pdf(#[from] pdf::PdfError),
    /// The extractor failed (a panic caught on the extraction thread).
    #[error("extraction failed: {0}")]
    Failed(String),
}

/// What a document is, as far as extraction is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// HTML or XHTML: main-content extraction.
    Html,
    /// Plain text or markdown: taken as it is.
    Text,
    /// PDF: text extraction.
    Pdf,
}

impl Kind {
    /// The kind a `Content-Type` and the body's first bytes say; the `%PDF` magic wins over a
    /// header (servers send PDFs as `application/octet-stream` or even `text/html`).
    pub fn of(content_type: Option<&str>, body: &[u8]) -> Result<Kind, ExtractError> {
        if pdf::looks_like_pdf(body) {
            return Ok(Kind::Pdf);
        }
        let mime = content_type
            .and_then(|c| c.split(';').next())
            .map(|c| c.trim().to_ascii_lowercase())
            .unwrap_or_default();
        match mime.as_str() {
            "text/html" | "application/xhtml+xml" => Ok(Kind::Html),
            "text/plain" | "text/markdown" | "text/x-markdown" => Ok(Kind::Text),
            "application/pdf" | "application/x-pdf" => Ok(Kind::Pdf),
            "" | "application/octet-stream" | "binary/octet-stream" => Kind::sniff(body),
            other => Err(ExtractError::Unsupported(other.to_string())),
        }
    }

    /// The kind a file's extension says (`.md`, `.markdown`, `.txt`, `.html`, `.htm`, `.xhtml`,
    /// `.pdf`), or, with no extension, what its bytes look like.
    pub fn of_file(path: &std::path::Path, body: &[u8]) -> Result<Kind, ExtractError> {
        let ext = path
            .extension()
            .map(|x| x.to_string_lossy().to_ascii_lowercase());
        match ext.as_deref() {
            Some("md" | "markdown" | "txt" | "text") if pdf::looks_like_pdf(body) => Ok(Kind::Pdf),
            Some("md" | "markdown" | "txt" | "text") => Ok(Kind::Text),
            Some("html" | "htm" | "xhtml") => Ok(Kind::Html),
            Some("pdf") => Ok(Kind::Pdf),
            None => Kind::sniff(body),
            Some(other) => Err(ExtractError::Unsupported(format!(".{other} file"))),
        }
    }

    /// The kind of a body with no type given: PDF by its magic, binary refused, HTML by its
    /// first tags, text otherwise.
    fn sniff(body: &[u8]) -> Result<Kind, ExtractError> {
        if pdf::looks_like_pdf(body) {
            return Ok(Kind::Pdf);
        }
        let head = &body[..body.len().min(1024)];
        if head.contains(&0) {
            return Err(ExtractError::Unsupported("binary data".into()));
        }
        let head = String::from_utf8_lossy(head).to_ascii_lowercase();
        let looks_html = ["<html", "<!doctype html", "<body", "<p", "<div", "<head"]
            .iter()
            .any(|t| head.contains(t));
        Ok(if looks_html { Kind::Html } else { Kind::Text })
    }
}

/// A document (HTML, text or PDF bytes) as runners see it: title (or `url` when there is none)
/// and main content as markdown. Runs on the extraction thread ([`bounded`]); never panics.
pub fn extract_document(body: &[u8], kind: Kind, url: &str) -> Result<Page, ExtractError> {
    let body = body.to_vec();
    let url = url.to_string();
    bounded(move || document_here(&body, kind, &url, None))
}

/// [`extract_document`] for async callers, with the character set the server declared
/// (`Content-Type: text/html; charset=…`): the work runs on its own thread, never on the async
/// workers, and the caller awaits its answer.
pub async fn extract_document_async(
    body: Vec<u8>,
    kind: Kind,
    url: String,
    charset: Option<String>,
) -> Result<Page, ExtractError> {
    bounded_async(move || document_here(&body, kind, &url, charset.as_deref())).await
}

/// The `charset` parameter of a `Content-Type` header value, if it has one.
pub fn charset_of(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| value.trim().trim_matches(['"', '\'']).to_string())
    })
}

/// Text or HTML bytes as a string, in the encoding the bytes say they are in: a byte-order
/// mark first, then `declared` (the server's charset), then for HTML a `<meta>` charset in the
/// first 1024 bytes, as browsers decide. With none, UTF-8, and bytes that are not UTF-8 are
/// read as Windows-1252 (the legacy encoding most such files are in) rather than replaced.
pub fn decode_text(body: &[u8], declared: Option<&str>, html: bool) -> String {
    use encoding_rs::{Encoding, UTF_8, WINDOWS_1252};
    if let Some((encoding, bom)) = Encoding::for_bom(body) {
        return encoding
            .decode_without_bom_handling(&body[bom..])
            .0
            .into_owned();
    }
    let label = declared
        .and_then(|l| Encoding::for_label(l.trim().as_bytes()))
        // A page cannot declare itself UTF-16 from inside (its ASCII would not read); browsers
        // take such a declaration as UTF-8, which `output_encoding` gives.
        .or_else(|| {
            html.then(|| meta_charset(&body[..body.len().min(1024)]))
                .flatten()
                .map(Encoding::output_encoding)
        });
    let encoding = match label {
        Some(e) => e,
        None if std::str::from_utf8(body).is_ok() => UTF_8,
        None => WINDOWS_1252,
    };
    encoding.decode_without_bom_handling(body).0.into_owned()
}

/// The encoding a `<meta charset=…>` or `<meta http-equiv=Content-Type content="…;
/// charset=…">` in `head` names.
fn meta_charset(head: &[u8]) -> Option<&'static encoding_rs::Encoding> {
    let lower = String::from_utf8_lossy(head).to_ascii_lowercase();
    let mut from = 0;
    while let Some(at) = lower[from..].find("<meta") {
        let start = from + at;
        let end = lower[start..].find('>').map_or(lower.len(), |e| start + e);
        let tag = &lower[start..end];
        if let Some(c) = tag.find("charset") {
            let value = tag[c + "charset".len()..]
                .trim_start()
                .strip_prefix('=')
                .map(|v| v.trim_start().trim_start_matches(['"', '\'']))
                .unwrap_or_default();
            let label: String = value
                .chars()
                .take_while(|c| !matches!(c, '"' | '\'' | ';' | '/' | '>') && !c.is_whitespace())
                .collect();
            if let Some(e) = encoding_rs::Encoding::for_label(label.as_bytes()) {
                return Some(e);
            }
        }
        from = end;
    }
    None
}

/// An HTML page as runners see it ([`extract_document`] for HTML held as text): title (or the
/// URL when there is none) and main content as markdown. This is what `expanse extract` prints.
pub fn extract_page(html: &str, url: Option<&str>) -> Result<Page, ExtractError> {
    let html = html.to_string();
    let url = url.map(str::to_string);
    bounded(move || {
        let e = html_here(&html, url.as_deref())?;
        let url = url.unwrap_or_default();
        Ok(Page {
            title: e.title.unwrap_or_else(|| url.clone()),
            url,
            content: e.markdown,
        })
    })
}

/// The main content of an HTML page as markdown, and its title if it has one (corpus documents).
pub fn html_to_markdown(html: &str) -> Result<(Option<String>, String), ExtractError> {
    let html = html.to_string();
    bounded(move || html_here(&html, None).map(|e| (e.title, e.markdown)))
}

/// Runs `work` on a thread of its own with an [`EXTRACT_STACK_BYTES`] stack, turns a panic
/// into [`ExtractError::Failed`] (no page can take the process down with it), and gives up
/// after [`EXTRACT_DEADLINE`].
pub fn bounded<T, F>(work: F) -> Result<T, ExtractError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, ExtractError> + Send + 'static,
{
    bounded_for(work, EXTRACT_DEADLINE)
}

fn bounded_for<T, F>(work: F, deadline: std::time::Duration) -> Result<T, ExtractError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, ExtractError> + Send + 'static,
{
    let (tx, rx) = std::sync::mpsc::channel();
    spawn_extraction(work, move |result| {
        // The caller may have given up (the deadline); the answer is then not needed.
        let _ = tx.send(result);
    })?;
    rx.recv_timeout(deadline).unwrap_or_else(|e| match e {
        std::sync::mpsc::RecvTimeoutError::Timeout => Err(too_slow(deadline)),
        std::sync::mpsc::RecvTimeoutError::Disconnected => Err(no_answer()),
    })
}

/// [`bounded`] for async callers: the thread answers through a channel the caller awaits.
pub async fn bounded_async<T, F>(work: F) -> Result<T, ExtractError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, ExtractError> + Send + 'static,
{
    bounded_async_for(work, EXTRACT_DEADLINE).await
}

async fn bounded_async_for<T, F>(work: F, deadline: std::time::Duration) -> Result<T, ExtractError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, ExtractError> + Send + 'static,
{
    let (tx, rx) = tokio::sync::oneshot::channel();
    spawn_extraction(work, move |result| {
        // The caller may have gone (a cancelled fetch, the deadline); the answer is then not
        // needed.
        let _ = tx.send(result);
    })?;
    match tokio::time::timeout(deadline, rx).await {
        Ok(Ok(result)) => result,
        Ok(Err(_)) => Err(no_answer()),
        Err(_) => Err(too_slow(deadline)),
    }
}

/// Starts `work` on an extraction thread, panics caught, handing its result to `answer`.
fn spawn_extraction<T, F, A>(work: F, answer: A) -> Result<(), ExtractError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, ExtractError> + Send + 'static,
    A: FnOnce(Result<T, ExtractError>) + Send + 'static,
{
    std::thread::Builder::new()
        .name("expanse-extract".into())
        .stack_size(EXTRACT_STACK_BYTES)
        .spawn(move || {
            answer(
                std::panic::catch_unwind(AssertUnwindSafe(work))
                    .unwrap_or_else(|panic| Err(ExtractError::Failed(panic_message(&panic)))),
            )
        })
        .map(drop)
        .map_err(|e| ExtractError::Failed(format!("cannot start the extraction thread: {e}")))
}

fn too_slow(deadline: std::time::Duration) -> ExtractError {
    ExtractError::Failed(format!(
        "extraction gave no answer within {} s; the document is skipped",
        deadline.as_secs()
    ))
}

fn no_answer() -> ExtractError {
    ExtractError::Failed("the extraction thread ended without an answer".into())
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    let text = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".into());
    // One line: the message may quote page text.
    let line = text.lines().next().unwrap_or_default();
    format!(
        "the extractor panicked: {}",
        line.chars().take(200).collect::<String>()
    )
}

/// The work of [`extract_document`], on the calling thread.
fn document_here(
    body: &[u8],
    kind: Kind,
    url: &str,
    charset: Option<&str>,
) -> Result<Page, ExtractError> {
    let (title, content) = match kind {
        Kind::Pdf => {
            let doc = pdf::extract(body)?;
            (doc.title, doc.markdown)
        }
        Kind::Text => {
            let text = decode_text(body, charset, false);
            let content = text.trim().to_string() + "\n";
            (passages::title(&content), content)
        }
        Kind::Html => {
            let e = html_here(&decode_text(body, charset, true), Some(url))?;
            (e.title, e.markdown)
        }
    };
    if content.trim().is_empty() {
        return Err(ExtractError::NoContent);
    }
    Ok(Page {
        url: url.to_string(),
        title: title.unwrap_or_else(|| url.to_string()),
        content,
    })
}

/// The chosen extraction of an HTML page, bounded, on the calling thread.
fn html_here(html: &str, url: Option<&str>) -> Result<Extracted, ExtractError> {
    if html.len() > MAX_HTML_BYTES {
        return Err(ExtractError::TooLarge {
            bytes: html.len(),
            limit: MAX_HTML_BYTES,
        });
    }
    let clean = sanitize(html, MAX_DEPTH).html;
    let e = extract(&clean, url);
    if e.markdown.trim().is_empty() {
        return Err(ExtractError::NoContent);
    }
    Ok(e)
}

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

/// Below this many characters of text an extractor's result is taken as a miss, and the next
/// extractor of the chain is tried.
const MIN_MAIN_CHARS: usize = 200;

/// A main-content extractor. [`Extractor::CHOSEN`] is what runners use (with fallbacks, see
/// [`extract`]); the others are kept for the evaluation in `examples/extract_devset.rs` and
/// `benches/extract.rs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extractor {
    /// No extraction: the whole body minus [`SKIPPED_TAGS`] (the baseline).
    Whole,
    /// dom_smoothie (a port of Mozilla's Readability) article HTML, converted by htmd.
    Readability,
    /// rs-trafilatura (a trafilatura port with page-type profiles for forums, products,
    /// listings, docs) main-content HTML, converted by htmd.
    Trafilatura,
}

impl Extractor {
    /// The extractor runners use, chosen by F1 per page type on the 999-page development set
    /// (BENCHMARKS.md).
    pub const CHOSEN: Extractor = Extractor::Trafilatura;
    /// Every extractor, for evaluation.
    pub const ALL: [Extractor; 3] = [
        Extractor::Whole,
        Extractor::Readability,
        Extractor::Trafilatura,
    ];

    /// A short name for tables.
    pub fn name(self) -> &'static str {
        match self {
            Extractor::Whole => "whole page + htmd",
            Extractor::Readability => "dom_smoothie + htmd",
            Extractor::Trafilatura => "rs-trafilatura + htmd",
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

/// The main content of an HTML page: the chosen extractor, then Readability, then the whole
/// page, each tried only when the one before found less than [`MIN_MAIN_CHARS`]; the longest
/// result wins, with text the page shows twice kept once ([`repeats`]). Expects sanitized HTML
/// ([`sanitize()`]); on the calling thread.
pub fn extract(html: &str, url: Option<&str>) -> Extracted {
    let mut best = extract_with(html, url, Extractor::CHOSEN);
    for next in [Extractor::Readability, Extractor::Whole] {
        if text_len(&best.markdown) >= MIN_MAIN_CHARS || next == Extractor::CHOSEN {
            continue;
        }
        let other = extract_with(html, url, next);
        if text_len(&other.markdown) > text_len(&best.markdown) {
            best = Extracted {
                title: best.title.or(other.title),
                markdown: other.markdown,
            };
        }
    }
    best.markdown = repeats::drop_repeats(&best.markdown);
    best
}

/// The main content of an HTML page with one particular extractor (no fallback). Expects
/// sanitized HTML ([`sanitize()`]); on the calling thread.
pub fn extract_with(html: &str, url: Option<&str>, which: Extractor) -> Extracted {
    let page_title = title_of(html);
    let (title, main_html) = match which {
        Extractor::Trafilatura => trafilatura(html, url),
        Extractor::Whole | Extractor::Readability => {
            let doc = dom_query::Document::from(html);
            if let Some(noise) = doc.try_select(NOISE_SELECTORS) {
                noise.remove();
            }
            match which {
                Extractor::Readability => match readability(doc.clone(), url) {
                    (t, Some(h)) => (t, h),
                    (t, None) => (t, doc.html().to_string()),
                },
                _ => (None, doc.html().to_string()),
            }
        }
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

/// rs-trafilatura's title and main-content HTML (tables and formatting kept, so headings,
/// code blocks and tables reach the markdown).
fn trafilatura(html: &str, url: Option<&str>) -> (Option<String>, String) {
    let options = rs_trafilatura::Options {
        // Its page-type classifier reads the URL (forum and docs patterns).
        url: url.map(str::to_string),
        include_tables: true,
        include_formatting: true,
        ..rs_trafilatura::Options::default()
    };
    match rs_trafilatura::extract_with_options(html, &options) {
        Ok(r) => (
            r.metadata.title,
            r.content_html
                .unwrap_or_else(|| html_escape_text(&r.content_text)),
        ),
        Err(_) => (None, String::new()),
    }
}

/// Plain text as HTML paragraphs (when an extractor gives text but no HTML).
fn html_escape_text(text: &str) -> String {
    text.split("\n")
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let l = l
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;");
            format!("<p>{l}</p>")
        })
        .collect()
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
    fn text_is_decoded_in_the_encoding_it_declares() {
        // "Привет, мир" in Windows-1251, and "日本語" in Shift_JIS.
        let cp1251: &[u8] = b"\xcf\xf0\xe8\xe2\xe5\xf2, \xec\xe8\xf0";
        let sjis: &[u8] = b"\x93\xfa\x96\x7b\x8c\xea";
        assert_eq!(
            decode_text(cp1251, Some("windows-1251"), false),
            "Привет, мир"
        );
        let page = [
            b"<html><head><meta charset=\"shift_jis\"></head><p>".as_slice(),
            sjis,
        ]
        .concat();
        assert!(decode_text(&page, None, true).ends_with("<p>日本語"));
        let http_equiv = [
            b"<meta http-equiv='Content-Type' content='text/html; charset=windows-1251'><p>"
                .as_slice(),
            cp1251,
        ]
        .concat();
        assert!(decode_text(&http_equiv, None, true).ends_with("Привет, мир"));
        // The server's header outranks the page's meta; a byte-order mark outranks both.
        let lying_meta = [b"<meta charset=shift_jis><p>".as_slice(), cp1251].concat();
        assert!(decode_text(&lying_meta, Some("windows-1251"), true).ends_with("Привет, мир"));
        let bom = "\u{feff}<meta charset=windows-1251><p>é".as_bytes();
        assert_eq!(
            decode_text(bom, Some("shift_jis"), true),
            "<meta charset=windows-1251><p>é"
        );
        // A page that calls itself UTF-16 is read as UTF-8, as browsers do; text's meta is not read.
        assert_eq!(
            decode_text("<meta charset=utf-16><p>é".as_bytes(), None, true),
            "<meta charset=utf-16><p>é"
        );
        assert_eq!(
            decode_text(b"<meta charset=shift_jis> caf\xc3\xa9", None, false),
            "<meta charset=shift_jis> café"
        );
        // Undeclared: UTF-8 when it is, Windows-1252 when it is not (not U+FFFD).
        assert_eq!(decode_text("café".as_bytes(), None, false), "café");
        assert_eq!(decode_text(b"caf\xe9", None, false), "café");
        assert_eq!(
            charset_of("text/html; Charset=\"Windows-1251\"").as_deref(),
            Some("Windows-1251")
        );
        assert_eq!(charset_of("text/html"), None);
    }

    #[test]
    fn an_extraction_past_its_deadline_is_given_up() {
        let slow = || {
            std::thread::sleep(std::time::Duration::from_secs(30));
            Ok(1)
        };
        let short = std::time::Duration::from_millis(50);
        let e = bounded_for(slow, short).unwrap_err();
        assert!(e.to_string().contains("no answer within"), "{e}");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let e = rt.block_on(bounded_async_for(slow, short)).unwrap_err();
        assert!(e.to_string().contains("no answer within"), "{e}");
        // Work inside the deadline answers as before, panics included.
        assert_eq!(bounded_for(|| Ok(2), EXTRACT_DEADLINE), Ok(2));
        let e = bounded_for(|| -> Result<(), _> { panic!("boom") }, EXTRACT_DEADLINE);
        assert!(e.unwrap_err().to_string().contains("panicked: boom"));
    }

    #[test]
    fn boilerplate_is_dropped() {
        let html = "<html><head><title>ZeRO  guide</title><script>var x=1;</script></head><body>\
<nav><a href='/'>Home</a> | <a href='/docs'>Docs</a></nav><header>Site header</header>\
<main><h1>ZeRO</h1><p>ZeRO partitions <b>optimizer state</b>.</p></main>\
<aside>Buy now!</aside><footer>© 2024</footer></body></html>";
        let (title, md) = html_to_markdown(html).unwrap();
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
