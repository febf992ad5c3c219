//! The supervisor's decisions as one machine: every input (a runner's report or its end, a
//! person's command, a review's answer, the ticker) at a given instant becomes the effects the
//! async loop performs, in order. It holds the state of every PART in the run, does no IO and
//! reads no clock, so it is tested as plain data.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use tokio::time::Instant;

use super::super::driver::Outcome;
use super::super::event::{Command, Event, Level, Target};
use super::reactions::{self, Held, Resume};
use super::stalls;
use crate::journal::FinishedSection;
use crate::plan::{Part, Plan};
use crate::review::{Approved, Seen};
use crate::state::{PartStatus, RunnerState, after_plan_edit, initial_state};

mod messages;
pub(super) use messages::{Answer, Asked, Decision, DraftFile, Effect, Input, Setup, Start};

/// One PART as the run holds it.
#[derive(Debug, Clone)]
struct Slot {
    state: RunnerState,
    /// The state a stall interrupted.
    before_stall: Option<RunnerState>,
    /// The step a pause interrupted, shown again on resume.
    before_pause: Option<RunnerState>,
    /// Why the budget paused it (its runner has ended; resume starts it again).
    budget_paused: Option<String>,
    last_progress: Instant,
    /// Its runner's task is alive: `Some(true)` while a pause holds it.
    runner: Option<bool>,
}

impl Slot {
    fn new(state: RunnerState, now: Instant) -> Slot {
        Slot {
            state,
            before_stall: None,
            before_pause: None,
            budget_paused: None,
            last_progress: now,
            runner: None,
        }
    }

    /// Nothing more happens without the user (or more budget).
    fn settled(&self) -> bool {
        crate::state::waits_for_a_person(self.state, self.budget_paused.is_some())
    }
}

/// The run's PARTs and every decision about them.
#[derive(Debug)]
pub(super) struct Machine {
    setup: Setup,
    slots: BTreeMap<u32, Slot>,
    /// Runners waiting for a task (a queued PART costs a few bytes, not a task).
    waiting: VecDeque<Start>,
    /// The PARTs in `waiting`, so that asking whether one waits is not a walk of the queue (a
    /// pause of every PART asks it of each of thousands).
    queued: BTreeSet<u32>,
    /// PARTs whose runner task is alive.
    running: BTreeSet<u32>,
    /// Review operations asked for and not yet answered.
    pending: usize,
    /// Some PART worked since the run last said every PART had settled.
    unsettled: bool,
}

impl Machine {
    /// A machine with no PART yet.
    pub fn new(setup: Setup) -> Machine {
        Machine {
            setup,
            slots: BTreeMap::new(),
            waiting: VecDeque::new(),
            queued: BTreeSet::new(),
            running: BTreeSet::new(),
            pending: 0,
            unsettled: false,
        }
    }

    /// Take in one PART of the plan as the journal (`status`) and its draft file leave it. Nothing starts before [`Input::Begin`].
    pub fn seed(
        &mut self,
        part: &Part,
        status: Option<&PartStatus>,
        draft: DraftFile,
        resume: BTreeMap<usize, FinishedSection>,
        now: Instant,
    ) -> Vec<Effect> {
        let n = part.number;
        let has_draft = draft == DraftFile::Present;
        let mut state = initial_state(part.done, status, has_draft, self.setup.redo);
        let mut why = match state {
            RunnerState::Done => "the plan marks it complete (use --redo to run it again)",
            RunnerState::Review => "a draft from an earlier run awaits review",
            RunnerState::Approved => "approved in an earlier run",
            RunnerState::Skipped => "rejected earlier without requeue",
            _ => "",
        }
        .to_string();
        let mut damaged = false;
        if let DraftFile::Unreadable(e) = &draft
            && state == RunnerState::Queued
        {
            // A damaged draft is not silently overwritten: the PART says why and waits for R.
            state = RunnerState::Failed;
            why = format!(
                "{e}; move the file away and press R (or run with --redo) to write it again"
            );
            damaged = true;
        }
        self.slots.insert(n, Slot::new(state, now));
        let mut out = Vec::new();
        self.say(Event::state(n, state, why), &mut out);
        if damaged {
            return out;
        }
        // --approve-all keeps its word for drafts an earlier run left: clean ones are approved,
        // the others stay and say why.
        if state == RunnerState::Review && self.setup.approve_all {
            self.decide(unattended(n), &mut out);
        }
        if state == RunnerState::Queued {
            let (feedback, only_section) = status.map_or((None, None), |s| s.asked_again());
            let start = Start {
                n,
                asked: Asked::Given {
                    feedback,
                    only_section,
                },
                resume: Some(resume),
            };
            self.start(start, now);
        }
        out
    }

