//! A PART's list items by their shape: searches, scrapes, sections, checks (grep, read), the
//! drop; each item's fields read from its text, with a diagnostic for what does not fit.

use super::model::{Check, Diagnostic, GrepOp, Part, Scrape, Section, Severity};
use super::shapes::ItemKind;
use super::text::{line_budget, numbered, split_parenthesised, strip_prefix_ci};

/// A list item as collected, before classification.
pub(super) struct RawItem {
    pub(super) list: usize,
    pub(super) line: usize,
    pub(super) text: String,
}

/// `Create KNOWLEDGE-DROP-...md` -> the drop's file name.
pub(super) fn drop_name(text: &str) -> Option<&str> {
    text.split_whitespace()
        .find(|t| t.starts_with("KNOWLEDGE-DROP-") && t.ends_with(".md"))
        .filter(|_| {
            let lower = text.to_ascii_lowercase();
            lower.starts_with("create") || lower.starts_with("write")
        })
}

/// What a PART's list item is, by its shape alone (`target` is the PART's own target); the
/// contextual [`ItemKind::DropContent`] is decided by the PART, not here.
pub fn item_kind(text: &str, target: &str) -> ItemKind {
    if drop_name(text).is_some() {
        return ItemKind::Drop;
    }
    let mut scratch = Part {
        target: target.to_string(),
        ..Part::default()
    };
    let item = RawItem {
        list: 0,
        line: 1,
        text: text.to_string(),
    };
    classify(&mut scratch, &item, &mut Vec::new())
}

/// Put one item where it belongs in `part`, and say which shape it had.
pub(super) fn classify(
    part: &mut Part,
    item: &RawItem,
    diagnostics: &mut Vec<Diagnostic>,
) -> ItemKind {
    let text = item.text.as_str();
    let lower = text.to_ascii_lowercase();
    if let Some(rest) = strip_prefix_ci(text, "Search") {
        let rest = rest.trim_start();
        let rest = rest
            .strip_prefix(':')
            .or_else(|| strip_prefix_ci(rest, "for "))
            .unwrap_or(rest);
        let query = unquote(rest.trim());
        if !query.is_empty() {
            part.queries.push(query.to_string());
            return ItemKind::Search;
        }
    }
    if let Some(rest) = strip_prefix_ci(text, "Scrape ") {
        let rest = rest.trim();
        if let Some(n) = strip_prefix_ci(rest, "top ").and_then(|r| {
            let digits = r.bytes().take_while(u8::is_ascii_digit).count();
            r[..digits].parse().ok()
        }) {
            part.scrape.push(Scrape::Top { n });
            return ItemKind::ScrapeTop;
        }
        part.scrape.push(Scrape::Named {
            target: rest.to_string(),
        });
        return ItemKind::ScrapeNamed;
    }
    if let Some((_, rest)) = numbered(text, "Section") {
        part.sections
            .push(parse_section(rest, item.line, diagnostics));
        return ItemKind::Section;
    }
    if let Some(rest) = strip_prefix_ci(text, "Identify gaps") {
        let note = rest.trim_start_matches([':', ' ']).trim();
        part.checks.push(Check::Gaps {
            note: note.to_string(),
        });
        return ItemKind::Gaps;
    }
    if lower.starts_with("grep") {
        part.checks.push(parse_grep(text));
        return ItemKind::Grep;
    }
    if let Some(rest) = strip_prefix_ci(text, "Read ") {
        let check = parse_read(rest, text);
        let kind = match check {
            Check::Read { .. } => ItemKind::Read,
            _ => ItemKind::Look,
        };
        part.checks.push(check);
        return kind;
    }
    if lower.starts_with("check ") {
        part.checks.push(Check::Look {
            text: text.to_string(),
        });
        return ItemKind::Look;
    }
    if lower.contains("cite") {
        part.requirements.push(text.to_string());
        return ItemKind::Cite;
    }
    if let Some(rest) = strip_prefix_ci(text, "Create ")
        && rest.trim() == part.target
    {
        return ItemKind::CreateTarget;
    }
    part.other.push(text.to_string());
    ItemKind::Other
}

fn unquote(s: &str) -> &str {
    for (open, close) in [('"', '"'), ('“', '”'), ('\'', '\'')] {
        if let Some(inner) = s.strip_prefix(open).and_then(|r| r.strip_suffix(close)) {
            return inner.trim();
        }
    }
    s
}

