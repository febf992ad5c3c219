//! A linear pre-pass over raw HTML before any parser sees it: drops what never reaches a reader
//! (scripts, styles, SVG, comments, templates) and every tag nested deeper than a bound, so the
//! parser and the extractors after it work on a smaller document of bounded depth.
//!
//! Why at the text level: html5ever itself is iterative, but its scope checks walk the stack of
//! open elements (quadratic on 20,000 nested `<div>`s), and the extractors and the markdown
//! converter recurse over the tree (a stack overflow aborts the whole process). A tag the
//! parser never sees costs nothing downstream. Dropping a tag keeps its text: only structure
//! beyond the bound is lost.

/// Deepest element nesting handed to the parser. Real pages stay well under 100 levels; the
/// extractors' recursion over a tree this deep fits the extraction thread's stack many times.
pub const MAX_DEPTH: usize = 256;

/// How far down the stack of open elements a closing tag looks for its opening tag. A closing
/// tag further away than this is left to the parser; the bound keeps hostile closing tags linear.
const CLOSE_SEARCH: usize = 64;

/// Attributes a tag may carry; a tag with more is passed on with none. The parser checks each
/// new attribute against the tag's earlier ones (quadratic: 100,000 attributes took two minutes),
/// and no real element has hundreds.
const MAX_ATTRS: usize = 256;

/// Formatting elements the parser reopens in every new block while they are left unclosed
/// (its list of active formatting elements; copies with identical attributes are kept at most
/// three times, copies that differ are all kept).
const FORMATTING: &[&str] = &[
    "b", "big", "code", "em", "font", "i", "nobr", "s", "small", "strike", "strong", "tt", "u",
];

/// Formatting elements closed by an ancestor's closing tag rather than their own, after which
/// further formatting tags are passed on without attributes: 800 unclosed `<b id=…>` in 800
/// paragraphs made the parser build a tree 800 deep and 1.3 MB of output in 34 s; bare, the
/// parser keeps three of each.
const MAX_LINGERING: usize = 32;

/// Elements removed with their content: nothing in them is main text, and on modern pages
/// they are most of the bytes.
const DROPPED: &[&str] = &[
    "script", "style", "noscript", "template", "svg", "math", "iframe", "object", "canvas",
];

/// Elements whose content is raw text to the parser: copied through without looking for tags.
const RAW_TEXT: &[&str] = &["textarea", "title", "xmp", "noembed", "noframes"];

/// Elements that never have content (no closing tag, no depth).
const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "keygen", "link", "meta", "param",
    "source", "track", "wbr", "basefont", "bgsound", "frame", "image",
];

/// Elements an opening `<p>`-closing block tag implicitly ends, as the parser would.
const CLOSES_P: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "details",
    "div",
    "dl",
    "fieldset",
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
    "main",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "table",
    "ul",
    "li",
    "dd",
    "dt",
];

/// Whether the end of element `name` is a break between texts: the blocks that end a `<p>`,
/// and table rows and cells.
fn is_block(name: &str) -> bool {
    CLOSES_P.contains(&name) || matches!(name, "tr" | "td" | "th")
}

/// What the pre-pass did, for tests and diagnostics.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Sanitized {
    /// The HTML to parse.
    pub html: String,
    /// Opening tags dropped for being nested deeper than the bound.
    pub too_deep: usize,
}

struct Open {
    name: String,
    dropped: bool,
}

