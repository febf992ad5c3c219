//! Hostile pages: extraction returns (content or a clean error) and never takes the process down
//! (deep nesting overflowed the stack and aborted every runner before the depth bound).

use expanse::research::extract::sanitize::{MAX_DEPTH, sanitize};
use expanse::research::extract::{ExtractError, Kind, extract_document, extract_page};

const URL: &str = "https://example.com/hostile";

fn nested(tag: &str, depth: usize, inner: &str) -> String {
    format!(
        "<html><head><title>Deep</title></head><body>{}{inner}{}</body></html>",
        format!("<{tag}>").repeat(depth),
        format!("</{tag}>").repeat(depth)
    )
}

const WORDS: &str = "The deeply nested paragraph still carries words that a reader wants to keep, \
enough of them to count as main content for any extractor that looks at text length.";

#[test]
fn sixteen_thousand_nested_divs_extract_their_text() {
    let html = nested("div", 16_000, &format!("<p>{WORDS}</p>"));
    let page = extract_page(&html, Some(URL)).expect("a deep page still has its text");
    assert!(
        page.content.contains("deeply nested paragraph"),
        "{}",
        page.content
    );
}

#[test]
fn twenty_thousand_levels_of_every_kind_end_cleanly() {
    for tag in ["div", "b", "span", "table", "ul", "blockquote", "a", "p"] {
        let html = nested(tag, 20_000, WORDS);
        match extract_page(&html, Some(URL)) {
            Ok(page) => assert!(
                page.content.contains("deeply nested"),
                "{tag}: {}",
                page.content
            ),
            Err(e) => assert!(!e.to_string().contains('\n'), "{tag}: {e}"),
        }
    }
}

#[test]
fn unclosed_tags_by_the_thousand_end_cleanly() {
    let html = format!("<body>{}{WORDS}", "<div><b><i><font>".repeat(10_000));
    let page = extract_page(&html, Some(URL)).expect("text after unclosed tags");
    assert!(page.content.contains("deeply nested"));
}

#[test]
fn the_bound_holds_on_the_parsed_tree() {
    let html = nested("section", 5_000, WORDS);
    let clean = sanitize(&html, MAX_DEPTH);
    assert_eq!(clean.html.matches("<section>").count(), MAX_DEPTH - 2);
    assert!(clean.too_deep > 4_000);
}

#[test]
fn attribute_soup_and_a_five_megabyte_line_end_cleanly() {
    let attrs: String = (0..100_000)
        .map(|i| format!(" data-a{i}=\"v{i}\""))
        .collect();
    let soup = format!("<html><body><div{attrs}><p>{WORDS}</p></div></body></html>");
    let page = extract_page(&soup, Some(URL)).expect("text inside an attribute-soup tag");
    assert!(page.content.contains("deeply nested"));

    let line = "word ".repeat(1_000_000);
    let html = format!("<html><body><p>{line}</p></body></html>");
    assert!(html.len() > 5_000_000);
    let page = extract_page(&html, Some(URL)).expect("a huge paragraph");
    assert!(page.content.len() > 1_000_000);

    let unquoted = format!("<div title=\"{}", "x".repeat(5_000_000));
    match extract_page(&unquoted, Some(URL)) {
        Ok(_) | Err(ExtractError::NoContent) => {}
        Err(e) => panic!("unexpected {e}"),
    }
}

#[test]
fn oversized_html_is_refused_with_the_sizes() {
    let html = "a".repeat(expanse::research::extract::MAX_HTML_BYTES + 1);
    let e = extract_document(html.as_bytes(), Kind::Html, URL).unwrap_err();
    assert!(matches!(e, ExtractError::TooLarge { .. }), "{e}");
    assert!(e.to_string().contains("limit"), "{e}");
}

#[test]
fn a_page_with_nothing_readable_is_an_error_not_an_empty_page() {
    let html = "<html><head><script>var a = 1;</script></head><body><svg></svg></body></html>";
    let e = extract_page(html, Some(URL)).unwrap_err();
    assert_eq!(e, ExtractError::NoContent);
}

#[test]
fn a_panic_in_extraction_is_an_error() {
    let e =
        expanse::research::extract::bounded::<(), _>(|| panic!("boom\nsecond line")).unwrap_err();
    assert_eq!(
        e,
        ExtractError::Failed("the extractor panicked: boom".into())
    );
}

#[tokio::test]
async fn async_extraction_runs_off_the_workers_and_reports_panics() {
    let html = nested("div", 16_000, WORDS).into_bytes();
    let page =
        expanse::research::extract::extract_document_async(html, Kind::Html, URL.into(), None)
            .await
            .expect("deep page");
    assert!(page.content.contains("deeply nested"));
    let e = expanse::research::extract::bounded_async::<(), _>(|| panic!("async boom"))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("async boom"), "{e}");
}
