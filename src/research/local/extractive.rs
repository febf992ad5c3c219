//! The extractive writer: each planned section composed from the passages retrieved for it, in
//! their sources' order, up to the section's line budget, each cited.

use async_trait::async_trait;

use crate::research::passages::PassageKind;
use crate::research::sections::SourcePassage;
use crate::research::{LogSink, ResearchError, SectionRequest, Writer, Written};

/// Composes sections offline, deterministically, from the gathered sources' own words.
pub struct ExtractiveWriter;

/// Share of a passage's wording the file already holds at which it is left out.
const ALREADY_STATED: f64 = 0.5;

/// Column at which extracted paragraphs are wrapped.
pub const WRAP: usize = 100;

#[async_trait]
impl Writer for ExtractiveWriter {
    fn name(&self) -> &str {
        "extractive"
    }

    async fn write_section(
        &self,
        request: &SectionRequest,
        _log: &LogSink,
        delta: &LogSink,
    ) -> Result<Written, ResearchError> {
        let body = compose_section(request);
        delta(&body);
        Ok(Written { body, usage: None })
    }
}

/// One section's text: the best passages up to the budget, shown in their sources' order (a
/// step-by-step guide stays in order), never opening on code or a table; the Missing note when
/// no passage fits.
pub fn compose_section(request: &SectionRequest) -> String {
    let budget = request.budget();
    let mut chosen: Vec<(&SourcePassage, String)> = Vec::new();
    let mut lines = 0usize;
    // What the file already says under this heading is not said again.
    let known = request
        .already
        .as_deref()
        .map(crate::terms::shingles)
        .unwrap_or_default();
    for p in request
        .passages
        .iter()
        .filter(|p| crate::terms::repeated_share(&p.passage.text, &known) < ALREADY_STATED)
    {
        let block = render(p);
        let n = block.lines().count() + 1;
        // The first passage always goes in; later ones only while they fit (10% slack).
        if !chosen.is_empty() && lines + n > budget + budget / 10 {
            continue;
        }
        lines += n;
        chosen.push((p, block));
        if lines >= budget {
            break;
        }
    }
    if chosen.is_empty() {
        // Everything found is what the file already says: nothing to add, nothing missing.
        if !request.passages.is_empty() && request.already.is_some() {
            return String::new();
        }
        return crate::research::placeholder::missing_note(request.section(), &request.searched);
    }
    chosen.sort_by_key(|(p, _)| (p.source, p.at));
    // A section opens with prose: the first paragraph moves ahead of leading code or tables.
    if let Some(first_text) = chosen
        .iter()
        .position(|(p, _)| p.passage.kind == PassageKind::Paragraph)
        && first_text > 0
    {
        let para = chosen.remove(first_text);
        chosen.insert(0, para);
    }
    // The source's own sub-headings carry what a list or table is about ("When to use FSDP").
    let section_title = request.section().title.to_lowercase();
    let page_title = |n: usize| {
        request
            .sources
            .iter()
            .find(|s| s.n == n)
            .map(|s| s.page.title.to_lowercase())
    };
    let mut blocks: Vec<String> = Vec::new();
    let mut last: Option<(usize, &str)> = None;
    for (p, block) in &chosen {
        let heading = p.passage.heading.trim();
        let h = heading.to_lowercase();
        let fresh = last != Some((p.source, heading));
        if fresh
            && !heading.is_empty()
            && h != section_title
            && Some(h.clone()) != page_title(p.source)
        {
            blocks.push(format!("### {heading}"));
        }
        last = Some((p.source, heading));
        blocks.push(block.clone());
    }
    blocks.join("\n\n") + "\n"
}

