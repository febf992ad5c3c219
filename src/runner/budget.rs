//! Model spending caps: tokens (and dollars, when prices are set) for the plan and per PART. A
//! reached budget stops new model requests; requests in flight finish and nothing is thrown away.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use crate::state::{PartStatus, Usage};
use crate::words::compact;

/// Dollars per million tokens.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prices {
    /// Per million prompt tokens.
    pub input_per_mtok: f64,
    /// Per million completion tokens.
    pub output_per_mtok: f64,
}

impl Prices {
    /// What `u` costs.
    pub fn cost(&self, u: Usage) -> f64 {
        u.prompt_tokens as f64 * self.input_per_mtok / 1e6
            + u.completion_tokens as f64 * self.output_per_mtok / 1e6
    }
}

/// The caps a run is given (`--budget-tokens`, `--budget-usd`, `[budget]`).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Limits {
    /// Tokens for the plan as a whole, across runs.
    pub tokens: Option<u64>,
    /// Dollars for the plan as a whole (needs prices).
    pub usd: Option<f64>,
    /// Tokens per PART.
    pub per_part_tokens: Option<u64>,
}

impl Limits {
    /// Whether any cap is set.
    pub fn any(&self) -> bool {
        self.tokens.is_some() || self.usd.is_some() || self.per_part_tokens.is_some()
    }
}

/// Why no new model request may start: `budget reached (used X of Y)`, or None.
pub fn reached(
    limits: &Limits,
    prices: Option<&Prices>,
    plan: Usage,
    part: Usage,
) -> Option<String> {
    if let Some(cap) = limits.tokens
        && plan.total() >= cap
    {
        return Some(format!(
            "budget reached (used {} of {} tokens for the plan)",
            compact(plan.total()),
            compact(cap)
        ));
    }
    if let (Some(cap), Some(p)) = (limits.usd, prices) {
        let spent = p.cost(plan);
        if spent >= cap {
            return Some(format!(
                "budget reached (used ${spent:.2} of ${cap:.2} for the plan)"
            ));
        }
    }
    if let Some(cap) = limits.per_part_tokens
        && part.total() >= cap
    {
        return Some(format!(
            "budget reached (used {} of {} tokens for this PART)",
            compact(part.total()),
            compact(cap)
        ));
    }
    None
}

/// The plan's spending as a run goes, shared by its runners.
#[derive(Debug)]
pub struct Budget {
    limits: Limits,
    prices: Option<Prices>,
    spent: Mutex<Spent>,
}

#[derive(Debug, Default)]
struct Spent {
    plan: Usage,
    parts: HashMap<u32, Usage>,
}

impl Budget {
    /// A budget seeded with what earlier runs of the plan used.
    pub fn new(
        limits: Limits,
        prices: Option<Prices>,
        history: &BTreeMap<u32, PartStatus>,
    ) -> Budget {
        let mut spent = Spent::default();
        for (n, s) in history {
            if let Some(u) = s.usage {
                spent.plan.add(u);
                spent.parts.insert(*n, u);
            }
        }
        Budget {
            limits,
            prices,
            spent: Mutex::new(spent),
        }
    }

    /// A budget without caps.
    pub fn unlimited() -> Budget {
        Budget::new(Limits::default(), None, &BTreeMap::new())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Spent> {
        // Only ever held for arithmetic; a poisoned lock still holds valid counts.
        self.spent.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// None when PART `part` may start a model request; else why not.
    pub fn check(&self, part: u32) -> Option<String> {
        let s = self.lock();
        reached(
            &self.limits,
            self.prices.as_ref(),
            s.plan,
            s.parts.get(&part).copied().unwrap_or_default(),
        )
    }

    /// Count a finished request; returns the PART's total.
    pub fn add(&self, part: u32, u: Usage) -> Usage {
        let mut s = self.lock();
        s.plan.add(u);
        let total = s.parts.entry(part).or_default();
        total.add(u);
        *total
    }

    /// The plan's total so far.
    pub fn plan(&self) -> Usage {
        self.lock().plan
    }

    /// What `u` costs, when prices are set.
    pub fn cost(&self, u: Usage) -> Option<f64> {
        self.prices.map(|p| p.cost(u))
    }

    /// `budget: 12.3k of 50.0k tokens used` (with dollars when priced), or None without caps.
    pub fn line(&self) -> Option<String> {
        if !self.limits.any() {
            return None;
        }
        let plan = self.plan();
        let mut parts = Vec::new();
        if let Some(cap) = self.limits.tokens {
            parts.push(format!(
                "{} of {} tokens used",
                compact(plan.total()),
                compact(cap)
            ));
        } else {
            parts.push(format!("{} tokens used", compact(plan.total())));
        }
        if let (Some(cap), Some(cost)) = (self.limits.usd, self.cost(plan)) {
            parts.push(format!("${cost:.2} of ${cap:.2}"));
        }
        if let Some(cap) = self.limits.per_part_tokens {
            parts.push(format!("{} per PART at most", compact(cap)));
        }
        Some(format!("budget: {}", parts.join(", ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(p: u64, c: u64) -> Usage {
        Usage {
            prompt_tokens: p,
            completion_tokens: c,
            estimated: false,
        }
    }

    #[test]
    fn caps_stop_new_requests_once_reached() {
        let limits = Limits {
            tokens: Some(1_000),
            usd: None,
            per_part_tokens: Some(300),
        };
        assert_eq!(reached(&limits, None, u(500, 400), u(100, 100)), None);
        assert!(
            reached(&limits, None, u(600, 400), u(0, 0))
                .unwrap()
                .contains("used 1.0k of 1.0k tokens for the plan")
        );
        assert!(
            reached(&limits, None, u(100, 100), u(200, 100))
                .unwrap()
                .contains("for this PART")
        );
    }

    #[test]
    fn dollars_need_prices_and_are_exact_to_the_cent() {
        let prices = Prices {
            input_per_mtok: 3.0,
            output_per_mtok: 15.0,
        };
        assert!((prices.cost(u(1_000_000, 100_000)) - 4.5).abs() < 1e-9);
        let limits = Limits {
            usd: Some(4.5),
            ..Limits::default()
        };
        assert!(
            reached(&limits, None, u(10_000_000, 0), u(0, 0)).is_none(),
            "no price, no cap"
        );
        assert!(reached(&limits, Some(&prices), u(1_000_000, 100_000), u(0, 0)).is_some());
        assert!(reached(&limits, Some(&prices), u(1_000_000, 99_999), u(0, 0)).is_none());
    }

    #[test]
    fn history_counts_towards_the_plan() {
        let mut h = BTreeMap::new();
        h.insert(
            1,
            PartStatus {
                usage: Some(u(900, 0)),
                ..PartStatus::default()
            },
        );
        let b = Budget::new(
            Limits {
                tokens: Some(1_000),
                ..Limits::default()
            },
            None,
            &h,
        );
        assert!(b.check(2).is_none());
        b.add(2, u(50, 50));
        assert!(b.check(2).is_some());
        assert_eq!(b.line().unwrap(), "budget: 1.0k of 1.0k tokens used");
    }
}
