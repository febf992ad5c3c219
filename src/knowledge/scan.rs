//! The Step 0 scan: run a PART's checks (read, glob, grep AND/OR) against the knowledge base.

use std::path::Path;

use grep_regex::RegexMatcherBuilder;
use grep_searcher::{BinaryDetection, SearcherBuilder, sinks::UTF8};
use serde::{Deserialize, Serialize};

use super::coverage::{SectionCoverage, coverage};
use crate::plan::{Check, GrepOp, Part};

/// What the checks found: files and lines already in the base, and notes for the writer.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Existing {
    /// Files that matched a check, with the lines that made them match.
    pub files: Vec<ExistingFile>,
    /// Checks expanse could not run mechanically, kept for the writer (`Check existing … files`).
    pub notes: Vec<String>,
    /// `Identify gaps:` notes.
    pub gaps: Vec<String>,
    /// The PART's own target as it was on disk, when it exists: the file this PART grows.
    #[serde(default)]
    pub target: Option<TargetFile>,
    /// Each planned section against the target and the files found: what the base holds.
    #[serde(default)]
    pub coverage: Vec<SectionCoverage>,
}

/// The PART's target as the checks found it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct TargetFile {
    /// Its `# ` title, if it has one.
    pub title: Option<String>,
    /// Its lines.
    pub lines: usize,
    /// Its `##` and `###` headings, in order.
    pub headings: Vec<String>,
}

/// One file of the base that a check touched.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ExistingFile {
    /// Path relative to the knowledge base root.
    pub path: String,
    /// Which check found it (`grep "DeepSpeed" AND "ZeRO"`).
    pub why: String,
    /// The lines that matched (at most [`MAX_LINES_PER_FILE`]).
    pub matches: Vec<MatchLine>,
}

/// A matching line.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct MatchLine {
    /// 1-based line number.
    pub line: u64,
    /// The line, cut to [`MAX_LINE_CHARS`].
    pub text: String,
}

/// Matching lines kept per file.
pub const MAX_LINES_PER_FILE: usize = 12;
/// Files kept per check.
pub const MAX_FILES_PER_CHECK: usize = 40;
/// Characters kept of a matching line.
pub const MAX_LINE_CHARS: usize = 240;
/// Files larger than this are not searched.
const MAX_FILE_BYTES: u64 = 8 * 1024 * 1024;

impl Existing {
    /// Whether the checks found anything at all in the base.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty() && self.target.is_none()
    }

    /// The files found besides INDEX.md and the target.
    pub fn related(&self) -> impl Iterator<Item = &ExistingFile> {
        self.files.iter().filter(|f| f.path != "INDEX.md")
    }
}

/// Run `part`'s checks against the base at `root`. A missing base is an empty base.
pub fn scan(root: &Path, part: &Part) -> Existing {
    let mut out = Existing::default();
    for check in &part.checks {
        match check {
            Check::Read {
                path,
                glob: false,
                focus,
            } => {
                let terms = focus.as_deref().map(focus_terms).unwrap_or_default();
                let why = match focus {
                    Some(f) => format!("read {path} for {f}"),
                    None => format!("read {path}"),
                };
                if let Some(file) = read_file(root, path, &terms, why) {
                    out.files.push(file);
                }
            }
            Check::Read {
                path, glob: true, ..
            } => {
                let Ok(glob) = globset::Glob::new(path) else {
                    out.notes.push(format!("could not use the pattern {path}"));
                    continue;
                };
                let matcher = glob.compile_matcher();
                let by_name = !path.contains('/');
                for rel in walk(root, "")
                    .into_iter()
                    .filter(|rel| {
                        let name = rel.rsplit('/').next().unwrap_or(rel);
                        matcher.is_match(if by_name { name } else { rel.as_str() })
                    })
                    .take(MAX_FILES_PER_CHECK)
                {
                    if let Some(f) = read_file(root, &rel, &[], format!("matches {path}")) {
                        out.files.push(f);
                    }
                }
            }
            Check::Grep { terms, op, scope } => {
                out.files
                    .extend(grep(root, terms, *op, scope.as_deref().unwrap_or("")));
            }
            Check::Look { text } => out.notes.push(text.clone()),
            Check::Gaps { note } => out.gaps.push(note.clone()),
        }
    }
    // Files INDEX.md links from the lines that mention the topic are read too.
    let linked: Vec<String> = out
        .files
        .iter()
        .filter(|f| f.path == "INDEX.md")
        .flat_map(|f| f.matches.iter().flat_map(|m| links(&m.text)))
        .collect();
    for rel in linked {
        if out.files.iter().any(|f| f.path == rel) || out.files.len() >= MAX_FILES_PER_CHECK * 4 {
            continue;
        }
        if let Some(f) = read_file(root, &rel, &[], "linked from INDEX.md".into()) {
            out.files.push(f);
        }
    }
    // The PART's own target is not knowledge to build on but the file it grows.
    out.files.retain(|f| f.path != part.target);
    let mut texts: Vec<(String, String)> = Vec::new();
    if let Some(text) = read_text(root, &part.target) {
        out.target = Some(TargetFile {
            title: crate::markdown::title(&text),
            lines: text.lines().count(),
            headings: crate::markdown::headings(&text)
                .into_iter()
                .filter(|h| matches!(h.level, 2 | 3))
                .map(|h| h.title.to_string())
                .collect(),
        });
        texts.push((part.target.clone(), text));
    }
    texts.extend(
        out.related()
            .filter_map(|f| read_text(root, &f.path).map(|t| (f.path.clone(), t))),
    );
    out.coverage = coverage(&part.sections, &texts, |k| part.budget_of(k));
    out
}

