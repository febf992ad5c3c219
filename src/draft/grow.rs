//! Growing a file the base already holds: the PART's sections go into the person's file
//! without changing a byte of it. A section whose heading the file already has is appended
//! under it; a new one is placed where the plan's order puts it among the existing headings;
//! new sources join the file's own Sources list, numbered after the ones it already cites.

use crate::draft::DraftSection;
use crate::knowledge::coverage::names;
use crate::markdown;
use crate::research::Source;

/// Headings that hold a file's list of sources.
fn is_sources_heading(title: &str) -> bool {
    matches!(
        title.trim().to_ascii_lowercase().as_str(),
        "sources" | "references" | "bibliography"
    )
}

/// The first citation number a new source may take in `text`: one past every number it cites
/// or lists.
pub fn first_free_number(text: &str) -> usize {
    let cited = super::cited(text).into_iter().max().unwrap_or(0);
    let listed = text
        .lines()
        .filter_map(|l| {
            let l = l.trim_start().trim_start_matches("- ");
            let inner = l.strip_prefix('[')?;
            inner[..inner.find(']')?].parse::<usize>().ok()
        })
        .max()
        .unwrap_or(0);
    cited.max(listed) + 1
}

/// Byte just past the last line of `text[range]` that holds something (its start when none does).
fn content_end(text: &str, range: std::ops::Range<usize>) -> usize {
    let slice = &text[range.clone()];
    let trimmed = slice.trim_end();
    if trimmed.is_empty() {
        return range.start;
    }
    let end = range.start + trimmed.len();
    // Past the newline that ends that line, when there is one.
    match text[end..].find('\n') {
        Some(i) if end + i < range.end.max(end + 1) => end + i + 1,
        _ => end,
    }
}

/// One piece of new text and where it goes.
struct Insert {
    at: usize,
    text: String,
}

/// What a piece at `at` starts with so that a blank line parts it from what comes before: the
/// file's text there, or a piece already placed at the same spot (which ends its line).
fn lead(existing: &str, at: usize, inserts: &[Insert]) -> &'static str {
    if at > 0 && !existing[..at].ends_with('\n') && !inserts.iter().any(|i| i.at == at) {
        "\n\n"
    } else {
        "\n"
    }
}

