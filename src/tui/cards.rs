//! The TUI's read model: one card per PART, built from the plan, the journal's history and the
//! supervisor's events. The screens only read it; only [`Cards::apply`] and the seeding change it.

use std::collections::{BTreeSet, HashSet};
use std::time::{Duration, Instant};

use crate::journal::Record;
use crate::plan::Plan;
use crate::runner::{Event, Level, What};
use crate::state::{RunnerState, Usage, moment, planned_state, time_of_day};

use super::logbuf::LogBuf;

/// One PART's card.
#[derive(Debug, Clone)]
pub struct Card {
    /// PART number.
    pub number: u32,
    /// The target's file stem.
    pub stem: String,
    /// The target path.
    pub target: String,
    /// EXPANSION number and title.
    pub expansion: Option<(u32, String)>,
    /// Current state.
    pub state: RunnerState,
    /// Step progress of the current step: `[done, total]`.
    pub step: Option<[usize; 2]>,
    /// Sources gathered so far.
    pub sources: usize,
    /// Lines of the draft, once drafted.
    pub lines: Option<usize>,
    /// When it last became active in this session.
    pub started: Option<Instant>,
    /// Time spent, frozen once settled (from the journal for earlier runs).
    pub elapsed: Duration,
    /// Why it failed or paused, when it did.
    pub message: String,
    /// The budget paused it: it waits for a person (more budget), not for its runner.
    pub budget_paused: bool,
    /// Model tokens used (and whether counted by expanse rather than the server).
    pub usage: Usage,
    /// Its log.
    pub log: LogBuf,
}

impl Card {
    /// Time active so far.
    pub fn elapsed_now(&self, now: Instant) -> Duration {
        match self.started {
            Some(t) if self.state.is_working() => self.elapsed + (now - t),
            _ => self.elapsed,
        }
    }

    /// Move to `state` (said with `message`; `budget_paused`: the budget's pause) at `now`: the
    /// clock runs while the runner works, not while it is paused or waits.
    fn enter(&mut self, state: RunnerState, message: &str, budget_paused: bool, now: Instant) {
        let was = self.state;
        if was.is_working()
            && !state.is_working()
            && let Some(t) = self.started.take()
        {
            self.elapsed += now - t;
        }
        if state.is_working() && self.started.is_none() {
            self.started = Some(now);
        }
        if state == RunnerState::Queued && was.is_settled() {
            self.lines = None;
            self.elapsed = Duration::ZERO;
        }
        if was != state && !matches!(state, RunnerState::Paused | RunnerState::Stalled) {
            self.step = None;
        }
        self.state = state;
        self.budget_paused = budget_paused;
        self.message = if matches!(state, RunnerState::Failed | RunnerState::Paused) {
            message.to_string()
        } else {
            String::new()
        };
    }

    /// Whether a spinner turns on this card.
    pub fn spinning(&self) -> bool {
        self.state.is_active() && self.state != RunnerState::Paused
    }
}

/// What applying an event changed that a front end reacts to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Nothing beyond the card itself.
    None,
    /// A draft arrived for this PART.
    DraftArrived(u32),
}

/// Every card, in plan order.
#[derive(Debug, Clone, Default)]
pub struct Cards {
    /// The cards.
    pub list: Vec<Card>,
    /// The PARTs this run covers (None: all).
    only: Option<BTreeSet<u32>>,
    /// The state records read from the journal, by their time and state: the live run's event
    /// for one of them was already shown from the journal, and is not applied again.
    journalled: HashSet<(u32, String, RunnerState)>,
}

impl Cards {
    /// The cards of `plan`'s PARTs (those in `only`, when given), each as the plan leaves it
    /// until events arrive.
    pub fn new(plan: &Plan, only: Option<BTreeSet<u32>>) -> Cards {
        let mut cards = Cards {
            list: Vec::new(),
            only,
            journalled: Default::default(),
        };
        cards.merge_plan(plan);
        cards
    }

    /// Add cards for PARTs the plan gained (within `only`); returns how many were added.
    pub fn merge_plan(&mut self, plan: &Plan) -> usize {
        let mut added = 0;
        for p in &plan.parts {
            if self.index_of(p.number).is_some()
                || self.only.as_ref().is_some_and(|o| !o.contains(&p.number))
            {
                continue;
            }
            added += 1;
            self.list.push(Card {
                number: p.number,
                stem: p.stem().to_string(),
                target: p.target.clone(),
                expansion: p.expansion.as_ref().map(|e| (e.number, e.title.clone())),
                state: planned_state(p),
                step: None,
                sources: 0,
                lines: None,
                started: None,
                elapsed: Duration::ZERO,
                message: String::new(),
                budget_paused: false,
                usage: Usage::default(),
                log: LogBuf::default(),
            });
        }
        added
    }

    /// The index of PART `n`'s card.
    pub fn index_of(&self, n: u32) -> Option<usize> {
        self.list.iter().position(|c| c.number == n)
    }

