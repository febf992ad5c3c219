//! Retrieval per section: the PART's gathered passages ranked for each planned section by its
//! title and hint, each passage given to the one section it fits best, kept in its source's
//! order. Pure functions; both writers start from what this assigns.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::plan::Section;
use crate::research::Source;
use crate::research::passages::{Passage, PassageKind, passages};

/// A passage of a gathered source, with where it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourcePassage {
    /// The source's PART-wide number.
    pub source: usize,
    /// Its position among that source's passages (for keeping the source's order).
    pub at: usize,
    /// The passage.
    pub passage: Passage,
}

/// One section's share of the passages, best first, with the score each got.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Assigned {
    /// `(score, passage)`, best first.
    pub passages: Vec<(f64, SourcePassage)>,
}

impl Assigned {
    /// The distinct sources the section draws on, in number order.
    pub fn sources(&self) -> Vec<usize> {
        let mut s: Vec<usize> = self.passages.iter().map(|(_, p)| p.source).collect();
        s.sort_unstable();
        s.dedup();
        s
    }
}

/// A text's content terms for BM25 (the one tokenizer's), without the words of the plan's own
/// format ("~50 lines", "Section 2") that every section query would otherwise share.
pub fn tokens(text: &str) -> Vec<String> {
    crate::terms::terms(text)
        .into_iter()
        .filter(|t| !matches!(t.as_str(), "line" | "section"))
        .collect()
}

/// Lowercased words, stopwords kept (for phrase matching of titles against headings).
fn words(text: &str) -> Vec<String> {
    crate::terms::words(text)
}

/// Every passage of the sources, in source order.
pub fn source_passages(sources: &[Source]) -> Vec<SourcePassage> {
    let mut seen: HashSet<String> = HashSet::new();
    let mut out = Vec::new();
    for s in sources {
        for (at, p) in passages(&s.page.content).into_iter().enumerate() {
            // The same paragraph on two pages (mirrors, syndication) is one passage.
            let key: String = p.text.split_whitespace().collect::<Vec<_>>().join(" ");
            if !seen.insert(key) {
                continue;
            }
            out.push(SourcePassage {
                source: s.n,
                at,
                passage: p,
            });
        }
    }
    out
}

/// What a section is looking for.
#[derive(Debug, Clone, Default)]
pub struct SectionQuery {
    /// Title and hint tokens (and a reviewer's reason, when regenerating).
    pub terms: Vec<String>,
    /// The title's words, stopwords kept, for matching headings as a phrase.
    pub title: Vec<String>,
    /// Whether the section asks for a table.
    pub wants_table: bool,
    /// Whether the section asks for code.
    pub wants_code: bool,
}

impl SectionQuery {
    /// The query of a planned section, with extra words (a reviewer's reason) when given.
    pub fn new(section: &Section, extra: Option<&str>) -> SectionQuery {
        let mut text = section.title.clone();
        if let Some(h) = &section.hint {
            text.push(' ');
            text.push_str(h);
        }
        if let Some(e) = extra {
            text.push(' ');
            text.push_str(e);
        }
        let mut terms = tokens(&text);
        terms.sort();
        terms.dedup();
        let lower = text.to_lowercase();
        SectionQuery {
            terms,
            title: words(&section.title),
            wants_table: lower.contains("table") || lower.contains("matrix"),
            wants_code: ["code", "example", "snippet", "config"]
                .iter()
                .any(|w| lower.contains(w)),
        }
    }
}

/// BM25 statistics over a set of passages.
struct Stats {
    df: HashMap<String, usize>,
    n: usize,
    avg_len: f64,
}

impl Stats {
    fn new(docs: &[Vec<String>]) -> Stats {
        let mut df: HashMap<String, usize> = HashMap::new();
        let mut total = 0usize;
        for d in docs {
            total += d.len();
            let uniq: HashSet<&String> = d.iter().collect();
            for t in uniq {
                *df.entry(t.clone()).or_default() += 1;
            }
        }
        Stats {
            df,
            n: docs.len(),
            avg_len: total as f64 / docs.len().max(1) as f64,
        }
    }

    fn bm25(&self, query: &[String], doc: &[String]) -> f64 {
        let (k1, b) = (1.2, 0.75);
        let len = doc.len() as f64;
        query
            .iter()
            .map(|q| {
                let tf = doc.iter().filter(|t| *t == q).count() as f64;
                if tf == 0.0 {
                    return 0.0;
                }
                let df = *self.df.get(q).unwrap_or(&0) as f64;
                let idf = (1.0 + (self.n as f64 - df + 0.5) / (df + 0.5)).ln();
                idf * tf * (k1 + 1.0) / (tf + k1 * (1.0 - b + b * len / self.avg_len.max(1.0)))
            })
            .sum()
    }
}

/// Whether `needle`'s words appear in `hay` as a run of whole words, spacing ignored (so
/// "CoreML integration" matches "Core ML Integration" but "ai" does not match "mainframe").
fn phrase_in(needle: &[String], hay: &[String]) -> bool {
    let n: String = needle.concat();
    if n.is_empty() {
        return false;
    }
    (0..hay.len()).any(|i| {
        let mut joined = String::new();
        for w in &hay[i..] {
            joined.push_str(w);
            if joined.len() >= n.len() {
                break;
            }
        }
        joined == n
    })
}

