//! The knowledge base's INDEX.md: add or update one file's entry, touching no other line.

/// `text` with the entry for `target` added (at the end) or replaced (in place).
pub fn upsert_entry(text: &str, target: &str, entry: &str) -> String {
    let marker = format!("]({target})");
    let crlf = text.contains("\r\n");
    let eol = if crlf { "\r\n" } else { "\n" };
    let mut out = String::with_capacity(text.len() + entry.len() + 2);
    let mut replaced = false;
    for line in text.split_inclusive('\n') {
        if !replaced && line.contains(&marker) {
            out.push_str(entry);
            out.push_str(eol);
            replaced = true;
        } else {
            out.push_str(line);
        }
    }
    if !replaced {
        if !out.is_empty() && !out.ends_with('\n') {
            out.push_str(eol);
        }
        out.push_str(entry);
        out.push_str(eol);
    }
    out
}

/// The entry line: `- [target](target) — Title (N lines, PART n, approved YYYY-MM-DD)`.
pub fn entry(target: &str, title: &str, lines: usize, part: u32, date: &str) -> String {
    format!("- [{target}]({target}) — {title} ({lines} lines, PART {part}, approved {date})")
}

/// The starting index of an empty knowledge base.
pub const EMPTY_INDEX: &str = "# Knowledge Base Index\n\n## Files\n\n";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_then_updates_in_place() {
        let base = "# Index\n\nIntro.\n\n## Files\n\n- [old.md](old.md) — Old\n";
        let e1 = entry("a/b.md", "B", 10, 2, "2026-11-24");
        let once = upsert_entry(base, "a/b.md", &e1);
        assert_eq!(once, format!("{base}{e1}\n"));
        let e2 = entry("a/b.md", "B v2", 12, 2, "2026-11-25");
        let twice = upsert_entry(&once, "a/b.md", &e2);
        assert_eq!(twice, format!("{base}{e2}\n"));
        assert_eq!(upsert_entry("x", "a.md", "e"), "x\ne\n");
        assert_eq!(upsert_entry("x\r\n", "a.md", "e"), "x\r\ne\r\n");
    }
}
