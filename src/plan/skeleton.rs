//! A new plan's skeleton (`expanse new`): every step a PART needs, with queries and sections
//! derived from the PART's title for the author to replace.

#[cfg(test)]
use super::model::Plan;
use super::validate::{reserved_target, target_problem};

/// One PART to put in a skeleton.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPart {
    /// The knowledge file, relative to `knowledge/`.
    pub target: String,
    /// What the file is about (used in the queries and section hints).
    pub title: String,
}

/// Why a skeleton could not be written.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum SkeletonError {
    /// No PARTs were given.
    #[error("a plan needs at least one PART: pass --part dir/file.md:Title")]
    NoParts,
    /// A `--part` value is not `dir/file.md:Title`.
    #[error("--part \"{0}\" is not dir/file.md:Title")]
    BadPart(String),
    /// A target cannot be a PART's.
    #[error("--part \"{target}\": the target {problem}")]
    BadTarget {
        /// The target as given.
        target: String,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// Two PARTs would write the same file.
    #[error("two PARTs write {0}; each PART needs its own target")]
    Duplicate(String),
    /// The title is empty or spans lines.
    #[error("the title must be one non-empty line")]
    BadTitle,
}

impl NewPart {
    /// `dir/file.md:Title` (the title defaults to the file's name in words).
    pub fn parse(spec: &str) -> Result<NewPart, SkeletonError> {
        let (target, title) = match spec.split_once(':') {
            Some((t, title)) => (t.trim(), title.trim().to_string()),
            None => (spec.trim(), String::new()),
        };
        if target.is_empty() || title.contains(['\n', '\r']) {
            return Err(SkeletonError::BadPart(spec.to_string()));
        }
        let title = if title.is_empty() {
            words(stem(target))
        } else {
            title
        };
        Ok(NewPart {
            target: target.to_string(),
            title,
        })
    }
}

/// The skeleton of a plan titled `title` with `parts`, dated `date` (`YYYY-MM-DD`), each PART of
/// about `lines` lines. The result passes `expanse check` with no diagnostic.
pub fn skeleton(
    title: &str,
    parts: &[NewPart],
    date: &str,
    lines: u32,
) -> Result<String, SkeletonError> {
    let title = title.trim();
    if title.is_empty() || title.contains(['\n', '\r']) {
        return Err(SkeletonError::BadTitle);
    }
    if parts.is_empty() {
        return Err(SkeletonError::NoParts);
    }
    let mut seen = std::collections::HashSet::new();
    for p in parts {
        if let Some(problem) = target_problem(&p.target)
            .or_else(|| reserved_target(&p.target))
            .or_else(|| {
                p.target
                    .contains(char::is_whitespace)
                    .then_some("contains spaces; use dashes in file names")
            })
        {
            return Err(SkeletonError::BadTarget {
                target: p.target.clone(),
                problem,
            });
        }
        if !seen.insert(p.target.to_ascii_lowercase()) {
            return Err(SkeletonError::Duplicate(p.target.clone()));
        }
    }
    let lines = lines.max(30);
    let section = lines / 3;
    let mut out = format!(
        "# Knowledge Expansion: {title}\n\n\
         **Date**: {date}\n\
         **Status**: Draft — replace the queries and sections below with your own\n\n\
         <!-- Written by `expanse new`. Each PART: check the knowledge base, search the web,\n     \
         write the file in sections with citations, write a KNOWLEDGE DROP. The queries and\n     \
         sections are starting points taken from the PART's title; `expanse help plan` lists\n     \
         every item expanse reads, and `expanse check` shows what it read. -->\n\n\
         ---\n\n\
         ## EXPANSION 1: {title}\n"
    );
    for (i, p) in parts.iter().enumerate() {
        let n = i + 1;
        let t = &p.title;
        // A quote inside a grep term would end the term early.
        let term = t.replace('"', "'");
        let target = &p.target;
        let folder = target
            .rsplit_once('/')
            .map_or(String::new(), |(d, _)| format!(" in {d}/"));
        let slug = slug(stem(target));
        out.push_str(&format!(
            "\n### PART {n}: Create {target} (~{lines} lines)\n\n\
             - [ ] PART {n}: Create {target}\n\n\
             **Step 0: Check Existing Knowledge**\n\
             - [ ] Read INDEX.md for {t} mentions\n\
             - [ ] Grep for \"{term}\"{folder}\n\
             - [ ] Identify gaps: What is not yet covered about {t}?\n\n\
             **Step 1: Web Research**\n\
             - [ ] Search: \"{t} overview\"\n\
             - [ ] Search: \"{t} tutorial\"\n\
             - [ ] Search: \"{t} best practices\"\n\
             - [ ] Scrape top 3 results\n\n\
             **Step 2: Create Knowledge File**\n\
             - [ ] Create {target}\n\
             - [ ] Section 1: Overview - what {t} is and why it matters (~{section} lines)\n\
             - [ ] Section 2: How it works - the main ideas, with examples (~{section} lines)\n\
             - [ ] Section 3: In practice - setup, pitfalls, when to use it (~{section} lines)\n\
             - [ ] Cite all sources\n\n\
             **Step 3: Create KNOWLEDGE DROP**\n\
             - [ ] Create KNOWLEDGE-DROP-{slug}-{date}-[TIME].md\n\
             - [ ] Include: Runner (PART {n}), Timestamp, Status\n\
             - [ ] List knowledge file created with line count\n\
             - [ ] List sources used\n\
             - [ ] Describe what gap this fills\n\n\
             ---\n"
        ));
    }
    Ok(out)
}

