//! Model spending caps: tokens (and dollars, when prices are set) for the plan and per PART. A
//! cap is a cap: a request is admitted only while what is spent plus the most that requests in
//! flight (this one included) may still spend stays within it, so a run never spends past its
//! budget; requests in flight finish and nothing is thrown away.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use crate::state::{PartStatus, Usage};
use crate::words::{compact, dollars};

/// Dollars per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
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

/// A request the budget does not admit, and why in the terms of the cap it would pass.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

/// The caps a run is given (`--budget-tokens`, `--budget-usd`, `[budget]`).
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
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
                "budget reached (used {} of {} for the plan)",
                dollars(spent),
                dollars(cap)
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
    /// The most that admitted requests still in flight may spend, for the plan and per PART.
    reserved: Usage,
    reserved_parts: HashMap<u32, Usage>,
}

/// An admitted request's claim on the budget: settled with what it spent, or released (when
/// dropped) if it spent nothing that was counted.
#[derive(Debug)]
pub struct Ticket {
    budget: std::sync::Arc<Budget>,
    part: u32,
    most: Usage,
    open: bool,
}

impl Ticket {
    /// The request finished having spent `used`: counted, and its reservation freed.
    pub fn settle(mut self, used: Usage) -> Usage {
        self.open = false;
        self.budget.release(self.part, self.most);
        self.budget.add(self.part, used)
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        if self.open {
            self.budget.release(self.part, self.most);
        }
    }
}

fn plus(a: Usage, b: Usage) -> Usage {
    let mut s = a;
    s.add(b);
    s
}

fn minus(a: Usage, b: Usage) -> Usage {
    Usage {
        prompt_tokens: a.prompt_tokens.saturating_sub(b.prompt_tokens),
        completion_tokens: a.completion_tokens.saturating_sub(b.completion_tokens),
        estimated: a.estimated,
    }
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

    /// Whether any cap is set (requests then carry a bound and are admitted against it).
    pub fn limited(&self) -> bool {
        self.limits.any()
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

    /// Admit a request of PART `part` that may spend up to `most`, if what is spent plus what
    /// requests in flight may spend plus `most` stays within every cap; else why not. Without a
    /// cap every request is admitted.
    pub fn admit(self: &std::sync::Arc<Self>, part: u32, most: Usage) -> Result<Ticket, Refused> {
        let mut s = self.lock();
        if self.limits.any() {
            let committed = plus(s.plan, s.reserved);
            let part_committed = plus(
                s.parts.get(&part).copied().unwrap_or_default(),
                s.reserved_parts.get(&part).copied().unwrap_or_default(),
            );
            let over_tokens = self
                .limits
                .tokens
                .is_some_and(|cap| committed.total() + most.total() > cap);
            let over_usd = match (self.limits.usd, self.prices.as_ref()) {
                (Some(cap), Some(p)) => p.cost(plus(committed, most)) > cap + 1e-12,
                _ => false,
            };
            let over_part = self
                .limits
                .per_part_tokens
                .is_some_and(|cap| part_committed.total() + most.total() > cap);
            if over_tokens || over_usd || over_part {
                return Err(Refused(self.refusal(
                    s.plan,
                    committed,
                    part_committed,
                    most,
                )));
            }
        }
        s.reserved.add(most);
        s.reserved_parts.entry(part).or_default().add(most);
        Ok(Ticket {
            budget: self.clone(),
            part,
            most,
            open: true,
        })
    }

    /// Why a request of up to `most` does not fit, in the terms of the cap it would pass.
    fn refusal(
        &self,
        spent: Usage,
        committed: Usage,
        part_committed: Usage,
        most: Usage,
    ) -> String {
        if let Some(cap) = self.limits.tokens
            && committed.total() + most.total() > cap
        {
            return format!(
                "budget reached: the next request may use up to {} tokens and {} of {} are left for the plan ({} spent)",
                compact(most.total()),
                compact(cap.saturating_sub(committed.total())),
                compact(cap),
                compact(spent.total())
            );
        }
        if let (Some(cap), Some(p)) = (self.limits.usd, self.prices.as_ref()) {
            let c = p.cost(committed);
            if c + p.cost(most) > cap {
                return format!(
                    "budget reached: the next request may cost up to {} and {} of {} are left for the plan ({} spent)",
                    dollars(p.cost(most)),
                    dollars((cap - c).max(0.0)),
                    dollars(cap),
                    dollars(p.cost(spent))
                );
            }
        }
        let cap = self.limits.per_part_tokens.unwrap_or_default();
        format!(
            "budget reached: the next request may use up to {} tokens and {} of {} are left for this PART",
            compact(most.total()),
            compact(cap.saturating_sub(part_committed.total())),
            compact(cap)
        )
    }

    fn release(&self, part: u32, most: Usage) {
        let mut s = self.lock();
        s.reserved = minus(s.reserved, most);
        if let Some(r) = s.reserved_parts.get_mut(&part) {
            *r = minus(*r, most);
        }
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
            parts.push(format!("{} of {}", dollars(cost), dollars(cap)));
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

    #[test]
    fn requests_are_admitted_only_while_what_they_may_spend_fits() {
        let b = std::sync::Arc::new(Budget::new(
            Limits {
                tokens: Some(1_000),
                per_part_tokens: Some(700),
                ..Limits::default()
            },
            None,
            &BTreeMap::new(),
        ));
        let first = b.admit(1, u(200, 200)).unwrap();
        let second = b.admit(2, u(200, 200)).unwrap();
        // 800 reserved: a third request of 400 would pass the plan's 1,000.
        let why = b.admit(3, u(200, 200)).unwrap_err().0;
        assert!(
            why.contains("up to 400 tokens and 200 of 1.0k are left"),
            "{why}"
        );
        // A request that spent less than it might frees the rest.
        assert_eq!(first.settle(u(100, 50)).total(), 150);
        let third = b.admit(3, u(200, 200)).unwrap();
        // Dropped without a result (paused, failed): its reservation is freed, nothing counted.
        drop(second);
        drop(third);
        assert_eq!(b.plan().total(), 150);
        // PART 1 has 150 spent; 600 more would pass its 700.
        let why = b.admit(1, u(300, 300)).unwrap_err().0;
        assert!(why.contains("for this PART"), "{why}");
        assert!(
            b.admit(1, u(250, 300)).is_ok(),
            "exactly the cap is within it"
        );
    }
}