    /// What `input` at `now` leads to. Waiting runners start when a task is free, and the run
    /// says once that every PART has settled.
    pub fn handle(&mut self, input: Input, now: Instant) -> Vec<Effect> {
        let mut out = Vec::new();
        match input {
            Input::Begin => {}
            Input::Report(event) => self.report(event, now, &mut out),
            Input::Ended(n, outcome) => self.ended(n, outcome, &mut out),
            Input::Command(cmd) => self.command(cmd, now, &mut out),
            Input::PlanEdited { plan, recorded } => {
                self.plan_edited(plan, &recorded, now, &mut out)
            }
            Input::Decided(decision, answer) => self.decided(decision, answer, now, &mut out),
            Input::Tick => self.tick(now, &mut out),
        }
        self.spawn_waiting(now, &mut out);
        self.say_settled(&mut out);
        out
    }

    /// No runner is alive, no decision is under way and every PART has settled.
    pub fn settled(&self) -> bool {
        self.running.is_empty() && self.pending == 0 && self.slots.values().all(Slot::settled)
    }

    /// Whether the run ends once every PART has settled.
    pub fn exits_when_settled(&self) -> bool {
        self.setup.exit_when_settled
    }

    /// Whether something works, so the ticker is worth waking for.
    pub fn watching(&self) -> bool {
        self.slots.values().any(|s| s.state.is_active())
    }

    /// Every PART's state now.
    pub fn states(&self) -> BTreeMap<u32, RunnerState> {
        self.slots.iter().map(|(n, s)| (*n, s.state)).collect()
    }

    /// The PARTs the budget paused, with why.
    pub fn budget_paused(&self) -> BTreeMap<u32, String> {
        self.slots
            .iter()
            .filter_map(|(n, s)| s.budget_paused.clone().map(|w| (*n, w)))
            .collect()
    }

    /// Pass `event` on; a state it carries for a PART of the run becomes that PART's state (the
    /// one place the run's states change) and is journalled, unless it is a stall (a passing
    /// observation, not worth replaying after a restart).
    fn say(&mut self, event: Event, out: &mut Vec<Effect>) {
        let mut journal = false;
        if let (Some(n), Some(state)) = (event.part, event.state_now())
            && let Some(slot) = self.slots.get_mut(&n)
        {
            slot.state = state;
            journal = state != RunnerState::Stalled;
        }
        out.push(Effect::Emit { event, journal });
    }

    fn decide(&mut self, decision: Decision, out: &mut Vec<Effect>) {
        self.pending += 1;
        out.push(Effect::Review(decision));
    }

    fn held(&self, n: u32, slot: &Slot) -> Held {
        Held {
            state: slot.state,
            before_stall: slot.before_stall,
            before_pause: slot.before_pause,
            has_runner: slot.runner.is_some(),
            waiting: self.queued.contains(&n),
            budget_paused: slot.budget_paused.is_some(),
        }
    }

    fn report(&mut self, event: Event, now: Instant, out: &mut Vec<Effect>) {
        let part = event.part;
        let Some(slot) = part.and_then(|n| self.slots.get_mut(&n)) else {
            self.say(event, out);
            return;
        };
        let r =
            reactions::runner_event(slot.state, slot.before_stall, event, self.setup.approve_all);
        slot.last_progress = now;
        slot.before_stall = None;
        if r.before_pause.is_some() {
            slot.before_pause = r.before_pause;
        }
        for e in r.forward {
            self.say(e, out);
        }
        if r.approve
            && let Some(n) = part
        {
            self.decide(unattended(n), out);
        }
    }

    fn ended(&mut self, n: u32, outcome: Outcome, out: &mut Vec<Effect>) {
        self.running.remove(&n);
        let (said, budget_paused) = reactions::outcome(n, outcome);
        if let Some(slot) = self.slots.get_mut(&n) {
            slot.runner = None;
            if budget_paused.is_some() {
                slot.budget_paused = budget_paused;
            }
        }
        for e in said {
            self.say(e, out);
        }
    }

