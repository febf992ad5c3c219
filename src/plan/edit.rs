//! Byte-preserving edits: tick or untick one PART's checkbox line and change nothing else.

use super::model::Plan;
use super::shapes::is_done_mark;
use super::text::{line_budget, split_parenthesised};

/// Why an edit could not be applied.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EditError {
    /// No PART with that number in the plan's current text.
    #[error("PART {0} is not in the plan")]
    PartNotFound(u32),
    /// The PART has a heading but no `- [ ] PART N: ...` line to tick.
    #[error("PART {0} has no checkbox line to tick")]
    NoCheckboxLine(u32),
}

/// The glyph used when a plan has no ticked PART to copy from: the family of plans expanse runs uses `✓`.
pub const DEFAULT_DONE_MARK: char = '✓';

/// Tick PART `number` with `(annotation)`, keeping the plan's glyph and line endings.
pub fn tick(source: &str, number: u32, annotation: &str) -> Result<String, EditError> {
    let plan = Plan::parse(source);
    let glyph = done_glyph(&plan);
    // An unknown glyph (`[~]`) would leave the PART open after "ticking": replace it.
    let mark = |old: char| if is_done_mark(old) { old } else { glyph };
    edit_line(&plan, source, number, mark, Some(annotation))
}

/// Untick PART `number` and drop its annotation.
pub fn untick(source: &str, number: u32) -> Result<String, EditError> {
    let plan = Plan::parse(source);
    edit_line(&plan, source, number, |_| ' ', None)
}

/// The done glyph most PARTs of this plan are ticked with, else [`DEFAULT_DONE_MARK`].
fn done_glyph(plan: &Plan) -> char {
    let mut counts: Vec<(char, usize)> = Vec::new();
    for mark in plan
        .parts
        .iter()
        .filter_map(|p| p.span.checkbox.as_ref())
        .map(|c| c.mark)
        .filter(|&m| is_done_mark(m))
    {
        match counts.iter_mut().find(|(c, _)| *c == mark) {
            Some((_, n)) => *n += 1,
            None => counts.push((mark, 1)),
        }
    }
    counts
        .iter()
        .max_by_key(|(_, n)| *n)
        .map_or(DEFAULT_DONE_MARK, |(c, _)| *c)
}

fn edit_line(
    plan: &Plan,
    source: &str,
    number: u32,
    mark_for: impl Fn(char) -> char,
    annotation: Option<&str>,
) -> Result<String, EditError> {
    let part = plan.part(number).ok_or(EditError::PartNotFound(number))?;
    let cb = part
        .span
        .checkbox
        .as_ref()
        .ok_or(EditError::NoCheckboxLine(number))?;
    let line = &source[cb.start..cb.end];
    let open = line.find('[').ok_or(EditError::NoCheckboxLine(number))?;
    let mark_len = line[open + 1..].chars().next().map_or(0, char::len_utf8);
    let after_mark = open + 1 + mark_len;
    if !line[after_mark..].starts_with(']') {
        return Err(EditError::NoCheckboxLine(number));
    }
    let rest = &line[after_mark + 1..];
    let mark = mark_for(cb.mark);

    // The body keeps everything but a trailing status note (`Completed …`, `FILE EXISTS …`, or
    // the very note being written, so ticking twice changes nothing); a `~N lines` group or a
    // person's own note (`(owner: bob)`) stays.
    let replaceable =
        |group: &str| is_status_note(group) || annotation.is_some_and(|a| a.trim() == group.trim());
    let body = match split_parenthesised(rest) {
        Some((head, group)) if line_budget(group).is_none() && replaceable(group) => {
            head.trim_end()
        }
        _ => rest,
    };
    let mut new_line = String::with_capacity(line.len() + 32);
    new_line.push_str(&line[..=open]);
    new_line.push(mark);
    new_line.push(']');
    match annotation {
        Some(a) => {
            new_line.push_str(body.trim_end());
            new_line.push_str(" (");
            new_line.push_str(a);
            new_line.push(')');
        }
        _ if body.len() != rest.len() => new_line.push_str(body.trim_end()),
        _ => new_line.push_str(rest),
    }
    let mut out = String::with_capacity(source.len() + 32);
    out.push_str(&source[..cb.start]);
    out.push_str(&new_line);
    out.push_str(&source[cb.end..]);
    Ok(out)
}