/// Share of `needle`'s content words found in `hay` (all its words, when it has only
/// stopwords: "When to use which" still shares "when to use" with "When to use FSDP").
fn share_in(needle: &[String], hay: &[String]) -> f64 {
    let mut content: Vec<&String> = needle
        .iter()
        .filter(|w| !crate::terms::is_stopword(w))
        .collect();
    if content.is_empty() {
        content = needle.iter().collect();
    }
    if content.is_empty() {
        return 0.0;
    }
    let hay: HashSet<&String> = hay.iter().collect();
    content.iter().filter(|w| hay.contains(*w)).count() as f64 / content.len() as f64
}

/// How well passage `p` (of a source titled `source_title`) fits a section.
fn fit(
    stats: &Stats,
    q: &SectionQuery,
    p: &SourcePassage,
    doc: &[String],
    source_title: &str,
) -> f64 {
    let heading = words(&p.passage.heading);
    let title = words(source_title);
    let mut score = stats.bm25(&q.terms, doc);
    // A source heading that names the section is strong evidence; the page's title less so.
    if phrase_in(&q.title, &heading) {
        score += 12.0;
    } else {
        score += 6.0 * share_in(&q.title, &heading);
    }
    if phrase_in(&q.title, &title) {
        score += 4.0;
    } else {
        score += 2.0 * share_in(&q.title, &title);
    }
    match p.passage.kind {
        PassageKind::Table if q.wants_table => score += 6.0,
        PassageKind::Code if q.wants_code => score += 3.0,
        _ => {}
    }
    score
}

/// Below this a passage fits no section.
const MIN_FIT: f64 = 1.0;

/// Give each passage to the section it fits best. `titles[n]` is source n's title.
pub fn assign(
    passages: &[SourcePassage],
    queries: &[SectionQuery],
    titles: &HashMap<usize, String>,
) -> Vec<Assigned> {
    let docs: Vec<Vec<String>> = passages
        .iter()
        .map(|p| tokens(&format!("{} {}", p.passage.heading, p.passage.text)))
        .collect();
    let stats = Stats::new(&docs);
    // Every passage's fit for every section.
    let scores: Vec<Vec<f64>> = passages
        .iter()
        .zip(&docs)
        .map(|(p, doc)| {
            let title = titles.get(&p.source).map_or("", String::as_str);
            queries
                .iter()
                .map(|q| fit(&stats, q, p, doc, title))
                .collect()
        })
        .collect();
    // Each passage to the section it fits best (ties to the earlier section).
    let mut owner: Vec<Option<usize>> = scores
        .iter()
        .map(|row| {
            row.iter()
                .enumerate()
                .fold(None::<(f64, usize)>, |best, (k, &s)| match best {
                    Some((bs, _)) if bs >= s => best,
                    _ => Some((s, k)),
                })
                .filter(|(s, _)| *s >= MIN_FIT)
                .map(|(_, k)| k)
        })
        .collect();
    // A section nothing went to takes the passage that fits it best from a section that keeps
    // others: "Missing" only when no gathered passage fits it at all.
    let empty: Vec<usize> = (0..queries.len())
        .filter(|k| !owner.contains(&Some(*k)))
        .collect();
    for k in empty {
        let count =
            |j: usize, owner: &[Option<usize>]| owner.iter().filter(|o| **o == Some(j)).count();
        let candidate = (0..passages.len())
            .filter(|&i| scores[i][k] >= MIN_FIT)
            .filter(|&i| owner[i].is_none_or(|j| count(j, &owner) > 1))
            .max_by(|&a, &b| scores[a][k].total_cmp(&scores[b][k]));
        if let Some(i) = candidate {
            owner[i] = Some(k);
        }
    }
    let mut out = vec![Assigned::default(); queries.len()];
    for (i, o) in owner.iter().enumerate() {
        if let Some(k) = o {
            out[*k].passages.push((scores[i][*k], passages[i].clone()));
        }
    }
    for a in &mut out {
        a.passages.sort_by(|x, y| {
            y.0.total_cmp(&x.0)
                .then(x.1.source.cmp(&y.1.source))
                .then(x.1.at.cmp(&y.1.at))
        });
    }
    out
}

