//! The writer's prompt, as pure functions: the PART's sections and budgets, what the base already
//! holds, the numbered sources trimmed to a context budget, and the previous rejection reason.

use crate::research::{Source, WriteRequest};

/// Default characters of source text sent to the model (about 12k tokens at ~4 characters a token).
pub const DEFAULT_CONTEXT_CHARS: usize = 48_000;

/// Marks where a source was cut to fit the budget.
pub const TRIMMED: &str = "\n[… trimmed to fit the context budget]";

/// One chat message.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Message {
    /// `system` or `user`.
    pub role: &'static str,
    /// The text.
    pub content: String,
}

/// The system and user messages for one draft; `context_chars` bounds the source text.
pub fn messages(request: &WriteRequest, context_chars: usize) -> Vec<Message> {
    vec![
        Message {
            role: "system",
            content: system_prompt(),
        },
        Message {
            role: "user",
            content: user_prompt(request, context_chars),
        },
    ]
}

/// What the model is and the rules every draft follows.
pub fn system_prompt() -> String {
    [
        "You write one file of a technical knowledge base in markdown, from the numbered sources you are given.",
        "Rules:",
        "- Write the sections in the order given, each as a `## ` heading with the section's title, and keep each near its line budget.",
        "- Support every factual statement with the number of the source it comes from, written as [n] (for example [2] or [1][3]). Cite only the numbers you are given; never invent a source.",
        "- Use only what the sources say; when they do not cover something a section asks for, say so briefly instead of guessing.",
        "- Do not repeat what the knowledge base already holds (listed under \"Already in the knowledge base\"); refer to it and add what is new.",
        "- Do not write a Sources, References or Bibliography list: expanse renders it from the sources you cite.",
        "- Answer with the file's markdown only: no preamble, no closing remarks, no code fence around the whole answer.",
    ]
    .join("\n")
}

/// The PART, the base's existing coverage, the feedback and the trimmed sources.
pub fn user_prompt(request: &WriteRequest, context_chars: usize) -> String {
    let part = &request.part;
    let mut out = String::new();
    if let Some(t) = &request.plan_title {
        out.push_str(&format!("Plan: {t}\n"));
    }
    out.push_str(&format!("File to write: {}", part.target));
    if let Some(n) = part.expected_lines {
        out.push_str(&format!(" (about {n} lines in all)"));
    }
    out.push_str("\n\n");
    out.push_str(&format!("# {}\n\n", title_for(request)));

    out.push_str("## Sections to write, in order\n\n");
    if part.sections.is_empty() {
        out.push_str(
            "No sections are planned: organise the file by the topics the sources cover.\n",
        );
    }
    for (i, s) in part.sections.iter().enumerate() {
        out.push_str(&format!("{}. {}", i + 1, s.title));
        if let Some(h) = &s.hint {
            out.push_str(&format!(" — {h}"));
        }
        if let Some(l) = s.lines {
            out.push_str(&format!(" (~{l} lines)"));
        }
        out.push('\n');
    }
    for r in &part.requirements {
        out.push_str(&format!("Requirement: {r}\n"));
    }
    out.push_str("Cite sources as [n], using the numbers below.\n\n");

    let existing = &request.existing;
    if !existing.files.is_empty() || !existing.gaps.is_empty() || !existing.notes.is_empty() {
        out.push_str("## Already in the knowledge base (do not repeat it)\n\n");
        for f in &existing.files {
            out.push_str(&format!("- {} (found by {})\n", f.path, f.why));
            for m in &f.matches {
                out.push_str(&format!("  - line {}: {}\n", m.line, m.text.trim()));
            }
        }
        for n in &existing.notes {
            out.push_str(&format!("- Note: {n}\n"));
        }
        for g in &existing.gaps {
            out.push_str(&format!("- Gap to fill: {g}\n"));
        }
        out.push('\n');
    }

    if let Some(reason) = request.feedback.as_deref().filter(|r| !r.trim().is_empty()) {
        out.push_str("## The previous draft was rejected\n\n");
        out.push_str(&format!(
            "Reason given by the reviewer: {}\n",
            reason.trim()
        ));
        out.push_str("Write a new draft that addresses it.\n\n");
    }

    out.push_str("## Sources\n\n");
    if request.sources.is_empty() {
        out.push_str("No sources were gathered. Write only what the sections require in general terms, cite nothing, and say that sources are missing.\n");
    }
    for s in trim_sources(&request.sources, context_chars) {
        out.push_str(&s);
        out.push_str("\n\n");
    }
    out.trim_end().to_string() + "\n"
}

/// The file's heading: the target's stem in words, or the PART's title.
fn title_for(request: &WriteRequest) -> String {
    let target = &request.part.target;
    let stem = target
        .rsplit('/')
        .next()
        .unwrap_or(target)
        .trim_end_matches(".md");
    let words: String = stem
        .split(['-', '_'])
        .filter(|w| !w.chars().all(|c| c.is_ascii_digit()))
        .collect::<Vec<_>>()
        .join(" ");
    if words.trim().is_empty() {
        request.part.title.clone()
    } else {
        words
    }
}

/// The header line of a source: `[n] title — url`.
pub fn source_header(s: &Source) -> String {
    format!("[{}] {} — {}", s.n, s.page.title.trim(), s.page.url)
}