    fn command(&mut self, cmd: Command, now: Instant, out: &mut Vec<Effect>) {
        match cmd {
            Command::Pause(t) => self.pause(t, out),
            Command::Resume(t) => self.resume(t, now, out),
            Command::Retry(n) => self.restart(n, Asked::NOTHING, "retry", now, out),
            Command::Cancel(t) => {
                self.cancel_runners(t, out);
                // Runners that never started end here.
                let (gone, kept): (Vec<Start>, Vec<Start>) =
                    self.waiting.drain(..).partition(|w| t.includes(w.n));
                self.waiting = kept.into();
                for w in gone {
                    self.queued.remove(&w.n);
                    self.say(Event::state(w.n, RunnerState::Skipped, "cancelled"), out);
                }
            }
            Command::Shutdown => self.cancel_runners(Target::All, out),
            Command::Approve { part, seen, hunks } => self.decide(
                Decision::Approve {
                    n: part,
                    only_if_clean: false,
                    seen,
                    hunks,
                },
                out,
            ),
            Command::Reject {
                part,
                reason,
                requeue,
            } => self.decide(
                Decision::Reject {
                    n: part,
                    reason,
                    requeue,
                },
                out,
            ),
            Command::Undo(n) => self.decide(Decision::Undo(n), out),
            Command::Regenerate {
                part,
                section,
                reason,
            } => self.decide(
                Decision::Regenerate {
                    n: part,
                    section,
                    reason,
                },
                out,
            ),
            Command::Note { part, text } => {
                if self.slots.contains_key(&part) {
                    out.push(Effect::Note(part, text.trim().to_string()));
                } else {
                    let why = format!("no PART {part} in this run: the note was not given");
                    self.say(Event::log(Some(part), Level::Warn, why), out);
                }
            }
            // Without the journal's view a plan edit still adds PARTs and marks ticks by hand.
            Command::UpdatePlan(plan) => self.plan_edited(*plan, &BTreeMap::new(), now, out),
            Command::EndWhenSettled => self.setup.exit_when_settled = true,
            Command::StayWhenSettled => self.setup.exit_when_settled = false,
        }
    }

    fn cancel_runners(&mut self, target: Target, out: &mut Vec<Effect>) {
        for n in &self.running {
            if target.includes(*n) {
                out.push(Effect::Cancel(*n));
            }
        }
    }

    /// A plan edited while running: new PARTs (within --only, if given) are run, PARTs ticked
    /// by hand that are not active become done, PARTs another command approved are approved.
    fn plan_edited(
        &mut self,
        plan: Plan,
        recorded: &BTreeMap<u32, RunnerState>,
        now: Instant,
        out: &mut Vec<Effect>,
    ) {
        for part in plan.parts {
            let n = part.number;
            match self.slots.get(&n).map(|s| s.state) {
                None if self.setup.only.as_ref().is_none_or(|o| o.contains(&n)) => {
                    self.slots.insert(n, Slot::new(RunnerState::Queued, now));
                    out.push(Effect::Adopt(Box::new(part)));
                    self.say(
                        Event::state(n, RunnerState::Queued, "added to the plan"),
                        out,
                    );
                    let start = Start {
                        n,
                        asked: Asked::NOTHING,
                        resume: None,
                    };
                    self.start(start, now);
                }
                Some(state) => {
                    let journal = recorded.get(&n).copied();
                    if let Some((next, why)) = after_plan_edit(state, part.done, journal) {
                        self.say(Event::state(n, next, why), out);
                    }
                }
                None => {}
            }
        }
    }

