//! Finding a draft's claims: sentences of paragraphs, list items and table rows that cite a
//! source, each at the line where it starts, read through the one Markdown scanner.

use std::ops::Range;

use super::RawClaim;
use crate::markdown::{self, Block, Kind};

/// Words that end with a period without ending a sentence.
const ABBREVIATIONS: &[&str] = &[
    "e.g", "i.e", "etc", "vs", "cf", "al", "fig", "eq", "no", "mr", "mrs", "dr", "prof", "inc",
    "ltd", "approx", "resp", "sec", "ch", "vol", "ver", "v", "jr", "sr", "st", "mt", "jan", "feb",
    "aug", "sept", "oct", "nov", "dec", "u.s",
];

/// Byte ranges of the sentences of `text`: split at `.`, `!` or `?` followed by a space and a
/// capital, digit, quote or bracket — not after an abbreviation ("e.g.", "vs."), an initial, or
/// inside a number or version ("1.11", "v1.2"). A citation after the period stays with its
/// sentence. Ranges exclude surrounding whitespace.
pub fn sentence_spans(text: &str) -> Vec<Range<usize>> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let byte = |i: usize| chars.get(i).map_or(text.len(), |(b, _)| *b);
    let mut out = Vec::new();
    let mut push = |a: usize, b: usize| {
        let s = &text[a..b];
        let lead = s.len() - s.trim_start().len();
        let t = s.trim();
        if !t.is_empty() {
            out.push(a + lead..a + lead + t.len());
        }
    };
    let mut start = 0;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i].1;
        if matches!(c, '.' | '!' | '?') && i + 1 < chars.len() && chars[i + 1].1.is_whitespace() {
            // A citation right after the end belongs to this sentence.
            let mut end = i + 1;
            let mut j = i + 1;
            loop {
                while j < chars.len() && chars[j].1 == ' ' {
                    j += 1;
                }
                if j < chars.len() && chars[j].1 == '[' {
                    let close = chars[j..]
                        .iter()
                        .position(|&(_, c)| c == ']')
                        .map(|p| j + p);
                    if let Some(k) = close
                        && k > j + 1
                        && chars[j + 1..k].iter().all(|(_, c)| c.is_ascii_digit())
                    {
                        end = k + 1;
                        j = k + 1;
                        continue;
                    }
                }
                break;
            }
            let next = chars[j..]
                .iter()
                .map(|(_, c)| *c)
                .find(|c| !c.is_whitespace());
            let word: String = chars[start..i]
                .iter()
                .rev()
                .map(|(_, c)| *c)
                .take_while(|c| !c.is_whitespace())
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            let bare = word.trim_start_matches(['(', '"', '\'']).to_lowercase();
            let abbreviation = c == '.'
                && (ABBREVIATIONS.contains(&bare.as_str())
                    || (bare.chars().count() == 1 && bare.chars().all(char::is_alphabetic))
                    || bare.contains('.'));
            let starts_new = next.is_none_or(|n| {
                n.is_uppercase()
                    || n.is_ascii_digit()
                    || matches!(n, '"' | '\'' | '`' | '(' | '*' | '[' | '“')
            });
            if !abbreviation && starts_new {
                push(byte(start), byte(end));
                start = end;
                i = end;
                continue;
            }
        }
        i += 1;
    }
    push(byte(start), text.len());
    out
}

/// The sentences of `text`.
pub fn sentences(text: &str) -> Vec<String> {
    sentence_spans(text)
        .into_iter()
        .map(|r| text[r].to_string())
        .collect()
}

/// `[n]` numbers in a piece of text, in order (code spans excluded).
fn cites_in(text: &str) -> Vec<usize> {
    crate::draft::citations(text)
}

/// The text with `[n]` citations and markdown emphasis removed, whitespace collapsed.
pub fn plain(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('[') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let digits = after.chars().take_while(char::is_ascii_digit).count();
        if digits > 0 && after[digits..].starts_with(']') {
            rest = &after[digits + 1..];
        } else {
            out.push('[');
            rest = after;
        }
    }
    out.push_str(rest);
    out.replace("**", "")
        .replace('`', "")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether a sentence states something checkable (not a heading-like fragment).