/// Each source as `header\n\ncontent`, the contents cut so that together they fit in `budget`
/// characters. The longest are cut first (every source keeps at least as much as the shortest
/// cut one), and every header is kept whatever the budget.
pub fn trim_sources(sources: &[Source], budget: usize) -> Vec<String> {
    let lens: Vec<usize> = sources
        .iter()
        .map(|s| s.page.content.trim().chars().count())
        .collect();
    let cap = water_level(&lens, budget);
    sources
        .iter()
        .zip(&lens)
        .map(|(s, &len)| {
            let content = s.page.content.trim();
            let body = if len <= cap {
                content.to_string()
            } else {
                cut_at_boundary(content, cap) + TRIMMED
            };
            format!("{}\n\n{}", source_header(s), body)
        })
        .collect()
}

/// The largest per-source length `c` with `sum(min(len, c)) <= budget`.
fn water_level(lens: &[usize], budget: usize) -> usize {
    let total: usize = lens.iter().sum();
    if total <= budget {
        return usize::MAX;
    }
    let mut sorted = lens.to_vec();
    sorted.sort_unstable();
    let mut used = 0;
    for (i, &len) in sorted.iter().enumerate() {
        let rest = sorted.len() - i;
        // Every remaining source is at least `len` long; can they all have `len`?
        if used + len * rest > budget {
            return (budget - used) / rest;
        }
        used += len;
    }
    usize::MAX
}

/// The first `max` characters, cut back to the last paragraph, line or sentence end when one is
/// near, so the model does not read half a sentence.
fn cut_at_boundary(text: &str, max: usize) -> String {
    let cut: String = text.chars().take(max).collect();
    let floor = cut.len() * 3 / 4;
    for sep in ["\n\n", "\n", ". "] {
        if let Some(p) = cut.rfind(sep)
            && p >= floor
        {
            return cut[..p + sep.trim_end().len()].trim_end().to_string();
        }
    }
    cut.trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knowledge::{Existing, ExistingFile, MatchLine};
    use crate::plan::Plan;
    use crate::research::Page;

    fn source(n: usize, len: usize) -> Source {
        Source {
            n,
            page: Page {
                url: format!("https://e.com/{n}"),
                title: format!("T{n}"),
                content: "x".repeat(len),
            },
        }
    }

    fn request() -> WriteRequest {
        let plan = Plan::parse(
            "# P\n\n### PART 1: Create t/00-zero-optimizer.md (~300 lines)\n\n- [ ] PART 1: Create t/00-zero-optimizer.md\n\
             - [ ] Search: \"ZeRO\"\n- [ ] Section 1: Overview - what ZeRO is (~80 lines)\n- [ ] Section 2: Stages (~120 lines)\n- [ ] Cite all sources\n",
        );
        WriteRequest {
            plan_title: Some("P".into()),
            part: plan.parts[0].clone(),
            sources: vec![source(1, 50), source(2, 5000)],
            existing: Existing {
                files: vec![ExistingFile {
                    path: "t/zero.md".into(),
                    why: "grep \"ZeRO\"".into(),
                    matches: vec![MatchLine {
                        line: 3,
                        text: "ZeRO stage 1 shards optimizer state".into(),
                    }],
                }],
                notes: vec![],
                gaps: vec!["no coverage of ZeRO-Infinity".into()],
            },
            feedback: Some("too short on stages".into()),
        }
    }

    #[test]
    fn prompt_has_every_part() {
        let p = user_prompt(&request(), 1000);
        for want in [
            "File to write: t/00-zero-optimizer.md (about 300 lines in all)",
            "# zero optimizer",
            "1. Overview — what ZeRO is (~80 lines)",
            "2. Stages (~120 lines)",
            "Requirement: Cite all sources",
            "[n]",
            "- t/zero.md (found by grep \"ZeRO\")",
            "line 3: ZeRO stage 1 shards optimizer state",
            "Gap to fill: no coverage of ZeRO-Infinity",
            "Reason given by the reviewer: too short on stages",
            "[1] T1 — https://e.com/1",
            "[2] T2 — https://e.com/2",
            TRIMMED.trim(),
        ] {
            assert!(p.contains(want), "missing {want:?} in\n{p}");
        }
        assert!(system_prompt().contains("Do not write a Sources"));
    }

    #[test]
    fn longest_sources_are_trimmed_first_and_headers_kept() {
        let sources = vec![source(1, 100), source(2, 3000), source(3, 2000)];
        let out = trim_sources(&sources, 1100);
        assert_eq!(out.len(), 3);
        assert!(out[0].ends_with(&"x".repeat(100)) && !out[0].contains("trimmed"));
        let body = |s: &str| {
            s.split("\n\n")
                .nth(1)
                .unwrap()
                .trim_end_matches(TRIMMED)
                .len()
        };
        assert_eq!(body(&out[1]), 500);
        assert_eq!(body(&out[2]), 500);
        let tiny = trim_sources(&sources, 0);
        assert!(tiny.iter().all(|s| s.starts_with('[')), "{tiny:?}");
        assert_eq!(water_level(&[10, 20], 100), usize::MAX);
    }
}