    fn decided(&mut self, decision: Decision, answer: Answer, now: Instant, out: &mut Vec<Effect>) {
        self.pending = self.pending.saturating_sub(1);
        let n = decision.part();
        match (decision, answer) {
            (_, Answer::Refused(refusal, message)) => {
                self.say(Event::refused(n, refusal, message), out);
            }
            (Decision::Approve { only_if_clean, .. }, Answer::Approved(a)) => {
                self.approved(n, only_if_clean, a, out)
            }
            (Decision::Approve { .. }, Answer::NotClean(reasons)) => {
                let why = format!("left for review, not clean: {}", reasons.join("; "));
                self.say(Event::log(Some(n), Level::Warn, why), out);
            }
            (
                Decision::Reject {
                    reason, requeue, ..
                },
                Answer::Done,
            ) if requeue => {
                let why = format!(
                    "rejected, written again with your reason: {}",
                    reason.clone().unwrap_or_default()
                );
                self.say(Event::state(n, RunnerState::Rejected, why), out);
                let asked = Asked::Given {
                    feedback: reason.or(Some(String::new())),
                    only_section: None,
                };
                self.restart(n, asked, "requeued with the reviewer's reason", now, out);
            }
            (Decision::Reject { reason, .. }, Answer::Done) => {
                let why = format!("rejected: {}", reason.unwrap_or_default());
                self.say(Event::state(n, RunnerState::Skipped, why), out);
            }
            (Decision::Undo(_), Answer::Undone(what)) => {
                self.say(
                    Event::log(Some(n), Level::Info, format!("undone: {what}")),
                    out,
                );
                self.say(Event::undone(n), out);
            }
            (
                Decision::Regenerate {
                    section, reason, ..
                },
                Answer::Done,
            ) => {
                let what = match section {
                    Some(k) => format!("section {} asked for again: {reason}", k + 1),
                    None => format!("every section asked for again: {reason}"),
                };
                self.say(Event::state(n, RunnerState::Rejected, what), out);
                let asked = Asked::Given {
                    feedback: Some(reason),
                    only_section: section,
                };
                self.restart(n, asked, "writing again", now, out);
            }
            // An answer that does not fit its question comes from no review operation.
            _ => {}
        }
    }

    fn approved(&mut self, n: u32, only_if_clean: bool, a: Approved, out: &mut Vec<Effect>) {
        if a.unchanged {
            let ticked = if a.ticked {
                " (the plan is ticked)"
            } else {
                ""
            };
            let why = format!(
                "{} already holds this text: nothing new was written{ticked}",
                a.file
            );
            self.say(Event::log(Some(n), Level::Info, why), out);
        } else {
            let wrote = format!("wrote {}", a.file);
            self.say(Event::written(n, a.file.clone(), wrote), out);
        }
        if let Some(drop) = &a.drop {
            self.say(
                Event::written(n, drop.clone(), format!("wrote {drop}")),
                out,
            );
        }
        let why = if only_if_clean {
            "checklist clean (--approve-all)"
        } else if a.unchanged {
            "unchanged"
        } else {
            ""
        };
        self.say(Event::state(n, RunnerState::Approved, why), out);
    }

    /// Start PART `n`'s runner again (a retry, a requeue, a regeneration, a resume after the
    /// budget), unless it may not.
    fn restart(&mut self, n: u32, asked: Asked, why: &str, now: Instant, out: &mut Vec<Effect>) {
        let held = self.slots.get(&n).map(|slot| self.held(n, slot));
        if let Some(refused) = reactions::restart_refused(n, held) {
            self.say(Event::log(Some(n), Level::Warn, refused), out);
            return;
        }
        self.say(Event::state(n, RunnerState::Queued, why), out);
        let start = Start {
            n,
            asked,
            resume: None,
        };
        self.start(start, now);
    }

    fn start(&mut self, start: Start, now: Instant) {
        if let Some(slot) = self.slots.get_mut(&start.n) {
            slot.last_progress = now;
            slot.before_stall = None;
            slot.budget_paused = None;
        }
        self.queued.insert(start.n);
        self.waiting.push_back(start);
    }

    /// Start waiting runners while fewer than `jobs` work (paused ones do not count).
    fn spawn_waiting(&mut self, now: Instant, out: &mut Vec<Effect>) {
        while !self.waiting.is_empty() {
            if self.running.len() >= self.setup.jobs {
                // Paused runners hold no task: count them only when it matters.
                let paused = self
                    .running
                    .iter()
                    .filter(|n| self.slots.get(n).is_some_and(|s| s.runner == Some(true)))
                    .count();
                if self.running.len() - paused >= self.setup.jobs {
                    return;
                }
            }
            // A PART paused before it got a task waits for its resume.
            let Some(i) = self.waiting.iter().position(|w| {
                self.slots
                    .get(&w.n)
                    .is_none_or(|s| s.state != RunnerState::Paused)
            }) else {
                return;
            };
            let Some(start) = self.waiting.remove(i) else {
                return;
            };
            self.queued.remove(&start.n);
            if let Some(slot) = self.slots.get_mut(&start.n) {
                slot.runner = Some(false);
                slot.last_progress = now;
                slot.before_pause = None;
            }
            self.running.insert(start.n);
            out.push(Effect::Spawn(start));
        }
    }

