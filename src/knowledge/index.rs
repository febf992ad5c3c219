//! The knowledge base's INDEX.md: add or update one file's entry, touching no other line.

/// Whether `line` is the index entry for `target`: a list item whose first link points at it
/// (`- [label](target) …`). A line that mentions the file elsewhere (a hand-written reading
/// order, another entry whose title links to it) is not, and is never replaced.
pub fn is_entry_for(line: &str, target: &str) -> bool {
    let item = line.trim_start();
    let Some(rest) = item.strip_prefix("- ").or_else(|| item.strip_prefix("* ")) else {
        return false;
    };
    let Some(label_and_link) = rest.strip_prefix('[') else {
        return false;
    };
    let Some(close) = label_and_link.find("](") else {
        return false;
    };
    label_and_link[close + 2..]
        .strip_prefix(target)
        .is_some_and(|after| after.starts_with(')'))
}

/// Whether an entry line is one expanse wrote (`… (N lines, PART n, approved YYYY-MM-DD)`).
fn written_by_expanse(line: &str) -> bool {
    let line = line.trim_end();
    line.ends_with(')') && line.contains(" lines, PART ") && line.contains(", approved ")
}

/// `text` with the entry for `target` added (at the end) or replaced (in place). A person's
/// own entry for the file is theirs: it is kept as written, and nothing is added.
pub fn upsert_entry(text: &str, target: &str, entry: &str) -> String {
    if text
        .lines()
        .any(|l| is_entry_for(l, target) && !written_by_expanse(l))
    {
        return text.to_string();
    }
    let crlf = text.contains("\r\n");
    let eol = if crlf { "\r\n" } else { "\n" };
    let mut out = String::with_capacity(text.len() + entry.len() + 2);
    let mut replaced = false;
    for line in text.split_inclusive('\n') {
        if !replaced && is_entry_for(line, target) {
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

    #[test]
    fn only_the_files_own_entry_is_replaced() {
        let base = "# Index\n\nReading order: [ZeRO](a.md), then [Triton](b.md).\n\n\
- [b.md](b.md) — Triton, see [ZeRO](a.md)\n";
        let e = entry("a.md", "ZeRO", 10, 1, "2026-11-30");
        let out = upsert_entry(base, "a.md", &e);
        assert_eq!(
            out,
            format!("{base}{e}\n"),
            "the reading order and b's entry stay"
        );
        let e2 = entry("a.md", "ZeRO v2", 12, 1, "2026-12-01");
        assert_eq!(upsert_entry(&out, "a.md", &e2), format!("{base}{e2}\n"));
        assert!(is_entry_for("  * [old](a.md) — hand-written", "a.md"));
        assert!(!is_entry_for("- [x](a.md.bak)", "a.md"));
    }

    #[test]
    fn a_persons_own_entry_is_kept_and_expanses_is_updated() {
        let base = "# Index\n\n- [ZeRO (hand notes)](d/zero.md) — our runs\n";
        let e = entry("d/zero.md", "ZeRO", 90, 1, "2026-12-04");
        assert_eq!(upsert_entry(base, "d/zero.md", &e), base);
        let ours = upsert_entry("# Index\n\n", "d/zero.md", &e);
        let again = entry("d/zero.md", "ZeRO", 120, 1, "2026-12-05");
        assert_eq!(
            upsert_entry(&ours, "d/zero.md", &again),
            format!("# Index\n\n{again}\n")
        );
    }
}
