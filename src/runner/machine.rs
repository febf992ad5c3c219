//! The runner's decisions as plain functions: what to search, what to fetch, what to do next.

use crate::knowledge::Existing;
use crate::plan::{Part, Scrape};
use crate::research::{Hit, Page, ResearchError};
use crate::sources::SourcePolicy;

use crate::state::RunnerState;

/// Pages scraped when a plan names queries but no `Scrape top N`.
pub const DEFAULT_TOP: usize = 3;
/// The most pages one `Scrape top N` takes; a larger N is cut to this (and the plan warns).
pub const MAX_TOP: usize = crate::plan::MAX_SCRAPE_TOP;

/// One search a PART asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedSearch {
    /// The query sent to the provider.
    pub query: String,
    /// Whether it stands for a named scrape target (its best hit is fetched).
    pub named: bool,
}

/// What a runner has done so far; the driver fills it, the decisions read it.
#[derive(Debug, Clone, Default)]
pub struct Progress {
    /// The checks' findings, once run.
    pub existing: Option<Existing>,
    /// One slot per planned search: hits, or why it failed.
    pub searches: Vec<Option<Result<Vec<Hit>, ResearchError>>>,
    /// The URLs to fetch, decided once every search is done.
    pub fetches: Option<Vec<String>>,
    /// One slot per planned fetch.
    pub pages: Vec<Option<Result<Page, ResearchError>>>,
}

/// The next thing a runner does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Run the checks.
    Check,
    /// Run planned search `i`.
    Search(usize),
    /// Decide which pages to fetch from the search results.
    PlanFetches,
    /// Fetch planned page `i`.
    Fetch(usize),
    /// Write the draft.
    Write,
    /// Give up, with the reason.
    Fail(String),
}

impl Action {
    /// The state a runner is in while doing this.
    pub fn state(&self) -> RunnerState {
        match self {
            Action::Check => RunnerState::Checking,
            Action::Search(_) | Action::PlanFetches => RunnerState::Searching,
            Action::Fetch(_) => RunnerState::Scraping,
            Action::Write => RunnerState::Writing,
            Action::Fail(_) => RunnerState::Failed,
        }
    }
}

/// The searches of a PART: its queries, then one per named scrape target. A PART with neither
/// searches for its own topic, so that every PART has something to write from.
pub fn planned_searches(part: &Part) -> Vec<PlannedSearch> {
    let topic = topic_words(part);
    let mut out: Vec<PlannedSearch> = part
        .queries
        .iter()
        .map(|q| PlannedSearch {
            query: q.clone(),
            named: false,
        })
        .collect();
    for s in &part.scrape {
        if let Scrape::Named { target } = s {
            // A bare `Scrape examples` says little on its own; the PART's topic makes it findable.
            // A target naming a site ("GitHub docs") searches that site (web providers honour
            // `site:`; the local corpus drops it).
            let site = crate::sources::named_site(target)
                .map(|s| format!("site:{s} "))
                .unwrap_or_default();
            out.push(PlannedSearch {
                query: format!("{site}{target} {topic}"),
                named: true,
            });
        }
    }
    if out.is_empty() {
        out.push(PlannedSearch {
            query: topic,
            named: false,
        });
    }
    out
}

