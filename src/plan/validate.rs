//! Plan validation: the errors that stop a run and the warnings that do not.

use std::collections::HashMap;

use super::model::{Diagnostic, Plan, Severity};
use super::shapes::{DONE_MARKS, is_done_mark};

/// Add the plan-level diagnostics to `plan.diagnostics`, sorted by line.
pub fn validate(plan: &mut Plan) {
    let mut found = Vec::new();
    if plan.parts.is_empty() {
        found.push(error(
            1,
            "no PARTs found: expected headings such as \"### PART 1: Create dir/file.md (~500 lines)\" \
             or checkbox lines such as \"- [ ] PART 1: Create dir/file.md\""
                .to_string(),
        ));
    }
    let mut seen: HashMap<u32, usize> = HashMap::new();
    for part in &plan.parts {
        let n = part.number;
        if let Some(first) = seen.get(&n) {
            found.push(error(
                part.span.line,
                format!(
                    "PART {n} appears twice (first at line {first}); PART numbers must be unique"
                ),
            ));
        } else {
            seen.insert(n, part.span.line);
        }
        match &part.span.checkbox {
            None => found.push(error(
                part.span.line,
                format!(
                    "PART {n} has no checkbox line; add \"- [ ] PART {n}: Create {}\" under its heading \
                     so expanse can tick it when the file is approved",
                    part.target
                ),
            )),
            Some(cb) if cb.target != part.target => found.push(error(
                cb.line,
                format!(
                    "PART {n}'s checkbox line names \"{}\" but its heading (line {}) names \"{}\"; they must agree",
                    cb.target, part.span.line, part.target
                ),
            )),
            Some(_) => {}
        }
        if let Some(cb) = &part.span.checkbox
            && cb.mark != ' '
            && !is_done_mark(cb.mark)
        {
            found.push(Diagnostic {
                line: cb.line,
                severity: Severity::Warning,
                message: format!(
                    "PART {n}'s checkbox \"[{}]\" is neither open \"[ ]\" nor done ({}); it counts as open, and approving writes a done glyph",
                    cb.mark,
                    DONE_MARKS.iter().map(|c| format!("[{c}]")).collect::<Vec<_>>().join(" ")
                ),
            });
        }
        for s in &part.scrape {
            if let super::model::Scrape::Top { n: top } = s
                && *top as usize > MAX_SCRAPE_TOP
            {
                found.push(Diagnostic {
                    line: part.span.line,
                    severity: Severity::Warning,
                    message: format!("PART {n} asks to scrape the top {top} results; at most {MAX_SCRAPE_TOP} are taken"),
                });
            }
        }
        if let Some(problem) =
            target_problem(&part.target).or_else(|| reserved_target(&part.target))
        {
            found.push(error(
                part.span.line,
                format!("PART {n}'s target \"{}\" {problem}", visible(&part.target)),
            ));
        }
    }
    plan.diagnostics.extend(found);
    plan.diagnostics.sort_by_key(|d| d.line);
}

/// The most pages one `Scrape top N` takes (the runner's limit; a larger N gets a warning).
pub const MAX_SCRAPE_TOP: usize = 50;

/// Why a target path cannot be written inside the knowledge base, if it cannot.
pub fn target_problem(target: &str) -> Option<&'static str> {
    if target.is_empty() {
        return Some("is empty; name the knowledge file to create, e.g. \"dir/file.md\"");
    }
    let bytes = target.as_bytes();
    let drive = bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':';
    if target.starts_with('/') || target.starts_with('\\') || drive {
        return Some("is an absolute path; targets are relative to the knowledge base root");
    }
    if target.split(['/', '\\']).any(|c| c == "..") {
        return Some("contains \"..\"; targets must stay inside the knowledge base");
    }
    if target.contains('\0') || target.chars().any(char::is_control) {
        return Some("contains control characters");
    }
    if target.chars().any(invisible) {
        return Some(
            "contains an invisible or direction-changing character (zero-width or bidi control); type the name plainly",
        );
    }
    if target.contains(char::is_whitespace) {
        return Some("contains a space; use dashes in file names (a-b.md)");
    }
    if !target.to_ascii_lowercase().ends_with(".md") {
        return Some("is not a markdown file; targets must end in \".md\"");
    }
    if target.split(['/', '\\']).any(|c| c.len() > 255) {
        return Some("has a folder or file name over 255 bytes, more than file systems allow");
    }
    None
}

/// Characters that show nothing or turn the text around (`gnp.md` shown for `\u{202e}dm.png`):
/// zero-width spaces and joiners, bidi marks, embeddings, overrides and isolates, word joiners,
/// the byte-order mark.
pub fn invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{2069}' | '\u{FEFF}' | '\u{00AD}')
}

/// `s` with every [`invisible`] character written as `\u{202e}`, so a message shows what it is.
pub fn visible(s: &str) -> String {
    s.chars()
        .map(|c| {
            if invisible(c) {
                format!("\\u{{{:04x}}}", c as u32)
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// Why a well-formed target is still not a PART's to write: `INDEX.md` and `drops/` belong to
/// expanse's own bookkeeping (an approval would overwrite the index or a drop). Compared without
/// regard to case, since macOS and Windows file systems ignore it.
pub fn reserved_target(target: &str) -> Option<&'static str> {
    let mut parts = target
        .split(['/', '\\'])
        .filter(|c| !c.is_empty() && *c != ".");
    let first = parts.next()?;
    let rest = parts.next();
    if rest.is_none() && first.eq_ignore_ascii_case("INDEX.md") {
        return Some(
            "is the knowledge base's INDEX.md, which expanse maintains itself; name another file",
        );
    }
    if first.eq_ignore_ascii_case("drops") {
        return Some(
            "is inside drops/, where expanse writes KNOWLEDGE DROPs; name a file in another folder",
        );
    }
    None
}

fn error(line: usize, message: String) -> Diagnostic {
    Diagnostic {
        line,
        severity: Severity::Error,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_rules() {
        assert!(target_problem("a/b.md").is_none());
        assert!(
            target_problem("/etc/passwd.md")
                .unwrap()
                .contains("absolute")
        );
        assert!(target_problem("C:\\x.md").unwrap().contains("absolute"));
        assert!(target_problem("a/../../b.md").unwrap().contains(".."));
        assert!(target_problem("a/b.txt").unwrap().contains(".md"));
        assert!(target_problem("").is_some());
        // `..` inside a name is fine; only a `..` component escapes.
        assert!(target_problem("a/b..c.md").is_none());
        let long = format!("a/{}.md", "x".repeat(253));
        assert!(target_problem(&long).unwrap().contains("over 255 bytes"));
        assert!(target_problem(&format!("a/{}.md", "x".repeat(252))).is_none());
    }

    #[test]
    fn index_and_drops_are_reserved_in_any_case() {
        for t in [
            "INDEX.md",
            "index.md",
            "./Index.MD",
            "drops/x.md",
            "DROPS/KNOWLEDGE-DROP-x.md",
            "./drops//y.md",
            "drops\\z.md",
        ] {
            assert!(reserved_target(t).is_some(), "{t}");
        }
        for t in [
            "a/INDEX.md",
            "dropsy/x.md",
            "a/drops/x.md",
            "index-notes.md",
        ] {
            assert!(reserved_target(t).is_none(), "{t}");
        }
    }
}
