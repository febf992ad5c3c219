//! What a plan will ask before it runs (`run --dry-run`): per PART the searches, the most pages
//! it may fetch, the sections and model requests, a token range (the prompt from the outline
//! and the context each section may get, the completion from the line budgets) and, with
//! prices, a dollar range. Pure: nothing is sent anywhere.

use serde::Serialize;

use super::budget::Prices;
use super::machine::{planned_searches, top_n};
use crate::plan::{Part, Scrape};
use crate::research::http::{prompt, tokens};
use crate::research::{SectionRequest, Source};
use crate::state::Usage;

/// The model a run would write with, as far as the estimate needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// Characters of source text a section's prompt holds at most.
    pub context_chars: usize,
    /// `[model] max_tokens`, if set.
    pub max_tokens: Option<u32>,
    /// Prices, if set.
    pub prices: Option<Prices>,
}

/// A low–high range.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq)]
pub struct Range<T> {
    /// The least.
    pub low: T,
    /// The most.
    pub high: T,
}

/// One PART's estimate.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PartEstimate {
    /// The PART.
    pub number: u32,
    /// Searches it runs.
    pub searches: usize,
    /// Pages it may fetch at most.
    pub fetches_max: usize,
    /// Sections it writes.
    pub sections: usize,
    /// Model requests (one per section; none with the extractive writer).
    pub model_requests: usize,
    /// Tokens, prompt and completion together.
    pub tokens: Range<u64>,
    /// Dollars, with prices.
    pub usd: Option<Range<f64>>,
}

/// The whole plan's estimate.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Estimate {
    /// Each PART that would run.
    pub parts: Vec<PartEstimate>,
    /// Their sums.
    pub totals: Totals,
}

/// Sums over the PARTs.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Totals {
    /// Searches.
    pub searches: usize,
    /// Pages at most.
    pub fetches_max: usize,
    /// Model requests.
    pub model_requests: usize,
    /// Tokens.
    pub tokens: Range<u64>,
    /// Dollars, with prices.
    pub usd: Option<Range<f64>>,
}

/// Completion tokens a planned line takes, at least and at most (a line of prose is about 15 to
/// 25 tokens; code and tables less, a long wrapped paragraph line more).
const TOKENS_PER_LINE: Range<u64> = Range { low: 6, high: 48 };

/// Completion tokens a section of `lines` planned lines may use when a budget is set and the
/// model has no limit of its own: room for its lines at about twice what a line of prose takes.
pub fn completion_cap(lines: usize) -> u32 {
    (lines as u32)
        .saturating_mul(TOKENS_PER_LINE.high as u32)
        .saturating_add(512)
}

/// The most a section of `lines` lines may write: its cap, or the model's limit when lower.
fn completion_high(lines: usize, max_tokens: Option<u32>) -> u64 {
    let cap = u64::from(completion_cap(lines));
    max_tokens.map_or(cap, |m| cap.min(u64::from(m)))
}

/// The estimate of `parts` written by `model` (None: the extractive writer, no model tokens).
pub fn estimate(parts: &[&Part], plan_title: Option<&str>, model: Option<&Model>) -> Estimate {
    let mut out = Vec::new();
    for part in parts {
        let searches = planned_searches(part).len();
        let named = part
            .scrape
            .iter()
            .filter(|s| matches!(s, Scrape::Named { .. }))
            .count();
        let sections = part.sections.len().max(1);
        let split = model.map(|m| (m, prompt_and_completion(part, plan_title, m)));
        let requests = if split.is_some() { sections } else { 0 };
        let tokens = split.map_or(Range::default(), |(_, (p, c))| Range {
            low: p.low + c.low,
            high: p.high + c.high,
        });
        let usd = split.and_then(|(m, (p, c))| {
            let at = |prompt: u64, completion: u64| Usage {
                prompt_tokens: prompt,
                completion_tokens: completion,
                estimated: true,
            };
            m.prices.map(|price| Range {
                low: price.cost(at(p.low, c.low)),
                high: price.cost(at(p.high, c.high)),
            })
        });
        out.push(PartEstimate {
            number: part.number,
            searches,
            fetches_max: top_n(part) + named,
            sections,
            model_requests: requests,
            tokens,
            usd,
        });
    }
    let totals = Totals {
        searches: out.iter().map(|p| p.searches).sum(),
        fetches_max: out.iter().map(|p| p.fetches_max).sum(),
        model_requests: out.iter().map(|p| p.model_requests).sum(),
        tokens: Range {
            low: out.iter().map(|p| p.tokens.low).sum(),
            high: out.iter().map(|p| p.tokens.high).sum(),
        },
        usd: model.and_then(|m| m.prices).map(|_| Range {
            low: out.iter().filter_map(|p| p.usd).map(|u| u.low).sum(),
            high: out.iter().filter_map(|p| p.usd).map(|u| u.high).sum(),
        }),
    };
    Estimate { parts: out, totals }
}