    /// PART `n`'s card.
    pub fn get(&self, n: u32) -> Option<&Card> {
        self.list.iter().find(|c| c.number == n)
    }

    fn get_mut(&mut self, n: u32) -> Option<&mut Card> {
        self.list.iter_mut().find(|c| c.number == n)
    }

    /// Whether a runner is working or queued: `P` then pauses every runner, and with none it
    /// resumes every paused one.
    pub fn any_running(&self) -> bool {
        self.list.iter().any(|c| {
            (c.state.is_active() && c.state != RunnerState::Paused)
                || c.state == RunnerState::Queued
        })
    }

    /// Runners doing work or queued for it (paused ones are not).
    pub fn active(&self) -> usize {
        self.list
            .iter()
            .filter(|c| c.state.is_working() || c.state == RunnerState::Queued)
            .count()
    }

    /// Runners paused (by a person or a budget).
    pub fn paused(&self) -> usize {
        self.list
            .iter()
            .filter(|c| c.state == RunnerState::Paused)
            .count()
    }

    /// PARTs whose draft awaits review.
    pub fn in_review(&self) -> Vec<u32> {
        self.list
            .iter()
            .filter(|c| c.state == RunnerState::Review)
            .map(|c| c.number)
            .collect()
    }

    /// The whole plan's model usage.
    pub fn usage(&self) -> Usage {
        let mut total = Usage::default();
        for c in &self.list {
            total.add(c.usage);
        }
        total
    }

    /// What the journal holds: each card's state as the journal leaves it, and in its log what
    /// earlier runs did (a re-run must not make a PART look as if it had done nothing) and, from
    /// `since` (when the live run began), what it did before this screen attached.
    pub fn seed(&mut self, records: &[Record], since: &str) {
        let mut fetched: HashSet<(u32, &str)> = HashSet::new();
        // The header each PART's log shows last: false for earlier runs, true for this one.
        let mut headed: std::collections::HashMap<u32, bool> = Default::default();
        let mut journalled = HashSet::new();
        let since = moment(since);
        // Each PART's last record of the runner's: when, and whether work went on after it.
        let mut last: std::collections::HashMap<u32, (Moment, bool)> = Default::default();
        // In the order things happened: a state event is journalled by the supervisor a moment
        // after the runner's own records ("draft ready" came before "→ writing"). Each time is
        // read once.
        let mut ordered: Vec<(Option<Moment>, &Record)> =
            records.iter().map(|r| (moment(r.ts()), r)).collect();
        ordered.sort_by_key(|(at, _)| *at);
        for (at, r) in ordered {
            let n = r.part();
            let Some(card) = self.get_mut(n) else {
                continue;
            };
            let ts = r.ts();
            let this_run = since.is_some() && at >= since;
            if headed.get(&n) != Some(&this_run) {
                headed.insert(n, this_run);
                let header = if this_run {
                    "── this run, before this screen attached ──"
                } else {
                    "── earlier runs, from the journal ──"
                };
                card.log.push("", Level::Info, header);
            }
            // Time spent is the time at work, not the time between runs: a gap between two of
            // the runner's records counts when the first says work went on, and not when the
            // second starts the PART again (a new run, a retry) or the live run began in
            // between. A person's records (notes, edits, decisions) and a run's estimate
            // neither end nor start a gap.
            if let (Some(at), Some(working)) = (at, work(r)) {
                let starts_again = matches!(
                    r,
                    Record::State {
                        state: RunnerState::Queued,
                        ..
                    }
                );
                if let Some((before, true)) = last.get(&n)
                    && !starts_again
                    && !(since.is_some_and(|s| *before < s && at >= s))
                {
                    card.elapsed += (at - *before).to_std().unwrap_or_default();
                }
                last.insert(n, (at, working));
            }
            let time = time_of_day(ts);
            let line = match r {
                Record::State { state, message, .. } => {
                    // The live run's event for this record may come too: it is not shown twice.
                    if this_run {
                        journalled.insert((n, ts.to_string(), *state));
                    }
                    Some(state_line(*state, message.as_deref().unwrap_or("")))
                }
                Record::Searched { query, hits, .. } => Some(format!(
                    "search \"{query}\" → {}",
                    crate::words::plural(*hits, "hit")
                )),
                Record::Fetched { url, bytes, .. } => {
                    if fetched.insert((n, url.as_str())) {
                        card.sources += 1;
                    }
                    Some(format!(
                        "fetch {url} → {}",
                        crate::words::human_bytes(*bytes)
                    ))
                }
                Record::Drafted { lines, sources, .. } => {
                    card.lines = Some(*lines);
                    card.sources = *sources;
                    Some(format!(
                        "draft ready: {}, {}",
                        crate::words::plural(*lines, "line"),
                        crate::words::plural(*sources, "source")
                    ))
                }
                Record::Rejected {
                    reason, requeue, ..
                } => Some(format!(
                    "rejected{}{}",
                    reason
                        .as_deref()
                        .map(|r| format!(": {r}"))
                        .unwrap_or_default(),
                    if *requeue { " (written again)" } else { "" }
                )),
                Record::Usage {
                    prompt_tokens,
                    completion_tokens,
                    estimated,
                    ..
                } => {
                    card.usage.add(Usage {
                        prompt_tokens: *prompt_tokens,
                        completion_tokens: *completion_tokens,
                        estimated: *estimated,
                    });
                    None
                }
                Record::Estimated { low, high, .. } => Some(format!(
                    "estimated {}–{} tokens for its model requests",
                    crate::words::compact(*low),
                    crate::words::compact(*high)
                )),
                Record::Section {
                    index, title, text, ..
                } => Some(format!(
                    "section {} \"{title}\" written: {}",
                    index + 1,
                    crate::words::plural(text.lines().count(), "line")
                )),
                Record::Regenerate {
                    section, reason, ..
                } => Some(match section {
                    Some(k) => format!("section {} asked for again: {reason}", k + 1),
                    None => format!("every section asked for again: {reason}"),
                }),
                Record::Edited { lines, drop, .. } => Some(format!(
                    "{} edited by the reviewer ({})",
                    if *drop { "drop" } else { "draft" },
                    crate::words::plural(*lines, "line")
                )),
                Record::Approval {
                    step: crate::journal::ApprovalStep::Done,
                    ..
                } => Some("approved".to_string()),
                Record::Undo {
                    step: crate::journal::UndoStep::Done,
                    ..
                } => Some(crate::state::APPROVAL_UNDONE.to_string()),
                Record::Noted { text, .. } if text.is_empty() => Some("notes cleared".into()),
                Record::Noted { text, .. } => Some(format!("note: {text}")),
                Record::Approval { .. } | Record::Undo { .. } => None,
            };
            if let Some(line) = line {
                card.log.push(time, Level::Info, &line);
            }
        }
        self.journalled = journalled;
        // Where each PART stands, as the journal leaves it.
        let now = Instant::now();
        for (n, s) in crate::journal::replay(records) {
            if let (Some(card), Some(state)) = (self.get_mut(n), s.state) {
                card.enter(
                    state,
                    s.message.as_deref().unwrap_or(""),
                    s.budget_paused,
                    now,
                );
            }
        }
    }

