//! The shapes the parser recognises, with an example of each: the one list `expanse help plan`
//! prints and the tests hold the parser to, so the documentation cannot drift from the code.

use super::model::Severity;

/// Everything the parser can make of a heading, a paragraph line or a list item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ItemKind {
    /// `# Title`: the plan's title (its first level-1 heading).
    Title,
    /// `**Date**: …`: the plan's date, kept as written.
    Date,
    /// `**Sources**: prefer …; deny …; only …`: which sites the runners may fetch.
    Sources,
    /// `## EXPANSION N: Title`: a group of PARTs.
    Expansion,
    /// `### PART N: Create dir/file.md (~500 lines)`: a PART and its target.
    PartHeading,
    /// `- [ ] PART N: Create dir/file.md`: the PART's completion record, ticked on approval.
    PartCheckbox,
    /// `Read INDEX.md for …`: a file or glob of the base to read before researching.
    Read,
    /// `Grep for "A" AND "B" in dir/`: terms to look for in the base.
    Grep,
    /// `Check existing …`: a free-form look at the base.
    Look,
    /// `Identify gaps: …`: a note for the writer.
    Gaps,
    /// `Search: "…"`: a web search query.
    Search,
    /// `Scrape top N results`: the best N hits of the searches.
    ScrapeTop,
    /// `Scrape <named target>`: a search for the phrase, then its best hit.
    ScrapeNamed,
    /// `Section K: Title - hint (~L lines)`: a planned section of the file.
    Section,
    /// Any item mentioning `cite`: a citation requirement.
    Cite,
    /// `Create dir/file.md` naming the PART's own target: a step marker, nothing to do.
    CreateTarget,
    /// `Create KNOWLEDGE-DROP-<slug>-<date>-[TIME].md`: the drop to write.
    Drop,
    /// The other items of the drop's list: what the drop must say.
    DropContent,
    /// Anything else: kept as text and shown to the writer.
    Other,
}

impl ItemKind {
    /// Every kind, in the order `expanse help plan` lists them.
    pub const ALL: &'static [ItemKind] = &[
        ItemKind::Title,
        ItemKind::Date,
        ItemKind::Sources,
        ItemKind::Expansion,
        ItemKind::PartHeading,
        ItemKind::PartCheckbox,
        ItemKind::Read,
        ItemKind::Grep,
        ItemKind::Look,
        ItemKind::Gaps,
        ItemKind::Search,
        ItemKind::ScrapeTop,
        ItemKind::ScrapeNamed,
        ItemKind::Section,
        ItemKind::Cite,
        ItemKind::CreateTarget,
        ItemKind::Drop,
        ItemKind::DropContent,
        ItemKind::Other,
    ];

    /// Whether the kind is a list item inside a PART (the rest are headings and plan-level lines).
    pub fn is_part_item(self) -> bool {
        !matches!(
            self,
            ItemKind::Title
                | ItemKind::Date
                | ItemKind::Sources
                | ItemKind::Expansion
                | ItemKind::PartHeading
                | ItemKind::PartCheckbox
        )
    }
}

/// One recognised shape: what it looks like and what expanse does with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    /// The kind the parser makes of it.
    pub kind: ItemKind,
    /// A line of a plan in this shape, exactly as it may be written.
    pub example: &'static str,
    /// What expanse does with it.
    pub means: &'static str,
}