    /// Pause at once: the card says so now; the runner drops what it has in flight.
    fn pause(&mut self, target: Target, out: &mut Vec<Effect>) {
        let decided: Vec<(u32, RunnerState)> = self
            .slots
            .iter()
            .filter(|(n, _)| target.includes(**n))
            .filter_map(|(n, slot)| reactions::pause(self.held(*n, slot)).map(|step| (*n, step)))
            .collect();
        for &(n, step) in &decided {
            if let Some(slot) = self.slots.get_mut(&n) {
                if slot.runner.is_some() {
                    slot.runner = Some(true);
                    out.push(Effect::Hold(n, true));
                }
                slot.before_pause = Some(step);
            }
        }
        for (n, _) in decided {
            self.say(Event::state(n, RunnerState::Paused, "paused by you"), out);
        }
    }

    /// Resume where each runner stopped; a PART the budget paused starts again (and pauses
    /// again at once if the budget is still reached).
    fn resume(&mut self, target: Target, now: Instant, out: &mut Vec<Effect>) {
        let decided: Vec<(u32, Resume)> = self
            .slots
            .iter()
            .filter(|(n, _)| target.includes(**n))
            .map(|(n, slot)| (*n, reactions::resume(self.held(*n, slot))))
            .collect();
        let mut restart = Vec::new();
        for (n, what) in decided {
            match what {
                Resume::Leave => {}
                Resume::Restart => restart.push(n),
                Resume::GoOn(step) => {
                    if let Some(slot) = self.slots.get_mut(&n) {
                        if slot.runner.is_some() {
                            slot.runner = Some(false);
                            slot.last_progress = now;
                            out.push(Effect::Hold(n, false));
                        }
                        slot.before_pause = None;
                    }
                    self.say(Event::state(n, step, "resumed"), out);
                }
            }
        }
        // A budget-paused PART resumes with what it was asked for when it started: a
        // regeneration's reason and section, or a requeued rejection's reason.
        for n in restart {
            self.restart(n, Asked::Journal, "resumed", now, out);
        }
    }

    fn tick(&mut self, now: Instant, out: &mut Vec<Effect>) {
        let watched = self.slots.iter().map(|(n, s)| stalls::Watched {
            part: *n,
            state: s.state,
            running: s.runner == Some(false),
            last_progress: s.last_progress,
        });
        let stalled = stalls::stalled(watched, now, self.setup.stall_after);
        for (n, prev, secs) in stalled {
            if let Some(slot) = self.slots.get_mut(&n) {
                slot.before_stall = Some(prev);
            }
            let why = format!("no progress for {secs} s while {prev}");
            self.say(Event::state(n, RunnerState::Stalled, why), out);
        }
        // Only runners at work take notes (a held one takes them as it starts again): one
        // journal read each, for at most `jobs` of them.
        let working: Vec<u32> = self
            .running
            .iter()
            .filter(|n| self.slots.get(n).is_some_and(|s| s.runner == Some(false)))
            .copied()
            .collect();
        if !working.is_empty() {
            out.push(Effect::SyncNotes(working));
        }
    }

    /// Once every PART has settled after work (approvals by --approve-all done too), say so
    /// once: the run's "finished", for notices and attached terminals. A decision under way is
    /// waited for: its answer says whether the run has settled.
    fn say_settled(&mut self, out: &mut Vec<Effect>) {
        if self.pending > 0 {
            return;
        }
        if !self.settled() {
            self.unsettled = true;
            return;
        }
        if !self.unsettled {
            return;
        }
        self.unsettled = false;
        let list = crate::state::tally(self.slots.values().map(|s| s.state));
        self.say(
            Event::settled(format!("every PART has settled: {list}")),
            out,
        );
    }
}

/// `--approve-all`'s approval of PART `n`: only a clean draft, nobody saw it.
fn unattended(n: u32) -> Decision {
    Decision::Approve {
        n,
        only_if_clean: true,
        seen: Seen::Unattended,
        hunks: None,
    }
}

#[cfg(test)]
mod tests;