/// `dir/00-deepspeed-zero.md` -> `00-deepspeed-zero`.
fn stem(target: &str) -> &str {
    let name = target.rsplit(['/', '\\']).next().unwrap_or(target);
    name.strip_suffix(".md")
        .or_else(|| name.strip_suffix(".MD"))
        .unwrap_or(name)
}

/// `00-deepspeed-zero` -> `deepspeed-zero`: the drop's slug, without a leading sequence number.
fn slug(stem: &str) -> String {
    let s = stem.trim_start_matches(|c: char| c.is_ascii_digit() || c == '-' || c == '_');
    let s = if s.is_empty() { stem } else { s };
    s.chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

/// `00-deepspeed_zero` -> `deepspeed zero`.
fn words(stem: &str) -> String {
    slug(stem).replace('-', " ").trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_parse() {
        assert_eq!(
            NewPart::parse("a/00-ray-core.md:Ray Core: tasks").unwrap(),
            NewPart {
                target: "a/00-ray-core.md".into(),
                title: "Ray Core: tasks".into()
            }
        );
        assert_eq!(
            NewPart::parse("a/00-ray-core.md").unwrap().title,
            "ray core"
        );
        assert!(NewPart::parse(":Title").is_err());
    }

    #[test]
    fn skeleton_checks_clean_and_refuses_bad_targets() {
        let parts = [
            NewPart::parse("gpu/00-triton.md:Triton batching").unwrap(),
            NewPart::parse("top.md:Top level").unwrap(),
        ];
        let text = skeleton("GPU serving", &parts, "2026-01-02", 300).unwrap();
        let plan = Plan::parse(&text);
        assert!(plan.diagnostics.is_empty(), "{:?}", plan.diagnostics);
        assert_eq!(plan.parts.len(), 2);
        let p = &plan.parts[0];
        assert_eq!(p.target, "gpu/00-triton.md");
        assert_eq!(p.expected_lines, Some(300));
        assert_eq!(p.queries.len(), 3);
        assert_eq!(p.sections.len(), 3);
        assert_eq!(p.sections[0].lines, Some(100));
        assert!(p.other.is_empty(), "{:?}", p.other);
        assert_eq!(
            p.drop.as_ref().unwrap().name,
            "KNOWLEDGE-DROP-triton-2026-01-02-[TIME].md"
        );
        for bad in ["INDEX.md", "drops/x.md", "../x.md", "x.txt", "a b.md"] {
            let parts = [NewPart::parse(&format!("{bad}:T")).unwrap()];
            assert!(
                matches!(
                    skeleton("T", &parts, "d", 90),
                    Err(SkeletonError::BadTarget { .. })
                ),
                "{bad}"
            );
        }
        let twice = [
            NewPart::parse("a.md:A").unwrap(),
            NewPart::parse("A.md:B").unwrap(),
        ];
        assert_eq!(
            skeleton("T", &twice, "d", 90),
            Err(SkeletonError::Duplicate("A.md".into()))
        );
        assert_eq!(skeleton("T", &[], "d", 90), Err(SkeletonError::NoParts));
        assert_eq!(skeleton(" ", &parts, "d", 90), Err(SkeletonError::BadTitle));
    }
}