/// `existing` with `sections` (the PART's, in plan order; empty bodies add nothing) and the new
/// sources they cite added; every byte of `existing` is kept, in order.
pub fn grow(existing: &str, sections: &[DraftSection], sources: &[Source]) -> String {
    let all = markdown::sections(existing, 2);
    let sources_section = all.iter().find(|s| is_sources_heading(s.heading.title));
    let content: Vec<&markdown::Section> = all
        .iter()
        .filter(|s| !is_sources_heading(s.heading.title))
        .collect();
    // The existing section each planned one extends, if any.
    let matched: Vec<Option<&markdown::Section>> = sections
        .iter()
        .map(|s| {
            content
                .iter()
                .copied()
                .find(|e| names(e.heading.title, &s.title))
        })
        .collect();
    // Where text may go at the end of the file: before its Sources, else after its last line.
    let tail = match sources_section {
        Some(s) => content_end(existing, 0..s.heading.range.start),
        None => content_end(existing, 0..existing.len()),
    };
    let mut inserts: Vec<Insert> = Vec::new();
    let mut anchor: Option<usize> = None;
    for (k, s) in sections.iter().enumerate() {
        let body = s.text.trim();
        let at = match matched[k] {
            Some(e) => content_end(existing, e.heading.range.start..e.body.end),
            None => anchor.unwrap_or_else(|| {
                // Before the first existing section a later planned one extends.
                matched[k + 1..]
                    .iter()
                    .flatten()
                    .map(|e| content_end(existing, 0..e.heading.range.start))
                    .next()
                    .unwrap_or(tail)
            }),
        };
        anchor = Some(at);
        if body.is_empty() {
            continue;
        }
        let lead = lead(existing, at, &inserts);
        let text = match matched[k] {
            Some(_) => format!("{lead}{body}\n"),
            None => format!("{lead}## {}\n\n{body}\n", s.title),
        };
        inserts.push(Insert { at, text });
    }
    // Sources the new text cites that the file does not list yet.
    let new_text: String = inserts.iter().map(|i| i.text.as_str()).collect();
    let used = super::cited(&new_text);
    let listed: std::collections::BTreeSet<usize> = sources_section
        .map(|s| {
            existing[s.body.clone()]
                .lines()
                .filter_map(|l| {
                    let l = l.trim_start().trim_start_matches("- ");
                    let inner = l.strip_prefix('[')?;
                    inner[..inner.find(']')?].parse().ok()
                })
                .collect()
        })
        .unwrap_or_default();
    let bullet = sources_section.is_some_and(|s| {
        existing[s.body.clone()]
            .lines()
            .any(|l| l.trim_start().starts_with("- ["))
    });
    let entries: String = sources
        .iter()
        .filter(|s| used.contains(&s.n) && !listed.contains(&s.n))
        .map(|s| {
            format!(
                "{}[{}] {} — {}\n",
                if bullet { "- " } else { "" },
                s.n,
                s.page.title,
                s.page.url
            )
        })
        .collect();
    if !entries.is_empty() {
        match sources_section {
            Some(s) => {
                let at = content_end(existing, s.heading.range.start..s.body.end);
                let lead = if existing[..at].ends_with('\n') {
                    ""
                } else {
                    "\n"
                };
                inserts.push(Insert {
                    at,
                    text: format!("{lead}{entries}"),
                });
            }
            None => {
                let at = content_end(existing, 0..existing.len());
                let lead = lead(existing, at, &inserts);
                inserts.push(Insert {
                    at,
                    text: format!("{lead}## Sources\n\n{entries}"),
                });
            }
        }
    }
    // Stable: pieces at one place keep the plan's order.
    inserts.sort_by_key(|i| i.at);
    let mut out = String::with_capacity(existing.len() + new_text.len() + entries.len());
    let mut from = 0;
    for i in inserts {
        out.push_str(&existing[from..i.at]);
        out.push_str(&i.text);
        from = i.at;
    }
    out.push_str(&existing[from..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::research::Page;

    fn section(title: &str, text: &str) -> DraftSection {
        DraftSection {
            title: title.into(),
            text: text.into(),
            sources: vec![],
            writer: "extractive".into(),
            written: String::new(),
        }
    }

    fn source(n: usize) -> Source {
        Source {
            n,
            page: Page {
                url: format!("https://e.com/{n}"),
                title: format!("T{n}"),
                content: String::new(),
            },
        }
    }

    const NOTES: &str = "# ZeRO stages (hand notes)\n\nWhat I learned.\n\n## ZeRO stage comparison\n\nZeRO-2 gave 1.4x throughput over ZeRO-3 on our 7B run [1].\n\n## Pitfalls\n\nOffload to NVMe is slow.\n\n## Sources\n\n[1] Our run log — https://wiki/run\n";

    /// Whether every line of `old` is in `new`, in order.
    fn keeps_every_line(old: &str, new: &str) -> bool {
        let mut it = new.lines();
        old.lines().all(|l| it.any(|n| n == l))
    }

    #[test]
    fn sections_grow_the_file_and_keep_every_byte_of_it() {
        let out = grow(
            NOTES,
            &[
                section("Overview", "ZeRO removes redundancy [2]."),
                section(
                    "ZeRO-1, ZeRO-2, ZeRO-3 comparison",
                    "Stage 3 shards parameters [3].",
                ),
                section(
                    "Memory optimization breakdown",
                    "Offload moves state to CPU [2].",
                ),
            ],
            &[source(2), source(3)],
        );
        assert!(keeps_every_line(NOTES, &out), "{out}");
        assert_eq!(
            out,
            "# ZeRO stages (hand notes)\n\nWhat I learned.\n\n## Overview\n\nZeRO removes redundancy [2].\n\n## ZeRO stage comparison\n\nZeRO-2 gave 1.4x throughput over ZeRO-3 on our 7B run [1].\n\nStage 3 shards parameters [3].\n\n## Memory optimization breakdown\n\nOffload moves state to CPU [2].\n\n## Pitfalls\n\nOffload to NVMe is slow.\n\n## Sources\n\n[1] Our run log — https://wiki/run\n[2] T2 — https://e.com/2\n[3] T3 — https://e.com/3\n"
        );
    }

    #[test]
    fn a_file_without_sources_or_final_newline_gets_them() {
        let out = grow(
            "# T\n\nnotes",
            &[section("New part", "Fact [1].")],
            &[source(1)],
        );
        assert_eq!(
            out,
            "# T\n\nnotes\n\n## New part\n\nFact [1].\n\n## Sources\n\n[1] T1 — https://e.com/1\n"
        );
        assert!(keeps_every_line("# T\n\nnotes", &out));
    }

    #[test]
    fn new_numbers_start_after_the_files_own() {
        assert_eq!(first_free_number(NOTES), 2);
        assert_eq!(first_free_number("# T\n\nNothing cited.\n"), 1);
        assert_eq!(first_free_number("x [4]\n\n## Sources\n\n- [7] a — b\n"), 8);
    }

    #[test]
    fn an_empty_body_adds_nothing() {
        assert_eq!(grow(NOTES, &[section("Pitfalls", "  ")], &[]), NOTES);
    }
}