/// A PART's prompt tokens (all its sections) from the outline alone up to a full context each,
/// and its completion tokens from its line budgets.
fn prompt_and_completion(part: &Part, title: Option<&str>, m: &Model) -> (Range<u64>, Range<u64>) {
    let mut prompt = Range::default();
    let mut completion = Range::default();
    for k in 0..part.sections.len().max(1) {
        let request = SectionRequest {
            plan_title: title.map(str::to_string),
            part: (*part).clone(),
            title: crate::draft::title_for(part, &[]),
            index: k.min(part.sections.len().saturating_sub(1)),
            passages: Vec::new(),
            sources: Vec::<Source>::new(),
            existing: crate::knowledge::Existing::default(),
            already: None,
            feedback: None,
            previous: None,
            searched: Vec::new(),
            max_tokens: None,
        };
        let base = if part.sections.is_empty() {
            0
        } else {
            let messages = serde_json::json!(prompt::messages(&request, m.context_chars));
            tokens::estimate(&messages, "").prompt_tokens
        };
        // Sources: nothing fits at least; at most the context, at about three characters a
        // token, plus a quarter for headers and the tokenizer of another model.
        let context = m.context_chars as u64 / 3;
        prompt.low += base;
        prompt.high += base + context + context / 4;
        let lines = part.budget_of(k);
        completion.low += lines as u64 * TOKENS_PER_LINE.low;
        completion.high += completion_high(lines, m.max_tokens);
    }
    (prompt, completion)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Plan;

    const PLAN: &str = "# P\n\n### PART 1: Create a/x.md (~60 lines)\n- [ ] PART 1: Create a/x.md\n- [ ] Search: \"one\"\n- [ ] Search: \"two\"\n- [ ] Scrape top 3 results\n- [ ] Scrape NVIDIA docs\n- [ ] Section 1: A (~40 lines)\n- [ ] Section 2: B (~20 lines)\n";

    #[test]
    fn counts_and_ranges() {
        let plan = Plan::parse(PLAN);
        let parts: Vec<&Part> = plan.parts.iter().collect();
        let offline = estimate(&parts, None, None);
        assert_eq!(
            offline.parts[0].searches, 3,
            "two searches and the named target"
        );
        assert_eq!(offline.parts[0].fetches_max, 4);
        assert_eq!(offline.parts[0].model_requests, 0);
        assert_eq!(offline.totals.tokens, Range { low: 0, high: 0 });
        assert!(offline.totals.usd.is_none());
        let model = Model {
            context_chars: 30_000,
            max_tokens: None,
            prices: Some(Prices {
                input_per_mtok: 1.0,
                output_per_mtok: 2.0,
            }),
        };
        let e = estimate(&parts, Some("P"), Some(&model));
        let p = &e.parts[0];
        assert_eq!((p.sections, p.model_requests), (2, 2));
        assert!(
            p.tokens.low > 60 * 6 && p.tokens.low < p.tokens.high,
            "{p:?}"
        );
        // Two full contexts and completions at the high end.
        assert!(p.tokens.high > 2 * 10_000 + 60 * 40, "{p:?}");
        let usd = p.usd.unwrap();
        assert!(usd.low > 0.0 && usd.low < usd.high);
        assert_eq!(e.totals.usd.unwrap(), usd);
    }
}