/// Every shape the parser recognises, one per [`ItemKind`], in [`ItemKind::ALL`]'s order.
pub const SHAPES: &[Shape] = &[
    Shape {
        kind: ItemKind::Title,
        example: "# Knowledge Expansion: GPU Serving",
        means: "the plan's title (its first level-1 heading)",
    },
    Shape {
        kind: ItemKind::Date,
        example: "**Date**: 2025-11-13",
        means: "the plan's date, kept as written",
    },
    Shape {
        kind: ItemKind::Sources,
        example: "**Sources**: prefer arxiv.org, github.com; deny pinterest.*, *.medium.com",
        means: "which sites runners fetch: deny (never), prefer (first), only (nothing else); site globs, added to expanse.toml's [sources]",
    },
    Shape {
        kind: ItemKind::Expansion,
        example: "## EXPANSION 18: Multi-GPU Distributed Frameworks",
        means: "groups the PARTs below it (optional)",
    },
    Shape {
        kind: ItemKind::PartHeading,
        example: "### PART 1: Create karpathy/distributed-training/00-deepspeed-zero.md (~500 lines)",
        means: "starts a PART: its number (unique), its target file inside knowledge/ (ends in .md) and \
                its size; a heading of the same level or above ends the PART",
    },
    Shape {
        kind: ItemKind::PartCheckbox,
        example: "- [ ] PART 1: Create karpathy/distributed-training/00-deepspeed-zero.md",
        means: "the PART's completion record, right under its heading; approval ticks it as \
                `- [✓] … (Completed YYYY-MM-DD HH:MM)` and changes no other byte",
    },
    Shape {
        kind: ItemKind::Read,
        example: "- [ ] Read INDEX.md for distributed training mentions",
        means: "Step 0: read a file or glob of the base (relative to knowledge/) before researching",
    },
    Shape {
        kind: ItemKind::Grep,
        example: "- [ ] Grep for \"DeepSpeed\" AND \"ZeRO\" in karpathy/ folder",
        means: "Step 0: find files of the base holding every term (AND) or any term (OR)",
    },
    Shape {
        kind: ItemKind::Look,
        example: "- [ ] Check existing NVIDIA-related files",
        means: "Step 0: a free-form look at the base, passed to the writer as a note",
    },
    Shape {
        kind: ItemKind::Gaps,
        example: "- [ ] Identify gaps: What's NOT covered about DeepSpeed ZeRO?",
        means: "Step 0: a note for the writer on what the new file should add",
    },
    Shape {
        kind: ItemKind::Search,
        example: "- [ ] Search: \"site:github.com DeepSpeed ZeRO example\"",
        means: "a search query, sent as written (quotes removed; site: and inner quotes kept)",
    },
    Shape {
        kind: ItemKind::ScrapeTop,
        example: "- [ ] Scrape top 3 results",
        means: "fetch the best N hits of the PART's searches (at most 50; default 3)",
    },
    Shape {
        kind: ItemKind::ScrapeNamed,
        example: "- [ ] Scrape DeepSpeed GitHub docs",
        means: "search for the phrase and fetch its best hit",
    },
    Shape {
        kind: ItemKind::Section,
        example: "- [ ] Section 1: ZeRO Overview - what it is, why use it (~100 lines)",
        means: "a section of the file, in order: its title, a hint after \" - \" and its line budget",
    },
    Shape {
        kind: ItemKind::Cite,
        example: "- [ ] Cite all web sources",
        means: "a citation requirement (any item mentioning \"cite\"); drafts cite [n] and list Sources",
    },
    Shape {
        kind: ItemKind::CreateTarget,
        example: "- [ ] Create karpathy/distributed-training/00-deepspeed-zero.md",
        means: "names the PART's own target as a step; nothing more to do",
    },
    Shape {
        kind: ItemKind::Drop,
        example: "- [ ] Create KNOWLEDGE-DROP-deepspeed-zero-2025-11-13-[TIME].md",
        means: "the KNOWLEDGE DROP written to knowledge/drops/ on approval; [TIME] becomes HHMM",
    },
    Shape {
        kind: ItemKind::DropContent,
        example: "- [ ] List sources used (arXiv, GitHub, tutorials)",
        means: "any other item of the drop's list: what the drop must say",
    },
    Shape {
        kind: ItemKind::Other,
        example: "- [ ] Ask a colleague about our cluster",
        means: "any other item inside a PART: kept as text and given to the writer",
    },
];

/// The checkbox glyphs that mean done. A space means open; anything else is warned about.
pub const DONE_MARKS: &[char] = &['✓', '✔', '☑', 'x', 'X'];

/// Whether `mark` (the character between a checkbox's brackets) means done.
pub fn is_done_mark(mark: char) -> bool {
    DONE_MARKS.contains(&mark)
}

/// A rule `expanse check` enforces: an error stops a run, a warning does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// Error or warning.
    pub severity: Severity,
    /// What is checked, in words.
    pub text: &'static str,
}

