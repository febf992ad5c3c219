//! A draft awaiting review: the knowledge file made of planned sections, its drop, and the
//! sources behind them; assembling the file, splicing one section back in, the file's title.

pub use crate::research::placeholder::{is_placeholder, missing_note};
use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

mod grow;

pub use grow::{first_free_number, grow};

use crate::knowledge::Existing;
use crate::plan::Part;
use crate::research::Source;

/// A gathered source as the draft records it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SourceRef {
    /// Its citation number.
    pub n: usize,
    /// Its address.
    pub url: String,
    /// Its title.
    pub title: String,
    /// The cache key of the fetch provider it came from ([`crate::research::Fetch::cache_key`]):
    /// its text is in the cache under it.
    #[serde(default)]
    pub provider: String,
}

/// One planned section as written.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DraftSection {
    /// The planned title.
    pub title: String,
    /// Its text under the heading (the heading is expanse's).
    pub text: String,
    /// The PART-wide numbers of the sources it drew on.
    pub sources: Vec<usize>,
    /// Which writer wrote it.
    pub writer: String,
    /// When, local `YYYY-MM-DD HH:MM:SS`.
    pub written: String,
}

/// One PART's draft.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Draft {
    /// The PART number.
    pub part: u32,
    /// The target path, relative to `knowledge/`.
    pub target: String,
    /// The file's `# ` title.
    #[serde(default)]
    pub title: String,
    /// The knowledge file's full text, `## Sources` included (after an edit, the edited text).
    pub text: String,
    /// The drop's file name as planned (`[TIME]` still in it).
    pub drop_name: String,
    /// The drop's text.
    pub drop_text: String,
    /// The sources the text cites.
    pub sources: Vec<SourceRef>,
    /// Every gathered source, numbered as the text cites them.
    #[serde(default)]
    pub gathered: Vec<SourceRef>,
    /// The planned sections as written, in order.
    #[serde(default)]
    pub sections: Vec<DraftSection>,
    /// What the checks found, for the overlap check at review.
    pub existing: Existing,
    /// Which writer made it.
    pub writer: String,
    /// When it was made, local `YYYY-MM-DD HH:MM`.
    pub created: String,
    /// SHA-256 of the target on disk when the draft's diff was last computed (None: absent).
    #[serde(default)]
    pub base_hash: Option<String>,
    /// The reviewer edited the text (a rewrite must not replace it without saying so).
    #[serde(default)]
    pub edited: bool,
}

impl Draft {
    /// Lines of the knowledge file.
    pub fn lines(&self) -> usize {
        self.text.lines().count()
    }
}

/// The note on what the base already holds, put under a new file's title: the files the checks
/// found and what they hold, and for each planned section whether it is new, extends text the
/// base has, or is already covered there.
pub fn existing_note(e: &Existing) -> String {
    let mut s = String::from("**Existing knowledge.** ");
    let found: Vec<String> = e
        .related()
        .map(|f| {
            if f.matches.is_empty() {
                format!("`{}` ({})", f.path, f.why)
            } else {
                format!(
                    "`{}` ({})",
                    f.path,
                    crate::words::plural(f.matches.len(), "matching line")
                )
            }
        })
        .collect();
    if found.is_empty() && e.target.is_none() {
        s.push_str(
            "The checks found nothing on this topic in the knowledge base; this file starts it.",
        );
    } else if !found.is_empty() {
        s.push_str(&format!("Already in the base: {}.", found.join(", ")));
    }
    let gaps = gap_analysis(e);
    if !gaps.is_empty() {
        s.push_str(&format!(" Planned sections: {}.", gaps.join("; ")));
    }
    if !e.gaps.is_empty() {
        s.push_str(&format!(" Gap to fill: {}", e.gaps.join("; ")));
    }
    quote(&s)
}

