//! The writer's prompt for one section, as pure functions: the file's outline and which section
//! to write, its hint and budget, what the base already holds, the section's own sources
//! (PART-wide numbers) trimmed to a context budget, and a reviewer's reason; and the answer's
//! clean-up (the heading is expanse's, a model's Sources list is dropped).

use crate::research::{SectionRequest, Source};

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

/// The system and user messages for one section; `context_chars` bounds the source text.
pub fn messages(request: &SectionRequest, context_chars: usize) -> Vec<Message> {
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

/// What the model is and the rules every section follows.
pub fn system_prompt() -> String {
    [
        "You write one section of a file of a technical knowledge base in markdown, from the numbered sources you are given.",
        "Rules:",
        "- Write only the section you are asked for, near its line budget; the other sections are written separately. Do not write its heading: expanse adds it. Use `###` for any sub-headings.",
        "- Support every factual statement with the number of the source it comes from, written as [n] (for example [2] or [1][3]). Cite only the numbers you are given; never invent a source.",
        "- Use only what the sources say; when they do not cover something the section asks for, say so briefly instead of guessing.",
        "- Do not repeat what the knowledge base already holds (listed under \"Already in the knowledge base\"); refer to it and add what is new.",
        "- Do not write a Sources, References or Bibliography list: expanse renders it from the sources you cite.",
        "- Answer with the section's markdown only: no preamble, no closing remarks, no code fence around the whole answer.",
    ]
    .join("\n")
}

/// The outline, the section, the base's coverage, the reason and the trimmed sources.
pub fn user_prompt(request: &SectionRequest, context_chars: usize) -> String {
    let part = &request.part;
    let section = request.section();
    let mut out = String::new();
    if let Some(t) = &request.plan_title {
        out.push_str(&format!("Plan: {t}\n"));
    }
    out.push_str(&format!("File: {} — \"{}\"", part.target, request.title));
    if let Some(n) = part.expected_lines {
        out.push_str(&format!(" (about {n} lines in all)"));
    }
    out.push_str("\n\n## Outline of the file\n\n");
    for (i, s) in part.sections.iter().enumerate() {
        out.push_str(&format!("{}. {}", i + 1, s.title));
        if i == request.index {
            out.push_str("   <- you write this one");
        }
        out.push('\n');
    }
    out.push_str(&format!(
        "\n## The section to write: {}. {}\n\n",
        request.index + 1,
        section.title
    ));
    if let Some(h) = &section.hint {
        out.push_str(&format!("What it covers: {h}\n"));
    }
    out.push_str(&format!("Length: about {} lines.\n", request.budget()));
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

    if let Some(already) = request.already.as_deref() {
        out.push_str("## The file already has this section; add only what it lacks\n\n");
        out.push_str(
            "This text is the person's own and stays as it is. Do not repeat or rephrase it; write only what it does not say yet, to be placed after it.\n\n",
        );
        let cut: String = already.chars().take(6_000).collect();
        out.push_str(&cut);
        out.push_str("\n\n");
    }

    if let Some(reason) = request.feedback.as_deref().filter(|r| !r.trim().is_empty()) {
        out.push_str("## A reviewer asked for this section again\n\n");
        out.push_str(&format!("Their reason: {}\n", reason.trim()));
        if let Some(prev) = request.previous.as_deref().filter(|p| !p.trim().is_empty()) {
            let cut: String = prev.chars().take(2_000).collect();
            out.push_str(&format!("The text they rejected:\n\n{cut}\n\n"));
        }
        out.push_str("Write a new section that addresses the reason.\n\n");
    }

    out.push_str("## Sources\n\n");
    if request.sources.is_empty() {
        out.push_str("No source covers this section. Write two or three sentences saying what the section would cover and that the gathered sources do not; cite nothing.\n");
    }
    for s in trim_sources(&section_sources(request), context_chars) {
        out.push_str(&s);
        out.push_str("\n\n");
    }
    out.trim_end().to_string() + "\n"
}

/// The section's sources with their content reduced to the passages retrieved for it, in the
/// source's order (a model reads what fits the section, not whole pages).
fn section_sources(request: &SectionRequest) -> Vec<Source> {
    request
        .sources
        .iter()
        .map(|s| {
            let mut ps: Vec<&crate::research::sections::SourcePassage> = request
                .passages
                .iter()
                .filter(|p| p.source == s.n)
                .collect();
            ps.sort_by_key(|p| p.at);
            let content = if ps.is_empty() {
                s.page.content.clone()
            } else {
                ps.iter()
                    .map(|p| {
                        if p.passage.heading.is_empty() {
                            p.passage.text.clone()
                        } else {
                            format!("### {}\n\n{}", p.passage.heading, p.passage.text)
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("\n\n")
            };
            Source {
                n: s.n,
                page: crate::research::Page {
                    content,
                    ..s.page.clone()
                },
            }
        })
        .collect()
}

/// A model's answer as a section body: leading headings (the model's own title for it) and any
/// Sources list dropped, `##` headings inside demoted so the file's sections stay whole.
pub fn clean_section(answer: &str) -> String {
    use crate::markdown::{Kind, blocks, heading_title};
    // Leading headings (the model's own title for the section) go; a Sources list ends it.
    let mut start = None;
    let mut end = answer.len();
    let mut demote: Vec<std::ops::Range<usize>> = Vec::new();
    for b in blocks(answer) {
        let Kind::Heading(level) = b.kind else {
            start.get_or_insert(b.range.start);
            continue;
        };
        let bare = heading_title(b.text).to_ascii_lowercase();
        if matches!(bare.as_str(), "sources" | "references" | "bibliography") {
            end = b.range.start;
            break;
        }
        match start {
            None => {}
            Some(_) if level <= 2 && b.text.starts_with('#') => demote.push(b.range.clone()),
            Some(_) => {}
        }
    }
    let Some(start) = start.filter(|&s| s < end) else {
        return "\n".to_string();
    };
    // `#` and `##` headings inside are demoted so the file's sections stay whole.
    let mut out = String::new();
    let mut at = start;
    for r in demote.iter().filter(|r| r.start >= start && r.end <= end) {
        out.push_str(&answer[at..r.start]);
        let line = &answer[r.clone()];
        out.push_str("### ");
        out.push_str(line.trim_start_matches('#').trim_start());
        at = r.end;
    }
    out.push_str(&answer[at..end]);
    out.trim().to_string() + "\n"
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

    fn request() -> SectionRequest {
        let plan = Plan::parse(
            "# P\n\n### PART 1: Create t/00-zero-optimizer.md (~300 lines)\n\n- [ ] PART 1: Create t/00-zero-optimizer.md\n\
             - [ ] Search: \"ZeRO\"\n- [ ] Section 1: Overview - what ZeRO is (~80 lines)\n- [ ] Section 2: Stages (~120 lines)\n- [ ] Cite all sources\n",
        );
        SectionRequest {
            plan_title: Some("P".into()),
            part: plan.parts[0].clone(),
            title: "ZeRO Optimizer".into(),
            index: 1,
            passages: Vec::new(),
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
                ..Existing::default()
            },
            already: None,
            feedback: Some("too short on stages".into()),
            previous: Some("Stages are three.".into()),
            searched: vec!["ZeRO".into()],
            max_tokens: None,
        }
    }

    #[test]
    fn prompt_has_the_outline_the_section_and_the_reason() {
        let p = user_prompt(&request(), 1000);
        for want in [
            "File: t/00-zero-optimizer.md — \"ZeRO Optimizer\" (about 300 lines in all)",
            "1. Overview\n",
            "2. Stages   <- you write this one",
            "The section to write: 2. Stages",
            "Length: about 120 lines.",
            "Requirement: Cite all sources",
            "- t/zero.md (found by grep \"ZeRO\")",
            "line 3: ZeRO stage 1 shards optimizer state",
            "Gap to fill: no coverage of ZeRO-Infinity",
            "Their reason: too short on stages",
            "Stages are three.",
            "[1] T1 — https://e.com/1",
            "[2] T2 — https://e.com/2",
            TRIMMED.trim(),
        ] {
            assert!(p.contains(want), "missing {want:?} in\n{p}");
        }
        assert!(system_prompt().contains("Do not write a Sources"));
    }

    #[test]
    fn answers_lose_their_heading_and_sources_and_keep_sections_whole() {
        let a = "## Stages\n\nStage 1 shards states [1].\n\n## Details\n\nMore [2].\n\n## References\n\n[1] x\n";
        assert_eq!(
            clean_section(a),
            "Stage 1 shards states [1].\n\n### Details\n\nMore [2].\n"
        );
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