/// Every diagnostic the parser and validator can give (kept beside them: `validate.rs` and
/// `parse.rs` emit exactly these).
pub const RULES: &[Rule] = &[
    Rule {
        severity: Severity::Error,
        text: "no PARTs at all",
    },
    Rule {
        severity: Severity::Error,
        text: "two PARTs with the same number",
    },
    Rule {
        severity: Severity::Error,
        text: "a PART heading with no checkbox line, or a checkbox line naming another target",
    },
    Rule {
        severity: Severity::Error,
        text: "a target that is empty, absolute, contains \"..\" or control characters, or does not end in .md",
    },
    Rule {
        severity: Severity::Error,
        text: "a target that is INDEX.md or inside drops/ (expanse maintains those; any letter case)",
    },
    Rule {
        severity: Severity::Error,
        text: "a file that is not UTF-8 text, or holds binary data",
    },
    Rule {
        severity: Severity::Warning,
        text: "a PART checkbox line with no PART heading of the same number (it starts a PART of its own)",
    },
    Rule {
        severity: Severity::Warning,
        text: "a PART checkbox with a glyph that is neither a space nor a done glyph (the PART counts as open)",
    },
    Rule {
        severity: Severity::Warning,
        text: "a section with no (~L lines) budget",
    },
    Rule {
        severity: Severity::Warning,
        text: "Scrape top N with N over 50 (50 are taken)",
    },
];

/// The plan format as `expanse help plan` prints it: every shape with its example, the errors
/// and warnings, the accepted glyphs, and a minimal plan.
pub fn format_guide() -> String {
    let mut out = String::new();
    out.push_str(
        "THE PLAN FORMAT\n\n\
         A plan is a markdown file of PARTs; each PART names one knowledge file to research and\n\
         write. expanse recognises the shapes below by their wording, not their position: step\n\
         headings (**Step 1: …**), numbering and counts are free. A leading checkbox (`- [ ] `) on\n\
         a list item is optional. Anything else is kept as text.\n",
    );
    let block = |out: &mut String, heading: &str, part_items: bool| {
        out.push_str(&format!("\n{heading}\n"));
        for s in SHAPES
            .iter()
            .filter(|s| s.kind.is_part_item() == part_items)
        {
            // Examples stay whole (they are meant to be copied); explanations wrap.
            let indent = textwrap::Options::new(94)
                .initial_indent("      ")
                .subsequent_indent("      ")
                .word_splitter(textwrap::WordSplitter::NoHyphenation);
            out.push_str(&format!(
                "  {}\n{}\n",
                s.example,
                textwrap::fill(s.means, indent)
            ));
        }
    };
    block(&mut out, "PLAN STRUCTURE", false);
    block(
        &mut out,
        "ITEMS OF A PART (list items below its heading)",
        true,
    );
    out.push_str(&format!(
        "\nCHECKBOX GLYPHS\n  done: {}    open: a space, `[ ]`\n  \
         Any other glyph (`[~]`, `[-]`) is a warning and the PART counts as open; ticking it writes\n  \
         the glyph the plan's done PARTs use (else ✓).\n",
        DONE_MARKS
            .iter()
            .map(|c| format!("[{c}]"))
            .collect::<Vec<_>>()
            .join(" ")
    ));
    for (severity, heading) in [
        (
            Severity::Error,
            "ERRORS (`expanse check` exits 1 and prints PLAN:LINE: error: …; run refuses the plan)",
        ),
        (
            Severity::Warning,
            "WARNINGS (printed as PLAN:LINE: warning: …; the plan still runs)",
        ),
    ] {
        out.push_str(&format!("\n{heading}\n"));
        for r in RULES.iter().filter(|r| r.severity == severity) {
            out.push_str(&format!("  - {}\n", r.text));
        }
    }
    out.push_str(
        "\nA MINIMAL PLAN\n\
         \x20 # Knowledge Expansion: GPU Serving\n\
         \x20 ### PART 1: Create serving/triton-batching.md (~120 lines)\n\
         \x20 - [ ] PART 1: Create serving/triton-batching.md\n\
         \x20 - [ ] Search: \"Triton dynamic batching\"\n\
         \x20 - [ ] Scrape top 3 results\n\
         \x20 - [ ] Section 1: Dynamic batching - how requests are grouped (~60 lines)\n\
         \x20 - [ ] Section 2: Tuning - queue delay and batch sizes (~60 lines)\n\
         \x20 - [ ] Cite all sources\n\
         \x20 - [ ] Create KNOWLEDGE-DROP-triton-batching-2025-11-13-[TIME].md\n\n\
         `expanse new PLAN --title … --part dir/file.md:Title` writes a skeleton with every step;\n\
         `expanse check PLAN` shows what expanse reads from it.\n",
    );
    out
}