    /// Apply one event of the supervisor to its card.
    pub fn apply(&mut self, e: &Event) -> Change {
        let Some(n) = e.part else {
            return Change::None;
        };
        // Journalled before this screen read the journal, and shown from it already (its time
        // and state are a record's: the journal stamps a state with its event's time). Each
        // comes once, so the set empties as they do.
        if let Some(state) = e.state_now()
            && !self.journalled.is_empty()
            && self.journalled.remove(&(n, e.ts.clone(), state))
        {
            return Change::None;
        }
        let Some(card) = self.get_mut(n) else {
            return Change::None;
        };
        let counts = e.counts();
        if let Some(step) = counts.step {
            card.step = Some(step);
        }
        if let Some(s) = counts.sources {
            card.sources = s;
        }
        if let Some(u) = counts.usage {
            card.usage = u;
        }
        if let Some(state) = e.state_now() {
            card.enter(
                state,
                &e.message,
                e.cause() == Some(crate::runner::Cause::Budget),
                Instant::now(),
            );
            let level = if state == RunnerState::Failed {
                Level::Error
            } else {
                Level::Info
            };
            card.log
                .push(time_of_day(&e.ts), level, &state_line(state, &e.message));
            if let What::Draft { lines, .. } = e.what {
                card.lines = Some(lines);
                return Change::DraftArrived(n);
            }
            return Change::None;
        }
        card.log.push(
            time_of_day(&e.ts),
            e.level().unwrap_or(Level::Info),
            &e.message,
        );
        if matches!(e.what, What::Error { .. }) {
            card.message = e.message.clone();
        }
        Change::None
    }

    /// Record a draft's new line count after an edit.
    pub fn set_lines(&mut self, n: u32, lines: usize) {
        if let Some(c) = self.get_mut(n) {
            c.lines = Some(lines);
        }
    }
}

/// An instant of the journal's clock.
type Moment = chrono::DateTime<chrono::FixedOffset>;

/// For a record of the runner's own (a state, a search, a fetch, a section and its tokens, a
/// draft): whether its PART was at work after it. None for a person's records (notes, edits,
/// decisions), a run's estimate and a review's tokens.
fn work(r: &Record) -> Option<bool> {
    match r {
        Record::State { state, .. } => Some(state.is_working()),
        Record::Searched { .. }
        | Record::Fetched { .. }
        | Record::Section { .. }
        | Record::Usage {
            section: Some(_), ..
        } => Some(true),
        Record::Drafted { .. } => Some(false),
        _ => None,
    }
}

/// `→ review: draft ready` (the message left out when it only repeats the state).
fn state_line(state: RunnerState, message: &str) -> String {
    if message.is_empty() || message == state.name() {
        format!("→ {state}")
    } else {
        format!("→ {state}: {message}")
    }
}

#[cfg(test)]
mod tests;