/// The passages for one section rewritten with a reason: ranked by the section's query with the
/// reason's words added, passages given to other sections left out, and those the rejected text
/// used ranked after every fresh one — or left out when they have nothing to do with the
/// reason — so the result changes the way the reviewer asked.
pub fn reassign_one(
    passages: &[SourcePassage],
    query: &SectionQuery,
    reason: &str,
    titles: &HashMap<usize, String>,
    taken_by_others: &HashSet<(usize, usize)>,
    rejected_text: &str,
) -> Assigned {
    let docs: Vec<Vec<String>> = passages
        .iter()
        .map(|p| tokens(&format!("{} {}", p.passage.heading, p.passage.text)))
        .collect();
    let stats = Stats::new(&docs);
    let rejected: String = rejected_text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let mut reason_terms = tokens(reason);
    reason_terms.sort();
    reason_terms.dedup();
    // Passages the rejected text used come after every fresh one that fits.
    let mut picked: Vec<(bool, f64, SourcePassage)> = passages
        .iter()
        .zip(&docs)
        .filter(|(p, _)| !taken_by_others.contains(&(p.source, p.at)))
        .map(|(p, doc)| {
            let title = titles.get(&p.source).map_or("", String::as_str);
            let flat: String = p
                .passage
                .text
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            let probe: String = flat.chars().take(80).collect();
            let used = !probe.is_empty() && rejected.contains(&probe);
            let keep = !used || reason_terms.is_empty() || stats.bm25(&reason_terms, doc) > 0.0;
            (used, keep, fit(&stats, query, p, doc, title), p.clone())
        })
        .filter(|(_, keep, s, _)| *keep && *s >= MIN_FIT)
        .map(|(used, _, s, p)| (used, s, p))
        .collect();
    picked.sort_by(|x, y| {
        x.0.cmp(&y.0)
            .then(y.1.total_cmp(&x.1))
            .then(x.2.source.cmp(&y.2.source))
            .then(x.2.at.cmp(&y.2.at))
    });
    let picked = picked.into_iter().map(|(_, s, p)| (s, p)).collect();
    Assigned { passages: picked }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Plan;
    use crate::research::Page;

    fn source(n: usize, title: &str, content: &str) -> Source {
        Source {
            n,
            page: Page {
                url: format!("corpus://{n}.md"),
                title: title.into(),
                content: content.into(),
            },
        }
    }

    fn sections(items: &str) -> Vec<Section> {
        Plan::parse(&format!(
            "### PART 1: Create t/x.md\n- [ ] PART 1: Create t/x.md\n{items}"
        ))
        .parts
        .remove(0)
        .sections
    }

    #[test]
    fn headings_that_name_a_section_win_and_each_passage_goes_once() {
        let secs = sections(
            "- [ ] Section 1: Day one setup (~20 lines)\n- [ ] Section 2: Day two training (~20 lines)\n- [ ] Section 3: When to use which (~20 lines)\n",
        );
        let guide = "# Guide\n\n## Day one setup\n\nInstall the drivers first and check the interconnect between nodes.\n\nThen configure the launcher with one process per accelerator device.\n\n## Day two training\n\nStart the training run with a small batch to validate throughput numbers.\n\n## When to use which\n\nPick the first framework for simple data parallel jobs across few nodes.\n";
        let srcs = vec![source(1, "Guide", guide)];
        let ps = source_passages(&srcs);
        let qs: Vec<SectionQuery> = secs.iter().map(|s| SectionQuery::new(s, None)).collect();
        let titles = HashMap::from([(1, "Guide".to_string())]);
        let a = assign(&ps, &qs, &titles);
        assert_eq!(a[0].passages.len(), 2, "{a:?}");
        assert_eq!(a[1].passages.len(), 1);
        assert_eq!(
            a[2].passages.len(),
            1,
            "stopword-only titles match as a phrase"
        );
        let total: usize = a.iter().map(|x| x.passages.len()).sum();
        assert_eq!(total, ps.len(), "every passage once");
    }

    #[test]
    fn tables_go_to_the_section_asking_for_one() {
        let secs = sections(
            "- [ ] Section 1: Overview (~20 lines)\n- [ ] Section 2: Feature comparison table (~20 lines)\n",
        );
        let doc = "# X\n\n## Overview\n\nFSDP shards parameters gradients and optimizer state across ranks.\n\n## Notes\n\n| feature | FSDP | ZeRO |\n|---|---|---|\n| sharding | yes | yes |\n";
        let ps = source_passages(&[source(1, "X", doc)]);
        let qs: Vec<SectionQuery> = secs.iter().map(|s| SectionQuery::new(s, None)).collect();
        let a = assign(&ps, &qs, &HashMap::new());
        assert!(
            a[1].passages
                .iter()
                .any(|(_, p)| p.passage.kind == PassageKind::Table)
        );
    }

    #[test]
    fn regenerating_with_a_reason_changes_what_is_picked() {
        let secs = sections("- [ ] Section 1: Memory (~20 lines)\n");
        let doc = "# M\n\n## Memory\n\nActivation memory grows with sequence length and batch size in training.\n\n## Offload\n\nCPU offload moves optimizer memory to host RAM and NVMe storage devices.\n";
        let ps = source_passages(&[source(1, "M", doc)]);
        let q = SectionQuery::new(&secs[0], None);
        let before = reassign_one(&ps, &q, "", &HashMap::new(), &HashSet::new(), "");
        let first = before.passages[0].1.passage.text.clone();
        let q2 = SectionQuery::new(&secs[0], Some("cover CPU offload and NVMe"));
        let after = reassign_one(
            &ps,
            &q2,
            "cover CPU offload and NVMe",
            &HashMap::new(),
            &HashSet::new(),
            &first,
        );
        assert_ne!(after.passages[0].1.passage.text, first);
    }
}