/// Each planned section against the base, in words: `"Overview" new`, `"Stages" extends
/// `dist/zero.md` § ZeRO stage comparison (3 lines)`. Empty when nothing was compared.
pub fn gap_analysis(e: &Existing) -> Vec<String> {
    if e.coverage.iter().all(|c| c.found.is_empty()) {
        return Vec::new();
    }
    e.coverage
        .iter()
        .map(|c| match c.found.first() {
            None => format!("\"{}\" new", c.section),
            Some(f) => format!(
                "\"{}\" {} `{}` § {} ({})",
                c.section,
                match c.status {
                    crate::knowledge::Coverage::Covered => "already covered by",
                    _ => "extends",
                },
                f.path,
                f.heading,
                crate::words::plural(f.lines, "line")
            ),
        })
        .collect()
}

/// A wrapped blockquote paragraph.
fn quote(text: &str) -> String {
    let opts = textwrap::Options::new(crate::research::local::WRAP)
        .initial_indent("> ")
        .subsequent_indent("> ");
    textwrap::wrap(text, opts).join("\n")
}

/// `## Section 2: Title`: the heading expanse gives a planned section.
pub fn section_heading(k: usize, title: &str) -> String {
    format!("## Section {k}: {title}")
}

/// The file's text: title, the note on existing knowledge, each section under its heading, and
/// the Sources list rendered from the sources the text cites.
pub fn assemble(
    title: &str,
    preamble: &str,
    sections: &[DraftSection],
    sources: &[Source],
) -> String {
    let mut body = format!("# {title}\n\n");
    if !preamble.trim().is_empty() {
        body.push_str(preamble.trim_end());
        body.push_str("\n\n");
    }
    for (i, s) in sections.iter().enumerate() {
        body.push_str(&section_heading(i + 1, &s.title));
        body.push_str("\n\n");
        body.push_str(s.text.trim());
        body.push_str("\n\n");
    }
    with_sources(&body, sources)
}

/// `text` with the body of section `k` (1-based, titled `title`) replaced by `new_body`; the
/// other sections keep their bytes. None when the text has no heading for that section (an
/// edit removed it).
pub fn splice_section(text: &str, k: usize, title: &str, new_body: &str) -> Option<String> {
    let prefix = format!("Section {k}:");
    let want = title.to_lowercase();
    let section = crate::markdown::sections(text, 2).into_iter().find(|s| {
        s.heading.title.starts_with(&prefix) || s.heading.title.to_lowercase().ends_with(&want)
    })?;
    let head = &text[..section.heading.range.end];
    if section.body.end >= text.len() {
        return Some(format!("{head}\n{}\n", new_body.trim()));
    }
    Some(format!(
        "{head}\n{}\n\n{}",
        new_body.trim(),
        &text[section.body.end..]
    ))
}