/// `html` without scripts, styles, SVG, comments and the like, and with no element nested more
/// than `max_depth` deep (as this lexer counts it: close to, never far from, the parser's view).
/// Runs in time linear in the input, whatever the input.
pub fn sanitize(html: &str, max_depth: usize) -> Sanitized {
    let b = html.as_bytes();
    let mut out = String::with_capacity(html.len() / 2);
    let mut stack: Vec<Open> = Vec::new();
    let mut kept_depth = 0usize;
    let mut too_deep = 0usize;
    let mut lingering = 0usize;
    // Bytes from `copy_from` up to the current tag are still to be copied to `out`.
    let mut copy_from = 0usize;
    let mut i = 0usize;
    while let Some(off) = memchr(b'<', &b[i..]) {
        let j = i + off;
        let rest = &b[j..];
        if rest.starts_with(b"<!--") {
            let end = comment_end(b, j);
            out.push_str(&html[copy_from..j]);
            copy_from = end;
            i = end;
            continue;
        }
        if rest.starts_with(b"<!") || rest.starts_with(b"<?") {
            i = memchr(b'>', &b[j..]).map_or(b.len(), |e| j + e + 1);
            continue;
        }
        let closing = rest.get(1) == Some(&b'/');
        let name_start = j + 1 + usize::from(closing);
        if !b.get(name_start).is_some_and(u8::is_ascii_alphabetic) {
            i = j + 1;
            continue;
        }
        let name_end = name_start
            + b[name_start..]
                .iter()
                .position(|c| !(c.is_ascii_alphanumeric() || *c == b'-' || *c == b':'))
                .unwrap_or(b.len() - name_start);
        let name = html[name_start..name_end].to_ascii_lowercase();
        let (tag_end, attrs) = tag_end(b, name_end);
        let soup = attrs > MAX_ATTRS;
        if closing {
            // The nearest open element of that name (within reach) closes, and everything
            // opened above it with it, as the parser would.
            let reach = stack.len().saturating_sub(CLOSE_SEARCH);
            if let Some(at) = stack[reach..].iter().rposition(|o| o.name == name) {
                let at = reach + at;
                let dropped = stack[at].dropped;
                for (k, o) in stack.drain(at..).enumerate() {
                    if !o.dropped {
                        kept_depth -= 1;
                        if k > 0 && FORMATTING.contains(&o.name.as_str()) {
                            lingering += 1;
                        }
                    }
                }
                if dropped {
                    out.push_str(&html[copy_from..j]);
                    out.push(' ');
                    copy_from = tag_end;
                    i = tag_end;
                    continue;
                }
            }
            if soup {
                replace_tag(
                    &mut out,
                    html,
                    &mut copy_from,
                    j,
                    tag_end,
                    &format!("</{name}>"),
                );
            }
            // Minified pages open the next block right at this one's end; rs-trafilatura then
            // runs their texts together ("ZeROZeRO stage 3 … states.Stage 2"). Not once a
            // formatting element was left open: the parser would reopen it for the break, one
            // level deeper each time.
            if lingering == 0
                && is_block(&name)
                && b.get(tag_end) == Some(&b'<')
                && b.get(tag_end + 1).is_some_and(u8::is_ascii_alphabetic)
            {
                out.push_str(&html[copy_from..tag_end]);
                out.push('\n');
                copy_from = tag_end;
            }
            i = tag_end;
            continue;
        }
        let bare = soup
            || (attrs > 0 && lingering >= MAX_LINGERING && FORMATTING.contains(&name.as_str()));
        if bare {
            // The tag itself is rewritten bare; what follows is handled as for any tag.
            replace_tag(
                &mut out,
                html,
                &mut copy_from,
                j,
                tag_end,
                &format!("<{name}>"),
            );
        }
        if DROPPED.contains(&name.as_str()) {
            let self_closing = tag_end >= 2 && b[tag_end - 2] == b'/';
            let keep = name == "script" && is_json_ld(&b[name_end..tag_end]);
            let end = if self_closing && name != "script" {
                tag_end
            } else {
                close_of(b, tag_end, &name).unwrap_or(b.len())
            };
            if !keep {
                out.push_str(&html[copy_from.min(j)..j]);
                out.push(' ');
                // A bare rewrite of this tag (attribute soup) is dropped with it.
                if bare {
                    out.truncate(out.len() - 1 - format!("<{name}>").len());
                    out.push(' ');
                }
                // rs-trafilatura's page-type classifier counts `<svg>` elements (icons mark
                // shop and service pages); an empty one keeps the count and drops the bytes.
                if name == "svg" {
                    out.push_str("<svg></svg>");
                }
                copy_from = end;
            }
            i = end;
            continue;
        }
        if RAW_TEXT.contains(&name.as_str()) {
            i = close_of(b, tag_end, &name).unwrap_or(b.len());
            continue;
        }
        if VOID.contains(&name.as_str()) {
            i = tag_end;
            continue;
        }
        close_implied(&mut stack, &mut kept_depth, &name);
        let dropped = kept_depth >= max_depth;
        if dropped {
            too_deep += 1;
            if bare {
                out.truncate(out.len() - format!("<{name}>").len());
            } else {
                out.push_str(&html[copy_from..j]);
            }
            out.push(' ');
            copy_from = tag_end;
        } else {
            kept_depth += 1;
        }
        stack.push(Open { name, dropped });
        i = tag_end;
    }
    out.push_str(&html[copy_from..]);
    Sanitized {
        html: out,
        too_deep,
    }
}