/// Markdown link targets in a line that are files of the base (`[ZeRO](dist/zero.md)`).
fn links(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(i) = rest.find("](") {
        let after = &rest[i + 2..];
        let Some(end) = after.find(')') else { break };
        let target = after[..end].trim();
        let target = target.split('#').next().unwrap_or(target);
        if target.ends_with(".md") && !target.contains("://") && !escapes(target) {
            out.push(target.trim_start_matches("./").to_string());
        }
        rest = &after[end..];
    }
    out
}

/// The whole text of a file of the base, if it is one (inside, not too large, UTF-8).
pub fn read_text(root: &Path, rel: &str) -> Option<String> {
    if escapes(rel) {
        return None;
    }
    let path = root.join(rel);
    if !inside(root, &path) {
        return None;
    }
    let meta = std::fs::metadata(&path).ok()?;
    if !meta.is_file() || meta.len() > MAX_FILE_BYTES {
        return None;
    }
    std::fs::read_to_string(&path).ok()
}

/// `distributed training mentions` -> [distributed, training].
fn focus_terms(focus: &str) -> Vec<String> {
    const FILLER: &[&str] = &[
        "mentions", "mention", "any", "the", "and", "for", "about", "of",
    ];
    focus
        .split(|c: char| c.is_whitespace() || c == '/' || c == ',')
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric() && c != '-' && c != '.'))
        .filter(|w| w.len() > 1 && !FILLER.contains(&w.to_ascii_lowercase().as_str()))
        .map(str::to_string)
        .collect()
}

fn cut(line: &str) -> String {
    let line = line.trim_end();
    match line.char_indices().nth(MAX_LINE_CHARS) {
        Some((i, _)) => format!("{}…", &line[..i]),
        None => line.to_string(),
    }
}

/// Whether a plan-given path would leave the base (`..` or absolute).
fn escapes(rel: &str) -> bool {
    rel.starts_with('/') || rel.starts_with('\\') || rel.split(['/', '\\']).any(|c| c == "..")
}

/// Whether `path` really lies inside `root`, symlinks followed: what the checks find may go to a
/// remote model, so nothing outside the base may be read through a link.
fn inside(root: &Path, path: &Path) -> bool {
    match (root.canonicalize(), path.canonicalize()) {
        (Ok(root), Ok(path)) => path.starts_with(root),
        _ => false,
    }
}

/// Read one file of the base; with terms, keep the lines mentioning any of them.
fn read_file(root: &Path, rel: &str, terms: &[String], why: String) -> Option<ExistingFile> {
    let text = read_text(root, rel)?;
    let lower_terms: Vec<String> = terms.iter().map(|t| t.to_lowercase()).collect();
    let matches: Vec<MatchLine> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .filter(|(_, l)| {
            let lower = l.to_lowercase();
            lower_terms.is_empty() || lower_terms.iter().any(|t| lower.contains(t))
        })
        .filter(|(_, l)| {
            // An empty index's boilerplate is not knowledge.
            !lower_terms.is_empty() || l.starts_with('#') || l.starts_with('-')
        })
        .take(MAX_LINES_PER_FILE)
        .map(|(i, l)| MatchLine {
            line: i as u64 + 1,
            text: cut(l),
        })
        .collect();
    if matches.is_empty() && !terms.is_empty() {
        return None;
    }
    Some(ExistingFile {
        path: rel.to_string(),
        why,
        matches,
    })
}