/// A passage as markdown with its citation.
fn render(c: &SourcePassage) -> String {
    let cite = format!("[{}]", c.source);
    let wrap = |text: &str| {
        let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
        textwrap::wrap(&flat, textwrap::Options::new(WRAP).break_words(false)).join("\n")
    };
    let p = &c.passage;
    // A merged lead-in paragraph (see `passages`) comes first, wrapped.
    let (lead, block) = match p.kind {
        PassageKind::Paragraph => (None, p.text.as_str()),
        _ => match p.text.split_once("\n\n") {
            Some((lead, rest)) if !lead.trim_start().starts_with("```") => (Some(lead), rest),
            _ => (None, p.text.as_str()),
        },
    };
    match (p.kind, lead) {
        (PassageKind::Paragraph, _) => wrap(&format!("{block} {cite}")),
        (PassageKind::List, Some(lead)) => format!("{}\n\n{} {cite}", wrap(lead), block.trim_end()),
        (PassageKind::List, None) => format!("{} {cite}", block.trim_end()),
        (_, Some(lead)) => format!(
            "{}\n\n{}",
            wrap(&format!("{lead} {cite}")),
            block.trim_end()
        ),
        (_, None) => format!("From {cite}:\n\n{}", block.trim_end()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knowledge::Existing;
    use crate::plan::Plan;
    use crate::research::passages::Passage;

    fn passage(source: usize, at: usize, kind: PassageKind, text: &str) -> SourcePassage {
        SourcePassage {
            source,
            at,
            passage: Passage {
                heading: String::new(),
                text: text.into(),
                kind,
            },
        }
    }

    fn request(passages: Vec<SourcePassage>) -> SectionRequest {
        let plan = Plan::parse(
            "### PART 1: Create t/00-zero-stages.md (~40 lines)\n- [ ] PART 1: Create t/00-zero-stages.md\n\
- [ ] Search: \"ZeRO stages\"\n- [ ] Section 1: ZeRO stages - what each stage partitions (~20 lines)\n",
        );
        SectionRequest {
            plan_title: None,
            part: plan.parts[0].clone(),
            title: "ZeRO Stages".into(),
            index: 0,
            passages,
            sources: Vec::new(),
            existing: Existing::default(),
            already: None,
            feedback: None,
            previous: None,
            searched: vec!["ZeRO stages".into()],
            max_tokens: None,
        }
    }

    #[test]
    fn passages_keep_source_order_cite_and_open_with_prose() {
        let r = request(vec![
            passage(
                2,
                0,
                PassageKind::Paragraph,
                "Stage three partitions parameters too.",
            ),
            passage(
                1,
                5,
                PassageKind::Paragraph,
                "Stage two partitions gradients as well.",
            ),
            passage(
                1,
                2,
                PassageKind::Code,
                "```python\nengine = deepspeed.initialize()\n```",
            ),
            passage(
                1,
                1,
                PassageKind::Paragraph,
                "Stage one partitions optimizer states.",
            ),
        ]);
        let body = compose_section(&r);
        let one = body.find("Stage one").unwrap();
        let two = body.find("Stage two").unwrap();
        let three = body.find("Stage three").unwrap();
        assert!(one < two && two < three, "source order: {body}");
        assert!(body.starts_with("Stage one"), "prose first: {body}");
        assert!(body.contains("optimizer states. [1]") && body.contains("too. [2]"));
        assert_eq!(body, compose_section(&r), "deterministic");
    }

    #[test]
    fn a_sources_sub_headings_say_what_a_passage_is_about() {
        let mut a = passage(1, 1, PassageKind::List, "- one item of the list\n- two");
        a.passage.heading = "When to use FSDP".into();
        let mut b = passage(1, 2, PassageKind::List, "- another item here\n- three");
        b.passage.heading = "When to use DeepSpeed".into();
        let body = compose_section(&request(vec![a, b]));
        let fsdp = body.find("### When to use FSDP").unwrap();
        let ds = body.find("### When to use DeepSpeed").unwrap();
        assert!(fsdp < body.find("one item").unwrap() && ds < body.find("another").unwrap());
    }

    #[test]
    fn no_passage_gives_the_missing_note_with_what_was_searched() {
        let body = compose_section(&request(Vec::new()));
        assert!(
            crate::research::placeholder::is_placeholder(&body),
            "{body}"
        );
        assert!(body.contains("Searched: \"ZeRO stages\""), "{body}");
    }

    #[test]
    fn the_budget_bounds_the_section() {
        let many: Vec<SourcePassage> = (0..40)
            .map(|i| {
                passage(
                    1,
                    i,
                    PassageKind::Paragraph,
                    &format!("Paragraph {i} says something long enough to count as content here."),
                )
            })
            .collect();
        let body = compose_section(&request(many));
        assert!(body.lines().count() <= 22 + 2, "{}", body.lines().count());
    }
}
