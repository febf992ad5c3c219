//! HTML -> markdown for fetched pages, dropping navigation, headers, footers, ads and scripts.

/// Tags whose content never reaches the writer.
const SKIPPED_TAGS: &[&str] = &[
    "script", "style", "noscript", "nav", "header", "footer", "aside", "form", "iframe", "svg",
    "button", "template", "head",
];

/// The main content of an HTML page as markdown, and its `<title>` if it has one.
pub fn html_to_markdown(html: &str) -> (Option<String>, String) {
    let title = title_of(html);
    let converter = htmd::HtmlToMarkdown::builder()
        .skip_tags(SKIPPED_TAGS.to_vec())
        .build();
    let md = converter.convert(html).unwrap_or_default();
    (title, tidy(&md))
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
        assert!(md.contains("# ZeRO"));
        assert!(md.contains("ZeRO partitions **optimizer state**."));
        for gone in ["Home", "Site header", "Buy now", "©", "var x"] {
            assert!(!md.contains(gone), "{gone} leaked into {md}");
        }
    }
}