/// Pops the elements an opening `name` ends implicitly (an open `<p>` before a block, an open
/// `<li>` before the next one), so unclosed paragraphs and items do not count as depth.
fn close_implied(stack: &mut Vec<Open>, kept_depth: &mut usize, name: &str) {
    loop {
        let Some(top) = stack.last() else { return };
        let ends = match top.name.as_str() {
            "p" => CLOSES_P.contains(&name),
            "li" => name == "li",
            "dt" | "dd" => matches!(name, "dt" | "dd"),
            "option" => matches!(name, "option" | "optgroup"),
            "td" | "th" => matches!(name, "td" | "th" | "tr"),
            "tr" => name == "tr",
            _ => false,
        };
        if !ends {
            return;
        }
        if let Some(o) = stack.pop()
            && !o.dropped
        {
            *kept_depth -= 1;
        }
    }
}

/// Writes `with` in place of the tag `b[at..end]`, flushing what came before it.
fn replace_tag(
    out: &mut String,
    html: &str,
    copy_from: &mut usize,
    at: usize,
    end: usize,
    with: &str,
) {
    out.push_str(&html[*copy_from..at]);
    out.push_str(with);
    *copy_from = end;
}

/// The index just past the `>` ending a tag whose name ends at `from`, skipping quoted
/// attribute values (a `>` inside one does not end the tag), the input's end if none does; and
/// how many attributes the tag has (names counted, with or without a value).
fn tag_end(b: &[u8], from: usize) -> (usize, usize) {
    let mut k = from;
    let mut attrs = 0usize;
    while k < b.len() {
        match b[k] {
            b'>' => return (k + 1, attrs),
            b'=' => {
                k += 1;
                while k < b.len() && b[k].is_ascii_whitespace() {
                    k += 1;
                }
                match b.get(k) {
                    Some(&q) if q == b'"' || q == b'\'' => match memchr(q, &b[k + 1..]) {
                        Some(e) => k += e + 2,
                        None => return (b.len(), attrs),
                    },
                    // An unquoted value runs to whitespace or the tag's end.
                    _ => {
                        while k < b.len() && !b[k].is_ascii_whitespace() && b[k] != b'>' {
                            k += 1;
                        }
                    }
                }
            }
            c if c.is_ascii_whitespace() || c == b'/' => k += 1,
            _ => {
                attrs += 1;
                while k < b.len()
                    && !(b[k].is_ascii_whitespace() || matches!(b[k], b'=' | b'>' | b'/'))
                {
                    k += 1;
                }
            }
        }
    }
    (b.len(), attrs)
}

/// The index just past the comment opening at `at` (`<!--`), where the parser ends it: `<!-->`
/// and `<!--->` are empty comments, otherwise the first `-->` or `--!>`; the input's end if
/// none comes.
fn comment_end(b: &[u8], at: usize) -> usize {
    let rest = &b[at..];
    if rest.starts_with(b"<!-->") {
        return at + 5;
    }
    if rest.starts_with(b"<!--->") {
        return at + 6;
    }
    // One scan to the first `--` followed by `>` or `!>`, so many comments stay linear.
    let mut k = at + 4;
    while let Some(d) = find(b, k, b"--") {
        match (b.get(d + 2), b.get(d + 3)) {
            (Some(b'>'), _) => return d + 3,
            (Some(b'!'), Some(b'>')) => return d + 4,
            _ => k = d + 1,
        }
    }
    b.len()
}