fn factual(text: &str) -> bool {
    let words = text.split_whitespace().count();
    words >= 6 || text.chars().any(|c| c.is_ascii_digit())
}

/// The units of a content block that can be claims: (1-based line, text with its citations).
fn units(block: &Block) -> Vec<(usize, String)> {
    match block.kind {
        Kind::List | Kind::Table => block
            .items
            .iter()
            .map(|i| (i.line, i.text.clone()))
            .collect(),
        _ => {
            // Newlines as spaces keep every byte where it was, so a sentence's offset is its line.
            let flat = block.text.replace('\n', " ");
            let line_starts: Vec<usize> = std::iter::once(0)
                .chain(block.text.match_indices('\n').map(|(i, _)| i + 1))
                .collect();
            sentence_spans(&flat)
                .into_iter()
                .map(|r| {
                    let line = line_starts.partition_point(|&s| s <= r.start) - 1;
                    (block.line + line, flat[r].to_string())
                })
                .collect()
        }
    }
}

/// The claims of a draft: sentences of paragraphs, list items and table rows, each with its own
/// citations or the ones closing its block; code, headings, quotes (the existing-knowledge note,
/// placeholders) and the Sources list are not claims. `must_cite` reports uncited factual
/// sentences as claims too.
pub fn claims(text: &str, must_cite: bool) -> Vec<RawClaim> {
    let mut out = Vec::new();
    let mut section: Option<String> = None;
    // Citations of a lead-in line ("From [2]:") for the table after it.
    let mut lead: Vec<usize> = Vec::new();
    // Sentences of a paragraph ending in ':' wait for the block it introduces, whose citation
    // covers them too ("It runs the following cycle:" then a cited list).
    let mut waiting: Vec<RawClaim> = Vec::new();
    let keep = |c: &RawClaim| !c.cites.is_empty() || (must_cite && factual(&c.text));
    for block in markdown::blocks(text) {
        match block.kind {
            Kind::Paragraph | Kind::List | Kind::Table => {}
            Kind::Heading(level) => {
                if level <= 2 {
                    // A lead-in with nothing after it in its section stands alone.
                    out.extend(waiting.drain(..).filter(&keep));
                    let h = markdown::heading_title(block.text);
                    if level == 2 && h.eq_ignore_ascii_case("sources") {
                        break;
                    }
                    if level == 2 {
                        section = Some(h.split_once(": ").map_or(h, |(_, t)| t).to_string());
                    }
                }
                lead.clear();
                continue;
            }
            Kind::Code => {
                // Code is not a claim: a lead-in before it stands alone.
                out.extend(waiting.drain(..).filter(&keep));
                lead.clear();
                continue;
            }
            Kind::Quote | Kind::Html | Kind::Rule | Kind::Other => continue,
        }
        let is_table = block.kind == Kind::Table;
        let is_list = block.kind == Kind::List;
        let units = units(&block);
        // A citation closing the block covers the units without their own.
        let closing: Vec<usize> = units
            .iter()
            .rev()
            .find_map(|(_, u)| {
                let c = cites_in(u);
                (!c.is_empty()).then_some(c)
            })
            .unwrap_or_else(|| if is_table { lead.clone() } else { Vec::new() });
        let introduces =
            !is_table && !is_list && closing.is_empty() && block.text.trim_end().ends_with(':');
        for w in waiting.drain(..) {
            let cites = if w.cites.is_empty() {
                closing.clone()
            } else {
                w.cites.clone()
            };
            let claim = RawClaim { cites, ..w };
            if keep(&claim) {
                out.push(claim);
            }
        }
        for (line, u) in units {
            let own = cites_in(&u);
            let mut cites = if own.is_empty() { closing.clone() } else { own };
            let text = plain(&u);
            // "From [2]:" and other fragments say nothing to check.
            if text
                .split_whitespace()
                .filter(|w| w.chars().any(char::is_alphanumeric))
                .count()
                < 2
            {
                continue;
            }
            cites.dedup();
            let claim = RawClaim {
                section: section.clone(),
                line,
                text,
                cites,
            };
            if introduces {
                waiting.push(claim);
            } else if keep(&claim) {
                out.push(claim);
            }
        }
        // A paragraph ending in ':' (or "From [n]:") leads into the table after it.
        lead.clear();
        if !is_table && !is_list {
            let last = block.text.lines().last().unwrap_or("").trim_end();
            if plain(last).ends_with(':') {
                // `From [2]:` introduces a table; `[2]:` is not a citation elsewhere.
                lead = cites_in(&last.replace("]:", "] :"));
            }
        }
    }
    // A lead-in with nothing after it stands alone.
    out.extend(waiting.into_iter().filter(keep));
    out.sort_by_key(|c| c.line);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_split_around_abbreviations_versions_and_citations() {
        let s = sentences(
            "FSDP shards state, e.g. gradients and parameters. It arrived in PyTorch v1.12 in 2022. [2] Stage 3 is ZeRO-3 vs. stage 2. [1][3] Done.",
        );
        assert_eq!(
            s,
            [
                "FSDP shards state, e.g. gradients and parameters.",
                "It arrived in PyTorch v1.12 in 2022. [2]",
                "Stage 3 is ZeRO-3 vs. stage 2. [1][3]",
                "Done."
            ]
        );
    }

    #[test]
    fn claims_skip_code_and_quotes_and_inherit_block_citations() {
        let text = "# T\n\n> **Existing knowledge.** none.\n\n## Section 1: Overview\n\nZeRO removes redundancy across ranks. It partitions optimizer states first. [1]\n\n```python\nx = a[2]\n```\n\n- stage one shards optimizer state\n- stage two shards gradients [3]\n\nFrom [2]:\n\n| stage | shards |\n|---|---|\n| 1 | optimizer |\n\n## Sources\n\n[1] a — b\n";
        let c = claims(text, false);
        let view: Vec<(&str, Vec<usize>)> = c
            .iter()
            .map(|c| (c.text.as_str(), c.cites.clone()))
            .collect();
        assert_eq!(
            view,
            vec![
                ("ZeRO removes redundancy across ranks.", vec![1]),
                ("It partitions optimizer states first.", vec![1]),
                ("stage one shards optimizer state", vec![3]),
                ("stage two shards gradients", vec![3]),
                ("1 · optimizer", vec![2]),
            ]
        );
        assert!(c.iter().all(|c| c.section.as_deref() == Some("Overview")));
        assert_eq!(c[0].line, 7);
    }

    #[test]
    fn each_sentence_is_at_the_line_where_it_starts() {
        let text = "## Section 1: A\n\nFirst sentence of a long paragraph [1].\nIt goes on here and then\nends here. A new sentence starts on this line [2].\nAnd one more [1].\n";
        let lines: Vec<(usize, Vec<usize>)> = claims(text, false)
            .into_iter()
            .map(|c| (c.line, c.cites))
            .collect();
        // The uncited sentence takes the block's closing citation.
        assert_eq!(
            lines,
            [(3, vec![1]), (4, vec![1]), (5, vec![2]), (6, vec![1])]
        );
    }

    #[test]
    fn a_heading_inside_code_opens_no_section() {
        let text = "## Section 1: Real\n\n```md\n## Sources\n## Section 2: Fake\n```\n\nZeRO shards optimizer state across ranks. [1]\n";
        let c = claims(text, false);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].section.as_deref(), Some("Real"));
    }

    #[test]
    fn uncited_factual_sentences_count_only_where_citing_is_required() {
        let text = "## Section 1: A\n\nFSDP was added to PyTorch in version 1.11 in 2022.\n";
        assert!(claims(text, false).is_empty());
        let c = claims(text, true);
        assert_eq!(c.len(), 1);
        assert!(c[0].cites.is_empty());
    }
}