/// The file's title: the PART's own title when the plan gives one, else the target's name in
/// words, each spelled as the PART's text spells it (`03-fsdp-vs-deepspeed.md` becomes "FSDP vs
/// DeepSpeed") or, when the PART writes it only in lower case, as the gathered `sources` most
/// often do ("ZeRO Stages" for `zero-stages.md`).
pub fn title_for(part: &crate::plan::Part, sources: &[&str]) -> String {
    if let Some(own) = part.own_title() {
        return own.to_string();
    }
    let stem_words: Vec<String> = part
        .stem()
        .split(['-', '_'])
        .filter(|w| !w.is_empty() && !w.chars().all(|c| c.is_ascii_digit()))
        .map(str::to_lowercase)
        .collect();
    if stem_words.is_empty() {
        return part.title.clone();
    }
    // The PART's own words, as written, in the order they appear (not its file name, which is
    // what is being spelled).
    let mut text = part.title.replace(part.target.as_str(), " ");
    for q in &part.queries {
        text.push(' ');
        text.push_str(q);
    }
    for s in &part.sections {
        text.push(' ');
        text.push_str(&s.title);
        if let Some(h) = &s.hint {
            text.push(' ');
            text.push_str(h);
        }
    }
    for o in &part.other {
        text.push(' ');
        text.push_str(&o.replace(part.target.as_str(), " "));
    }
    if let Some(e) = &part.expansion {
        text.push(' ');
        text.push_str(&e.title);
    }
    // Tokens keep inner hyphens ("Megatron-LM") so a hyphenated name can cover two stem words.
    fn tokens(text: &str) -> impl Iterator<Item = &str> {
        text.split(|c: char| !(c.is_alphanumeric() || c == '-'))
            .map(|t| t.trim_matches('-'))
            .filter(|t| !t.is_empty())
    }
    let own: Vec<&str> = tokens(&text).collect();
    // How often the sources spell each of the stem's words (and hyphenated runs) each way.
    let wanted: std::collections::HashSet<String> = (0..stem_words.len())
        .flat_map(|i| (i + 1..=stem_words.len()).map(move |j| (i, j)))
        .map(|(i, j)| stem_words[i..j].join("-"))
        .collect();
    let mut spelled: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for t in sources.iter().flat_map(|s| tokens(s)) {
        if t.len() <= 40 && wanted.contains(&t.to_lowercase()) {
            *spelled.entry(t).or_insert(0) += 1;
        }
    }
    const SMALL: &[&str] = &[
        "vs", "and", "or", "of", "with", "for", "in", "on", "to", "the", "a",
    ];
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < stem_words.len() {
        // The longest run of stem words one token spells (`megatron-lm`): the PART's spelling
        // with the most capitals ("DeepSpeed" over "deepspeed"), else the sources' usual one.
        let found = (1..=stem_words.len() - i).rev().find_map(|len| {
            let want = stem_words[i..i + len].join("-");
            let plain = stem_words[i..i + len].join("");
            let matches = |t: &&str| {
                let l = t.to_lowercase();
                l == want || (len == 1 && l == plain)
            };
            let from_part = own
                .iter()
                .filter(|t| matches(t))
                .max_by_key(|t| t.chars().filter(|c| c.is_uppercase()).count())
                .filter(|t| t.chars().any(char::is_uppercase))
                .copied();
            let from_sources = spelled
                .iter()
                .filter(|(t, _)| matches(t))
                .max_by_key(|(t, n)| (**n, std::cmp::Reverse(**t)))
                .map(|(t, _)| *t);
            let any_part = own.iter().find(|t| matches(t));
            from_part
                .or(from_sources)
                .or(any_part.copied())
                .map(|t| (len, t.to_string()))
        });
        let (len, word) = found.unwrap_or_else(|| (1, stem_words[i].clone()));
        let keep = word.chars().any(char::is_uppercase)
            || (SMALL.contains(&word.as_str()) && !out.is_empty());
        let word = if keep {
            word
        } else {
            let mut c = word.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        };
        out.push(word);
        i += len;
    }
    out.join(" ")
}

/// The text `base` holds under the `##` heading that names `section_title`, if it has one.
pub fn existing_section(base: &str, section_title: &str) -> Option<String> {
    crate::markdown::sections(base, 2)
        .into_iter()
        .find(|s| crate::knowledge::coverage::names(s.heading.title, section_title))
        .map(|s| base[s.body].trim().to_string())
        .filter(|t| !t.is_empty())
}