/// `karpathy/x/00-deepspeed-zero-optimizer.md` -> `deepspeed zero optimizer`.
pub fn topic_words(part: &Part) -> String {
    part.stem()
        .split(['-', '_'])
        .filter(|w| !w.is_empty() && !w.chars().all(|c| c.is_ascii_digit()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// How many pages to take from the ranked searches.
pub fn top_n(part: &Part) -> usize {
    part.scrape
        .iter()
        .filter_map(|s| match s {
            Scrape::Top { n } => Some(*n as usize),
            Scrape::Named { .. } => None,
        })
        .max()
        .unwrap_or(DEFAULT_TOP)
        .min(MAX_TOP)
}

/// Hits asked of each search: enough to fill the top N after duplicates across queries.
pub fn search_limit(part: &Part) -> usize {
    top_n(part).max(5)
}

/// The pages to fetch: the top N distinct URLs taken rank by rank across the plain searches,
/// then the best not-yet-chosen hit of each named target.
pub fn plan_fetches(searches: &[PlannedSearch], results: &[Vec<Hit>], top: usize) -> Vec<String> {
    plan_fetches_within(searches, results, top, &SourcePolicy::default()).urls
}

/// The pages a PART fetches under a source policy, and the results it left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FetchPlan {
    /// To fetch, preferred sites first.
    pub urls: Vec<String>,
    /// Left out by a rule: (address, rule, glob).
    pub skipped: Vec<(String, crate::sources::Rule, String)>,
}

/// [`plan_fetches`] under `policy`: denied results (and, with `only`, results of other sites)
/// are left out and named, the same page under two addresses counts once, and pages of
/// preferred sites go first.
pub fn plan_fetches_within(
    searches: &[PlannedSearch],
    results: &[Vec<Hit>],
    top: usize,
    policy: &SourcePolicy,
) -> FetchPlan {
    use crate::sources::{Decision, canonical};
    let mut plan = FetchPlan::default();
    let mut seen: Vec<String> = Vec::new();
    // Whether `h` may be taken: fetchable and not a page already chosen.
    let mut take = |h: &Hit, plan: &mut FetchPlan| -> bool {
        let key = canonical(&h.url);
        if seen.contains(&key) {
            return false;
        }
        match policy.decide(&h.url) {
            Decision::Skip { rule, glob } => {
                if !plan.skipped.iter().any(|(u, _, _)| *u == h.url) {
                    plan.skipped.push((h.url.clone(), rule, glob));
                }
                false
            }
            Decision::Fetch { .. } => {
                seen.push(key);
                plan.urls.push(h.url.clone());
                true
            }
        }
    };
    let plain: Vec<&Vec<Hit>> = searches
        .iter()
        .zip(results)
        .filter(|(s, _)| !s.named)
        .map(|(_, r)| r)
        .collect();
    // Preferred sites' results first, whatever their rank; then rank by rank across searches.
    'first: for hits in &plain {
        for h in hits.iter() {
            if plan.urls.len() >= top {
                break 'first;
            }
            if policy.decide(&h.url) == (Decision::Fetch { preferred: true }) {
                take(h, &mut plan);
            }
        }
    }
    let deepest = plain.iter().map(|r| r.len()).max().unwrap_or(0);
    'rank: for rank in 0..deepest {
        for hits in &plain {
            if plan.urls.len() >= top {
                break 'rank;
            }
            if let Some(h) = hits.get(rank) {
                take(h, &mut plan);
            }
        }
    }
    for (s, hits) in searches.iter().zip(results) {
        if s.named {
            for h in hits {
                if take(h, &mut plan) {
                    break;
                }
            }
        }
    }
    plan
}

/// The next action for `part` given its progress.
pub fn next_action(part: &Part, progress: &Progress) -> Action {
    if progress.existing.is_none() {
        return Action::Check;
    }
    let planned = planned_searches(part);
    if let Some(i) =
        (0..planned.len()).find(|&i| progress.searches.get(i).is_none_or(Option::is_none))
    {
        return Action::Search(i);
    }
    let errors: Vec<&ResearchError> = progress
        .searches
        .iter()
        .filter_map(|s| s.as_ref().and_then(|r| r.as_ref().err()))
        .collect();
    if !planned.is_empty() && errors.len() == planned.len() {
        return Action::Fail(format!(
            "all {} searches failed; the last error: {}",
            planned.len(),
            errors.last().map_or(String::new(), |e| e.to_string())
        ));
    }
    let Some(fetches) = &progress.fetches else {
        return Action::PlanFetches;
    };
    if let Some(i) = (0..fetches.len()).find(|&i| progress.pages.get(i).is_none_or(Option::is_none))
    {
        return Action::Fetch(i);
    }
    Action::Write
}

/// The search results, with failed searches as empty.
pub fn search_hits(progress: &Progress) -> Vec<Vec<Hit>> {
    progress
        .searches
        .iter()
        .map(|s| match s {
            Some(Ok(h)) => h.clone(),
            _ => Vec::new(),
        })
        .collect()
}