/// Relative paths of the text files under `root/scope`, sorted for determinism.
fn walk(root: &Path, scope: &str) -> Vec<String> {
    // A plan's scope never leads outside the base.
    if escapes(scope) {
        return Vec::new();
    }
    let base = root.join(scope.trim_start_matches('/'));
    if !base.is_dir() || !inside(root, &base) {
        return Vec::new();
    }
    crate::fsutil::documents(&base, &["md", "markdown", "txt"])
        .iter()
        .filter_map(|e| crate::fsutil::relative(e.path(), root))
        .collect()
}

/// Files under `scope` whose content matches the terms (all of them for AND, any for OR).
fn grep(root: &Path, terms: &[String], op: GrepOp, scope: &str) -> Vec<ExistingFile> {
    let matchers: Vec<_> = terms
        .iter()
        .filter_map(|t| {
            RegexMatcherBuilder::new()
                .case_insensitive(true)
                .fixed_strings(true)
                .build(t)
                .ok()
        })
        .collect();
    if matchers.is_empty() {
        return Vec::new();
    }
    let mut searcher = SearcherBuilder::new()
        .binary_detection(BinaryDetection::quit(0))
        .line_number(true)
        .build();
    let joiner = match op {
        GrepOp::And => " AND ",
        GrepOp::Or => " OR ",
    };
    let why = format!(
        "grep {}",
        terms
            .iter()
            .map(|t| format!("\"{t}\""))
            .collect::<Vec<_>>()
            .join(joiner)
    );
    let mut found = Vec::new();
    for rel in walk(root, scope) {
        let path = root.join(&rel);
        if std::fs::metadata(&path).map_or(true, |m| m.len() > MAX_FILE_BYTES) {
            continue;
        }
        let mut per_term: Vec<Vec<MatchLine>> = Vec::new();
        for m in &matchers {
            let mut lines = Vec::new();
            let _ = searcher.search_path(
                m,
                &path,
                UTF8(|n, line| {
                    lines.push(MatchLine {
                        line: n,
                        text: cut(line),
                    });
                    Ok(lines.len() < MAX_LINES_PER_FILE)
                }),
            );
            per_term.push(lines);
        }
        let hit = match op {
            GrepOp::And => per_term.iter().all(|l| !l.is_empty()),
            GrepOp::Or => per_term.iter().any(|l| !l.is_empty()),
        };
        if hit {
            let mut matches: Vec<MatchLine> = per_term.into_iter().flatten().collect();
            matches.sort_by_key(|m| m.line);
            matches.dedup_by_key(|m| m.line);
            matches.truncate(MAX_LINES_PER_FILE);
            found.push(ExistingFile {
                path: rel,
                why: why.clone(),
                matches,
            });
            if found.len() >= MAX_FILES_PER_CHECK {
                break;
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Plan;

    fn base() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let kb = dir.path();
        std::fs::create_dir_all(kb.join("karpathy/dist")).unwrap();
        std::fs::write(
            kb.join("INDEX.md"),
            "# Index\n\n- karpathy/dist/a.md: DeepSpeed basics\n- other: TPU notes\n",
        )
        .unwrap();
        std::fs::write(
            kb.join("karpathy/dist/a.md"),
            "# A\nDeepSpeed is a library.\nZeRO partitions state.\n",
        )
        .unwrap();
        std::fs::write(kb.join("karpathy/dist/b.md"), "# B\nOnly DeepSpeed here.\n").unwrap();
        std::fs::write(kb.join("karpathy/distributed-x.md"), "# X\n").unwrap();
        std::fs::write(kb.join("karpathy/blob.md"), b"ZeRO\x00\x01\x02").unwrap();
        dir
    }

    fn part(items: &str) -> Part {
        let text = format!("### PART 1: Create a.md\n- [ ] PART 1: Create a.md\n\n{items}");
        Plan::parse(&text).parts.remove(0)
    }

    #[test]
    fn grep_and_requires_every_term() {
        let kb = base();
        let found = scan(
            kb.path(),
            &part("- [ ] Grep for \"DeepSpeed\" AND \"ZeRO\" in karpathy/ folder\n"),
        );
        let paths: Vec<&str> = found.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["karpathy/dist/a.md"]);
        assert_eq!(
            found.files[0]
                .matches
                .iter()
                .map(|m| m.line)
                .collect::<Vec<_>>(),
            [2, 3]
        );
    }

    #[test]
    fn grep_or_takes_any_term_and_skips_binary() {
        let kb = base();
        let found = scan(
            kb.path(),
            &part("- [ ] Grep for \"DeepSpeed\" OR \"ZeRO\" in karpathy/\n"),
        );
        let paths: Vec<&str> = found.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["karpathy/dist/a.md", "karpathy/dist/b.md"]);
    }

    #[test]
    fn read_index_with_focus_glob_notes_and_gaps() {
        let kb = base();
        let found = scan(
            kb.path(),
            &part(
                "- [ ] Read INDEX.md for DeepSpeed mentions\n- [ ] Read any existing distributed-*.md files\n- [ ] Check existing NVIDIA files\n- [ ] Identify gaps: what is missing\n",
            ),
        );
        assert_eq!(found.files[0].path, "INDEX.md");
        assert_eq!(found.files[0].matches.len(), 1);
        assert!(found.files[0].matches[0].text.contains("DeepSpeed basics"));
        assert_eq!(found.files[1].path, "karpathy/distributed-x.md");
        assert_eq!(found.notes, ["Check existing NVIDIA files"]);
        assert_eq!(found.gaps, ["what is missing"]);
    }

    #[test]
    fn plan_paths_never_leave_the_base() {
        let kb = base();
        let secret = kb.path().parent().unwrap().join("outside-secret.md");
        std::fs::write(&secret, "DeepSpeed secret\n").unwrap();
        let found = scan(
            kb.path(),
            &part(
                "- [ ] Read ../outside-secret.md for DeepSpeed\n- [ ] Grep for \"DeepSpeed\" in ../\n- [ ] Read /etc/hostname\n",
            ),
        );
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("notes.md"), "DeepSpeed outside\n").unwrap();
        std::os::unix::fs::symlink(outside.path(), kb.path().join("link")).unwrap();
        let through_link = scan(
            kb.path(),
            &part("- [ ] Read link/notes.md for DeepSpeed\n- [ ] Grep for \"outside\" in link/\n"),
        );
        let _ = std::fs::remove_file(&secret);
        assert!(found.files.is_empty(), "{found:?}");
        assert!(through_link.files.is_empty(), "{through_link:?}");
    }

    #[test]
    fn the_target_index_links_and_coverage_are_read() {
        let kb = base();
        std::fs::write(
            kb.path().join("INDEX.md"),
            "# Index\n\n- [ZeRO notes](karpathy/dist/a.md) — DeepSpeed basics\n- [Escape](../x.md) — DeepSpeed\n",
        )
        .unwrap();
        std::fs::write(
            kb.path().join("karpathy/target.md"),
            "# Mine\n\n## Stages compared\n\nNotes.\n\n## Pitfalls\n\nMore.\n",
        )
        .unwrap();
        let text = "### PART 1: Create karpathy/target.md\n- [ ] PART 1: Create karpathy/target.md\n\n- [ ] Read INDEX.md for DeepSpeed mentions\n- [ ] Section 1: Stages compared (~10 lines)\n- [ ] Section 2: Installation (~10 lines)\n";
        let part = Plan::parse(text).parts.remove(0);
        let found = scan(kb.path(), &part);
        let paths: Vec<(&str, &str)> = found
            .files
            .iter()
            .map(|f| (f.path.as_str(), f.why.as_str()))
            .collect();
        assert_eq!(
            paths,
            [
                ("INDEX.md", "read INDEX.md for DeepSpeed mentions"),
                ("karpathy/dist/a.md", "linked from INDEX.md")
            ],
            "a link out of the base is not followed"
        );
        let target = found.target.as_ref().unwrap();
        assert_eq!(target.title.as_deref(), Some("Mine"));
        assert_eq!(target.headings, ["Stages compared", "Pitfalls"]);
        assert_eq!(
            found.coverage[0].status,
            crate::knowledge::Coverage::Extends
        );
        assert_eq!(found.coverage[0].found[0].path, "karpathy/target.md");
        assert_eq!(found.coverage[1].status, crate::knowledge::Coverage::New);
    }

    #[test]
    fn missing_base_is_empty() {
        let found = scan(
            Path::new("/nonexistent/kb"),
            &part("- [ ] Grep for \"x\" in y/\n- [ ] Read INDEX.md\n"),
        );
        assert!(found.is_empty());
    }
}