/// Every `[n]` citation in `text`, in order, repeats included. Code blocks, inline code, indexing
/// such as `out[0]`, links `[3](url)` and reference definitions `[3]:` are not citations.
pub fn citations(text: &str) -> Vec<usize> {
    let code = crate::markdown::code(text);
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    for (i, &b) in bytes.iter().enumerate() {
        if b != b'[' || crate::markdown::within(&code, i) {
            continue;
        }
        let glued = i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
        let digits = bytes[i + 1..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        let close = i + 1 + digits;
        if glued || digits == 0 || digits > 4 || bytes.get(close) != Some(&b']') {
            continue;
        }
        if matches!(bytes.get(close + 1), Some(b'(') | Some(b':')) {
            continue;
        }
        if let Ok(n) = text[i + 1..close].parse() {
            out.push(n);
        }
    }
    out
}

/// The distinct `[n]` citation numbers used in `text`.
pub fn cited(text: &str) -> BTreeSet<usize> {
    citations(text).into_iter().collect()
}

/// The body with a `## Sources` list rendered by expanse: every gathered source the body cites.
pub fn with_sources(body: &str, sources: &[Source]) -> String {
    let body = strip_model_sources(body);
    let used = cited(&body);
    let mut out = body.trim_end().to_string();
    out.push_str("\n\n## Sources\n\n");
    let listed: Vec<&Source> = sources.iter().filter(|s| used.contains(&s.n)).collect();
    if listed.is_empty() {
        out.push_str("No source was cited.\n");
    }
    for s in listed {
        out.push_str(&format!("[{}] {} — {}\n", s.n, s.page.title, s.page.url));
    }
    out
}

/// A writer's own trailing Sources/References section is dropped: expanse renders that list itself.
fn strip_model_sources(body: &str) -> String {
    let cut = crate::markdown::headings(body)
        .into_iter()
        .find(|h| {
            h.level == 2
                && matches!(
                    h.title.to_ascii_lowercase().as_str(),
                    "sources" | "references" | "bibliography"
                )
        })
        .map_or(body.len(), |h| h.range.start);
    body[..cut].to_string()
}

/// The drop's Status line from the checklist: COMPLETE only when clean, else PARTIAL and what
/// is missing.
pub fn status_line(not_clean: &[String]) -> String {
    if not_clean.is_empty() {
        "- **Status**: ✓ COMPLETE".to_string()
    } else {
        format!("- **Status**: ◐ PARTIAL — {}", not_clean.join("; "))
    }
}

/// A drop's text with its Status line replaced (the checklist at approval time decides it).
pub fn with_status(drop_text: &str, not_clean: &[String]) -> String {
    let mut out: Vec<String> = drop_text
        .lines()
        .map(|l| {
            if l.starts_with("- **Status**:") {
                status_line(not_clean)
            } else {
                l.to_string()
            }
        })
        .collect();
    if drop_text.ends_with('\n') {
        out.push(String::new());
    }
    out.join("\n")
}

/// The KNOWLEDGE DROP for a draft: runner, timestamp, status, file with line count, sources, the
/// sections written (only those with content), what the base held and the gap it fills, and the
/// notes a person gave the runner while it wrote.
#[allow(clippy::too_many_arguments)] // one call site; each argument is one part of the drop
pub fn render_drop(
    part: &Part,
    text_lines: usize,
    sources: &[SourceRef],
    existing: &Existing,
    when: &str,
    not_clean: &[String],
    written: &[String],
    notes: &[String],
) -> String {
    let mut s = format!("# KNOWLEDGE DROP: {}\n\n", part.drop_slug());
    s.push_str(&format!("- **Runner**: PART {}\n", part.number));
    s.push_str(&format!("- **Timestamp**: {when}\n"));
    s.push_str(&status_line(not_clean));
    s.push('\n');
    s.push_str(&format!(
        "- **Knowledge file**: `{}` ({text_lines} lines)\n",
        part.target
    ));
    if let Some(t) = &existing.target {
        s.push_str(&format!(
            "- **Grows**: the existing file ({}), every line of it kept unless the Status says otherwise\n",
            crate::words::plural(t.lines, "line")
        ));
    }
    s.push_str("\n## Sources used\n\n");
    if sources.is_empty() {
        s.push_str("None: no source was found for this PART.\n");
    }
    for src in sources {
        s.push_str(&format!("- [{}] {} — {}\n", src.n, src.title, src.url));
    }
    s.push_str("\n## Gap filled\n\n");
    let topic = part
        .expansion
        .as_ref()
        .map(|e| e.title.clone())
        .unwrap_or_else(|| "the knowledge base".to_string());
    let verb = if existing.target.is_some() {
        "Grows"
    } else {
        "Adds"
    };
    s.push_str(&format!(
        "{verb} `{}` in {topic}, covering: {}.\n",
        part.target,
        if written.is_empty() {
            "nothing yet (no section has content)".to_string()
        } else {
            written.join("; ")
        }
    ));
    let gaps = gap_analysis(existing);
    if !gaps.is_empty() {
        s.push_str(&format!(
            "What the base already held: {}.\n",
            gaps.join("; ")
        ));
    }
    if !existing.gaps.is_empty() {
        s.push_str(&format!(
            "Gap named by the plan: {}\n",
            existing.gaps.join("; ")
        ));
    }
    let files: Vec<&str> = existing.related().map(|f| f.path.as_str()).collect();
    if !files.is_empty() {
        s.push_str(&format!("Builds on: {}\n", files.join(", ")));
    }
    if !notes.is_empty() {
        s.push_str("\n## Notes given while it ran\n\n");
        for n in notes {
            s.push_str(&format!("- {n}\n"));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::research::Page;

    #[test]
    fn citations_are_found_but_not_links() {
        let t = "a [1] b [12][3] c [4](http://x) d [5]: e [x] [123456] out[0] `y[7]` [1]\n```\nz = a [8]\n```\n";
        assert_eq!(citations(t), [1, 12, 3, 1]);
        assert_eq!(cited(t).into_iter().collect::<Vec<_>>(), [1, 3, 12]);
    }

    #[test]
    fn titles_are_spelled_as_the_plan_spells_them() {
        let plan = crate::plan::Plan::parse(include_str!("../../plans/expansion-18-21.md"));
        let titles: Vec<String> = plan.parts.iter().map(|p| title_for(p, &[])).collect();
        assert_eq!(titles[3], "FSDP vs DeepSpeed");
        assert_eq!(titles[2], "Megatron-LM Tensor Parallelism");
        assert_eq!(titles[0], "DeepSpeed ZeRO Optimizer");
    }

    #[test]
    fn a_plans_own_title_wins_and_else_the_sources_spelling() {
        let plan = crate::plan::Plan::parse(
            "### PART 1: ZeRO stages, measured — Create d/zero-stages.md (~90 lines)\n- [ ] PART 1: Create d/zero-stages.md\n\n### PART 2: Create d/zero-stages-tuning.md\n- [ ] PART 2: Create d/zero-stages-tuning.md\n",
        );
        assert_eq!(plan.parts[0].own_title(), Some("ZeRO stages, measured"));
        assert_eq!(title_for(&plan.parts[0], &[]), "ZeRO stages, measured");
        assert_eq!(plan.parts[1].own_title(), None);
        let sources = [
            "ZeRO has stages. ZeRO stage 3 shards parameters; zero waste.",
            "Tuning ZeRO",
        ];
        assert_eq!(title_for(&plan.parts[1], &sources), "ZeRO Stages Tuning");
        assert_eq!(title_for(&plan.parts[1], &[]), "Zero Stages Tuning");
    }

    #[test]
    fn a_spliced_section_leaves_the_others_byte_identical() {
        let text =
            "# T\n\n## Section 1: A\n\none\n\n## Section 2: B\n\ntwo\n\n## Sources\n\n[1] x — y\n";
        let out = splice_section(text, 2, "B", "new two [1]").unwrap();
        assert_eq!(
            out,
            "# T\n\n## Section 1: A\n\none\n\n## Section 2: B\n\nnew two [1]\n\n## Sources\n\n[1] x — y\n"
        );
        let last = splice_section("# T\n\n## Section 1: A\n\nold\n", 1, "A", "new").unwrap();
        assert_eq!(last, "# T\n\n## Section 1: A\n\nnew\n");
        assert!(splice_section(text, 3, "C", "x").is_none());
    }

    #[test]
    fn sources_list_is_rendered_from_gathered_sources_only() {
        let src = |n: usize| Source {
            n,
            page: Page {
                url: format!("https://e.com/{n}"),
                title: format!("T{n}"),
                content: String::new(),
            },
        };
        let body = "# X\n\nfact [2] and [9]\n\n## Sources\n\n[9] https://made-up.example\n";
        let out = with_sources(body, &[src(1), src(2)]);
        assert!(
            out.ends_with("## Sources\n\n[2] T2 — https://e.com/2\n"),
            "{out}"
        );
        assert!(!out.contains("made-up"));
    }
}