/// The fetched pages, in fetch order.
pub fn fetched_pages(progress: &Progress) -> Vec<Page> {
    // The same text under two addresses (a mirror, a syndicated copy) is one source.
    let mut seen: std::collections::HashSet<&str> = std::collections::HashSet::new();
    progress
        .pages
        .iter()
        .filter_map(|p| p.as_ref().and_then(|r| r.as_ref().ok()))
        .filter(|p| seen.insert(p.content.trim()))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Plan;

    fn part(items: &str) -> Part {
        Plan::parse(&format!(
            "### PART 1: Create k/00-ray-train.md\n- [ ] PART 1: Create k/00-ray-train.md\n{items}"
        ))
        .parts
        .remove(0)
    }

    fn hit(u: &str) -> Hit {
        Hit {
            url: u.into(),
            title: u.into(),
            snippet: String::new(),
        }
    }

    #[test]
    fn searches_include_named_targets_and_default_to_the_topic() {
        let p = part("- [ ] Search: \"a\"\n- [ ] Scrape top 2 results\n- [ ] Scrape Ray docs\n");
        let s = planned_searches(&p);
        assert_eq!(s.len(), 2);
        assert_eq!(
            s[1],
            PlannedSearch {
                query: "site:docs.ray.io Ray docs ray train".into(),
                named: true
            }
        );
        assert_eq!(top_n(&p), 2);
        let bare = part("- [ ] Section 1: X (~10 lines)\n");
        assert_eq!(
            planned_searches(&bare),
            vec![PlannedSearch {
                query: "ray train".into(),
                named: false
            }]
        );
        assert_eq!(top_n(&bare), DEFAULT_TOP);
        assert_eq!(
            top_n(&part("- [ ] Scrape top 100000000 results\n")),
            MAX_TOP
        );
    }

    #[test]
    fn fetches_interleave_ranks_dedupe_and_add_named_best() {
        let searches = vec![
            PlannedSearch {
                query: "q1".into(),
                named: false,
            },
            PlannedSearch {
                query: "q2".into(),
                named: false,
            },
            PlannedSearch {
                query: "docs".into(),
                named: true,
            },
        ];
        let results = vec![
            vec![hit("a"), hit("b"), hit("c")],
            vec![hit("a"), hit("d")],
            vec![hit("b"), hit("e")],
        ];
        assert_eq!(plan_fetches(&searches, &results, 3), ["a", "b", "d", "e"]);
        assert_eq!(plan_fetches(&searches, &results, 1), ["a", "b"]);
        assert!(plan_fetches(&searches[..2], &[vec![], vec![]], 3).is_empty());
    }

    #[test]
    fn next_action_walks_the_steps_and_fails_only_when_every_search_failed() {
        let p = part("- [ ] Search: \"a\"\n- [ ] Search: \"b\"\n");
        let mut pr = Progress::default();
        assert_eq!(next_action(&p, &pr), Action::Check);
        pr.existing = Some(Existing::default());
        assert_eq!(next_action(&p, &pr), Action::Search(0));
        let err = |m: &str| ResearchError::Provider {
            provider: "p".into(),
            message: m.into(),
        };
        pr.searches = vec![Some(Err(err("boom"))), None];
        assert_eq!(next_action(&p, &pr), Action::Search(1));
        pr.searches[1] = Some(Ok(vec![hit("x")]));
        assert_eq!(next_action(&p, &pr), Action::PlanFetches);
        pr.fetches = Some(vec!["x".into()]);
        assert_eq!(next_action(&p, &pr), Action::Fetch(0));
        pr.pages = vec![Some(Err(err("404")))];
        assert_eq!(
            next_action(&p, &pr),
            Action::Write,
            "a failed fetch does not stop the PART"
        );

        pr.searches[1] = Some(Err(err("timeout")));
        assert_eq!(
            next_action(&p, &pr),
            Action::Fail("all 2 searches failed; the last error: p: timeout".into())
        );
    }
}