/// The index just past `</name ...>` at or after `from`, matched case-insensitively.
fn close_of(b: &[u8], from: usize, name: &str) -> Option<usize> {
    let n = name.as_bytes();
    let mut k = from;
    while let Some(off) = find(b, k, b"</") {
        let s = off + 2;
        if b.len() >= s + n.len()
            && b[s..s + n.len()].eq_ignore_ascii_case(n)
            && b.get(s + n.len())
                .is_none_or(|c| !(c.is_ascii_alphanumeric() || *c == b'-'))
        {
            return Some(memchr(b'>', &b[s..]).map_or(b.len(), |e| s + e + 1));
        }
        k = s;
    }
    None
}

/// Whether a `<script>` tag's attributes mark it as JSON-LD (structured data extractors read).
fn is_json_ld(attrs: &[u8]) -> bool {
    attrs.len() < 4096 && attrs.windows(7).any(|w| w.eq_ignore_ascii_case(b"ld+json"))
}

fn memchr(needle: u8, hay: &[u8]) -> Option<usize> {
    hay.iter().position(|&c| c == needle)
}

/// The first index of `pat` in `b` at or after `from`.
fn find(b: &[u8], from: usize, pat: &[u8]) -> Option<usize> {
    let first = *pat.first()?;
    let mut k = from;
    while k + pat.len() <= b.len() {
        let off = memchr(first, &b[k..])?;
        let at = k + off;
        if b.len() >= at + pat.len() && &b[at..at + pat.len()] == pat {
            return Some(at);
        }
        k = at + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean(html: &str) -> String {
        sanitize(html, MAX_DEPTH).html
    }

    #[test]
    fn scripts_styles_comments_and_svg_go_text_stays() {
        let html = "<html><head><style>p{color:red}</style><script>if (a<b) x='</p>';</script>\
<script type=\"application/ld+json\">{\"@type\":\"Product\"}</script></head><body>\
<!-- a comment <p>hidden</p> --><p>Kept <b>text</b>.</p><svg><path d='M0'/></svg>\
<SCRIPT>var y</SCRIPT ><noscript>Enable JS</noscript><p>More.</p></body></html>";
        let out = clean(html);
        for gone in ["color:red", "x='", "hidden", "M0", "var y", "Enable JS"] {
            assert!(!out.contains(gone), "{gone} kept in {out}");
        }
        for kept in ["Kept <b>text</b>.", "<p>More.</p>", "\"@type\":\"Product\""] {
            assert!(out.contains(kept), "{kept} lost from {out}");
        }
        // The classifier's icon count survives, empty.
        assert_eq!(out.matches("<svg></svg>").count(), 1, "{out}");
    }

    #[test]
    fn nesting_beyond_the_bound_loses_tags_not_text() {
        let depth = 5_000;
        let html = format!(
            "<body>{}deep words{}<p>after</p></body>",
            "<div>".repeat(depth),
            "</div>".repeat(depth)
        );
        let s = sanitize(&html, 100);
        assert!(s.html.contains("deep words"));
        assert!(s.html.contains("<p>after</p>"));
        // body + 99 divs are kept, the rest dropped with their closing tags.
        assert_eq!(s.html.matches("<div>").count(), 99);
        assert_eq!(s.html.matches("</div>").count(), 99);
        assert_eq!(s.too_deep, depth - 99);
    }

    #[test]
    fn unclosed_items_and_paragraphs_do_not_count_as_depth() {
        let html = format!("<ul>{}</ul>", "<li><p>item".repeat(500));
        let s = sanitize(&html, 10);
        assert_eq!(s.too_deep, 0, "{}", &s.html[..200]);
        assert_eq!(s.html, html);
    }

    #[test]
    fn quoted_gt_does_not_end_a_tag_and_raw_text_is_not_lexed() {
        let html = "<div title=\"a > b\"><textarea><div><div></textarea>x</div>";
        let s = sanitize(html, 1);
        assert_eq!(s.too_deep, 0);
        assert_eq!(s.html, html);
    }

    #[test]
    fn attribute_soup_is_passed_on_bare() {
        let attrs: String = (0..1_000).map(|i| format!(" a{i}=\"{i}\"")).collect();
        let html = format!(
            "<div{attrs}><p class=\"x\">text</p></div{attrs}><img{attrs}><script{attrs}>x()</script>"
        );
        let s = sanitize(&html, MAX_DEPTH);
        assert_eq!(s.html, "<div><p class=\"x\">text</p></div>\n<img> ");
    }

    #[test]
    fn comments_end_where_the_parser_ends_them() {
        for (html, kept) in [
            (
                "<main><!--><p>article</p><!-- end --></main>",
                "<p>article</p>",
            ),
            (
                "<main><!---><p>article</p><!-- end --></main>",
                "<p>article</p>",
            ),
            ("<!-- a --!><p>article</p>", "<p>article</p>"),
            ("<!-- a --- b ---><p>article</p>", "<p>article</p>"),
        ] {
            let out = clean(html);
            assert!(out.contains(kept), "{html:?} -> {out:?}");
            assert!(!out.contains(" a ") && !out.contains("end"), "{out:?}");
        }
        assert_eq!(clean("<p>x</p><!-- never closed <p>y</p>"), "<p>x</p>");
    }

    #[test]
    fn attributes_without_values_count_toward_the_cap() {
        let names: String = (0..1_000).map(|i| format!(" a{i}")).collect();
        let s = sanitize(&format!("<div{names}><p>text</p></div>"), MAX_DEPTH);
        assert_eq!(s.html, "<div><p>text</p></div>");
        // Unquoted values are values, not names: 200 attributes stay as they are.
        let unquoted: String = (0..200).map(|i| format!(" a{i}=v{i}/x")).collect();
        let html = format!("<div{unquoted}>text</div>");
        assert_eq!(clean(&html), html);
    }

    #[test]
    fn formatting_tags_left_open_across_paragraphs_lose_their_attributes() {
        let html: String = (0..800)
            .map(|i| format!("<p><b id=x{i}>w{i}</p>"))
            .collect();
        let out = clean(&html);
        // The first ones keep theirs; past the bound they are bare, so the parser keeps three.
        assert!(
            out.contains("<b id=x0>") && out.contains(&format!("<b id=x{}>", MAX_LINGERING - 1))
        );
        assert!(
            !out.contains(&format!("<b id=x{}>", MAX_LINGERING + 1)),
            "{}",
            &out[..300]
        );
        assert!(out.contains("<p><b>w799</p>"));
        // And the parser's tree stays shallow: its text comes out in well under the old 34 s.
        let doc = dom_query::Document::from(out.as_str());
        let deepest = doc
            .select("b")
            .nodes()
            .iter()
            .map(|n| n.ancestors(None).len())
            .max()
            .unwrap();
        assert!(
            deepest < 3 * FORMATTING.len() + MAX_LINGERING + 8,
            "depth {deepest}"
        );
        // Closed properly, formatting tags keep their attributes however many there are.
        let closed: String = (0..800)
            .map(|i| format!("<p><b id=x{i}>w{i}</b></p>"))
            .collect();
        assert_eq!(clean(&closed), closed.replace("</p><p>", "</p>\n<p>"));
    }

    #[test]
    fn blocks_written_end_to_end_are_kept_apart() {
        let html = "<article><h1>ZeRO</h1><p>Stage 3 partitions parameters.</p><p>Stage 2 does not.</p></article>";
        let out = clean(html);
        assert!(
            out.contains("</h1>\n<p>") && out.contains("</p>\n<p>"),
            "{out}"
        );
        let page = super::super::extract(&out, None).markdown;
        assert!(
            !page.contains("ZeROStage") && !page.contains("parameters.Stage"),
            "{page}"
        );
    }

    #[test]
    fn broken_input_ends_cleanly() {
        for html in [
            "<",
            "<div",
            "<div a=\"",
            "<!--",
            "<script>",
            "</",
            "<a><b></c>",
            "é<é>",
        ] {
            let s = sanitize(html, 3);
            assert!(s.html.len() <= html.len() + 1, "{html:?} -> {s:?}");
        }
    }
}