/// Whether a parenthesised group at the end of a checkbox line is a status note that ticking
/// writes or the plans' family uses, which a new tick or an untick replaces.
fn is_status_note(group: &str) -> bool {
    let g = group.trim_start().to_ascii_lowercase();
    ["completed", "file exists", "done", "skipped"]
        .iter()
        .any(|w| g.starts_with(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAN: &str = "# T\n\n### PART 1: Create a/b.md (~10 lines)\n\n- [ ] PART 1: Create a/b.md\n\n### PART 2: Create a/c.md\n\n- [x] PART 2: Create a/c.md (Completed 2025-01-01)\n";

    #[test]
    fn tick_copies_the_plans_glyph() {
        let out = tick(PLAN, 1, "Completed 2026-11-24 10:00").unwrap();
        assert!(out.contains("- [x] PART 1: Create a/b.md (Completed 2026-11-24 10:00)\n"));
        assert_eq!(
            out.replace(
                "- [x] PART 1: Create a/b.md (Completed 2026-11-24 10:00)",
                "- [ ] PART 1: Create a/b.md"
            ),
            PLAN
        );
    }

    #[test]
    fn untick_removes_annotation_only() {
        let out = untick(PLAN, 2).unwrap();
        assert!(out.ends_with("- [ ] PART 2: Create a/c.md\n"));
        assert_eq!(
            out.len(),
            PLAN.len() - "x".len() + " ".len() - " (Completed 2025-01-01)".len()
        );
    }

    #[test]
    fn a_persons_note_on_the_line_is_kept() {
        let plan = "# T\n\n### PART 1: Create a/b.md\n\n- [ ] PART 1: Create a/b.md (owner: bob, see #12)\n";
        let ticked = tick(plan, 1, "Completed 2026-11-30 10:00").unwrap();
        assert!(
            ticked.ends_with(
                "- [✓] PART 1: Create a/b.md (owner: bob, see #12) (Completed 2026-11-30 10:00)\n"
            ),
            "{ticked}"
        );
        // A second tick replaces its own note, and untick removes it, the person's note kept.
        let again = tick(&ticked, 1, "Completed 2026-12-01 09:00").unwrap();
        assert!(
            again.ends_with("(owner: bob, see #12) (Completed 2026-12-01 09:00)\n"),
            "{again}"
        );
        assert_eq!(untick(&again, 1).unwrap(), plan);
        let exists = "# T\n\n### PART 1: Create a/b.md\n\n- [x] PART 1: Create a/b.md (FILE EXISTS - 2 KB)\n";
        assert!(
            tick(exists, 1, "Completed x")
                .unwrap()
                .ends_with("a/b.md (Completed x)\n")
        );
    }

    #[test]
    fn crlf_is_kept() {
        let crlf = PLAN.replace('\n', "\r\n");
        let out = tick(&crlf, 1, "done").unwrap();
        assert!(out.contains("- [x] PART 1: Create a/b.md (done)\r\n"));
        assert_eq!(untick(&out, 1).unwrap(), crlf);
    }

    #[test]
    fn an_unknown_glyph_becomes_a_done_one() {
        let odd = "### PART 1: Create a.md\n- [~] PART 1: Create a.md\n### PART 2: Create b.md\n- [X] PART 2: Create b.md\n";
        let out = tick(odd, 1, "Completed 2026-01-01 10:00").unwrap();
        assert!(out.contains("- [X] PART 1: Create a.md (Completed 2026-01-01 10:00)\n"));
        assert!(Plan::parse(&out).part(1).unwrap().done);
        let alone = "### PART 1: Create a.md\n- [~] PART 1: Create a.md\n";
        let out = tick(alone, 1, "done").unwrap();
        assert!(out.contains("- [✓] PART 1: Create a.md (done)"), "{out}");
        assert!(Plan::parse(&out).part(1).unwrap().done);
    }

    #[test]
    fn default_glyph_and_errors() {
        let plain = "### PART 1: Create a.md\n- [ ] PART 1: Create a.md\n";
        assert_eq!(
            tick(plain, 1, "x").unwrap(),
            "### PART 1: Create a.md\n- [✓] PART 1: Create a.md (x)\n"
        );
        assert_eq!(tick(plain, 9, "x"), Err(EditError::PartNotFound(9)));
        assert_eq!(
            tick("### PART 1: Create a.md\n", 1, "x"),
            Err(EditError::NoCheckboxLine(1))
        );
    }
}