fn parse_section(rest: &str, line: usize, diagnostics: &mut Vec<Diagnostic>) -> Section {
    let (head, lines) = match split_parenthesised(rest) {
        Some((head, group)) if line_budget(group).is_some() => {
            (head.trim_end(), line_budget(group))
        }
        _ => (rest.trim(), None),
    };
    let (title, hint) = match head.split_once(" - ") {
        Some((t, h)) => (t.trim(), Some(h.trim().to_string())),
        None => (head, None),
    };
    if lines.is_none() {
        diagnostics.push(Diagnostic {
            line,
            severity: Severity::Warning,
            message: format!(
                "section \"{title}\" has no line budget; add one such as \"(~100 lines)\" so drafts can be sized and checked"
            ),
        });
    }
    Section {
        title: title.to_string(),
        hint,
        lines,
    }
}

/// `Grep for "A" AND "B" in karpathy/ folder`.
fn parse_grep(text: &str) -> Check {
    let rest = strip_prefix_ci(text, "Grep").unwrap_or(text).trim_start();
    let rest = strip_prefix_ci(rest, "for ").unwrap_or(rest);
    // Odd pieces of a split on `"` are quoted terms; the last closed quote ends the terms.
    let pieces: Vec<&str> = rest.split('"').collect();
    let closed = if pieces.len() % 2 == 1 {
        pieces.len()
    } else {
        pieces.len() - 1
    };
    let (terms, between, tail): (Vec<String>, String, &str) = if closed >= 3 {
        let terms = pieces[..closed]
            .iter()
            .skip(1)
            .step_by(2)
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .collect();
        let between = pieces[2..closed - 1].iter().step_by(2).copied().collect();
        (terms, between, pieces[closed - 1])
    } else {
        // Unquoted: `Grep for TPU OR XLA in karpathy/`.
        let (t, scope) = rest.rsplit_once(" in ").unwrap_or((rest, ""));
        let terms = t
            .split(" OR ")
            .flat_map(|s| s.split(" AND "))
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        (terms, t.to_string(), scope)
    };
    let op = if between
        .split_whitespace()
        .any(|w| w.eq_ignore_ascii_case("or"))
    {
        GrepOp::Or
    } else {
        GrepOp::And
    };
    let tail = tail.trim_start();
    let tail = strip_prefix_ci(tail, "in ").unwrap_or(if closed >= 3 { "" } else { tail });
    let scope = tail
        .split_whitespace()
        .next()
        .filter(|s| !s.starts_with('('))
        .map(|s| s.trim_end_matches([',', '.', ';']).to_string())
        .filter(|s| !s.is_empty());
    Check::Grep { terms, op, scope }
}

/// `Read INDEX.md for TPU mentions`, `Read any existing distributed-*.md files`.
fn parse_read(rest: &str, text: &str) -> Check {
    let (object, focus) = match rest.split_once(" for ") {
        Some((o, f)) => (o, Some(f.trim().to_string())),
        None => (rest, None),
    };
    let path = object
        .split_whitespace()
        .map(|t| t.trim_matches(|c| c == '`' || c == '"' || c == ','))
        .find(|t| t.contains('.') || t.contains('*') || t.contains('/'));
    match path {
        Some(path) => Check::Read {
            path: path.to_string(),
            glob: path.contains(['*', '?', '[']),
            focus,
        },
        None => Check::Look {
            text: text.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grep_and_or_scope() {
        assert_eq!(
            parse_grep(r#"Grep for "DeepSpeed" AND "ZeRO" in karpathy/ folder"#),
            Check::Grep {
                terms: vec!["DeepSpeed".into(), "ZeRO".into()],
                op: GrepOp::And,
                scope: Some("karpathy/".into())
            }
        );
        assert_eq!(
            parse_grep(r#"Grep for "Apple" OR "Metal" OR "M-series" in karpathy/"#),
            Check::Grep {
                terms: vec!["Apple".into(), "Metal".into(), "M-series".into()],
                op: GrepOp::Or,
                scope: Some("karpathy/".into())
            }
        );
        assert_eq!(
            parse_grep(r#"Grep for "FSDP" in karpathy/ (we have some mentions)"#),
            Check::Grep {
                terms: vec!["FSDP".into()],
                op: GrepOp::And,
                scope: Some("karpathy/".into())
            }
        );
        assert_eq!(
            parse_grep("Grep for TPU OR XLA"),
            Check::Grep {
                terms: vec!["TPU".into(), "XLA".into()],
                op: GrepOp::Or,
                scope: None
            }
        );
    }

    #[test]
    fn read_checks() {
        assert_eq!(
            parse_read("INDEX.md for TPU mentions", ""),
            Check::Read {
                path: "INDEX.md".into(),
                glob: false,
                focus: Some("TPU mentions".into())
            }
        );
        assert_eq!(
            parse_read("any existing distributed-*.md files", ""),
            Check::Read {
                path: "distributed-*.md".into(),
                glob: true,
                focus: None
            }
        );
        assert!(matches!(
            parse_read("everything we know", "x"),
            Check::Look { .. }
        ));
    }
}
