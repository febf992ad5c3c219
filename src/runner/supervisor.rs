//! The supervisor: starts one runner per selected PART under a concurrency limit, routes commands
//! to them, forwards their events on the one bounded channel, and notices stalls.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

// The tokio clock, so tests may pause it.
use tokio::time::Instant;

use futures_util::FutureExt as _;
use std::panic::AssertUnwindSafe;
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

mod decisions;
mod holds;
mod reactions;
mod stalls;

use super::budget::{Budget, Limits, Prices};
use super::driver::{Outcome, RunnerCtx, run_part};
use super::event::{Cause, Command, Event, Level, Refusal, Target};
use crate::journal::{Cache, Journal, Record, finished_sections, finished_sections_all, replay};
use crate::plan::{Part, Plan};
use crate::research::Providers;
use crate::review::{AutoApproval, Review, ReviewError, Seen};
use crate::state::RunnerState;
use crate::state::{after_plan_edit, initial_state};
use crate::workspace::Workspace;

/// Runners at once when `--jobs` is not given: every PART of a plan of usual size, while a plan
/// of thousands of PARTs keeps its memory bounded (a waiting runner costs little, a working one
/// holds its pages and passages).
pub const DEFAULT_MAX_JOBS: usize = 64;

/// How a run is shaped.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Runners at once (None: every PART at once, at most [`DEFAULT_MAX_JOBS`]).
    pub jobs: Option<usize>,
    /// Only these PARTs (None: all).
    pub only: Option<BTreeSet<u32>>,
    /// Run PARTs the plan marks done.
    pub redo: bool,
    /// No progress for this long makes an active runner `stalled`.
    pub stall_after: Duration,
    /// End the supervisor when every selected PART has settled (headless); otherwise it waits
    /// for commands until `Shutdown` or until every command sender is gone.
    pub exit_when_settled: bool,
    /// Approve each draft whose checklist is clean as soon as it arrives.
    pub approve_all: bool,
    /// Caps on model spending.
    pub budget: Limits,
    /// Model prices, for costs and dollar budgets.
    pub prices: Option<Prices>,
    /// The model's second opinion on doubtful claims (`[review] verify = "model"`).
    pub second_opinion: Option<crate::review::opinion::Judge>,
    /// The most one page may take, retries included.
    pub page_deadline: Duration,
    /// Which sites may be fetched (`[sources]` and the plan's `**Sources**:` line).
    pub sources: crate::sources::SourcePolicy,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            jobs: None,
            only: None,
            redo: false,
            stall_after: Duration::from_secs(60),
            exit_when_settled: true,
            approve_all: false,
            budget: Limits::default(),
            prices: None,
            second_opinion: None,
            page_deadline: super::driver::PAGE_DEADLINE,
            sources: crate::sources::SourcePolicy::default(),
        }
    }
}

/// What a run needs besides its options.
pub struct RunContext {
    /// The plan.
    pub plan: Plan,
    /// Where the plan file is (approvals tick it).
    pub plan_path: PathBuf,
    /// The workspace.
    pub workspace: Workspace,
    /// The providers.
    pub providers: Providers,
    /// The plan's journal.
    pub journal: Arc<Journal>,
    /// The shared cache.
    pub cache: Arc<Cache>,
}

/// The final state of every selected PART.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Summary {
    /// PART number -> state at the end.
    pub states: BTreeMap<u32, RunnerState>,
    /// PARTs paused because the model budget was reached, with why.
    pub budget_paused: BTreeMap<u32, String>,
    /// The budget's last word (`budget: 12.3k of 50.0k tokens used`), when one was set.
    pub budget: Option<String>,
    /// The plan's model usage, all runs included.
    pub usage: crate::state::Usage,
}

impl Summary {
    /// How many PARTs ended in `state`.
    pub fn count(&self, state: RunnerState) -> usize {
        self.states.values().filter(|&&s| s == state).count()
    }
}

struct Slot {
    state: RunnerState,
    before_stall: Option<RunnerState>,
    /// The state a pause interrupted, shown again on resume.
    before_pause: Option<RunnerState>,
    /// Why the budget paused it (its runner has ended; resume starts it again).
    budget_paused: Option<String>,
    last_progress: Instant,
    pause: Option<watch::Sender<bool>>,
    cancel: Option<CancellationToken>,
    /// A person's notes to the runner, read as each section starts.
    notes: Arc<std::sync::Mutex<Vec<String>>>,
}

impl Slot {
    fn new(state: RunnerState) -> Slot {
        Slot {
            state,
            before_stall: None,
            before_pause: None,
            budget_paused: None,
            last_progress: Instant::now(),
            pause: None,
            cancel: None,
            notes: Arc::default(),
        }
    }

    /// Nothing more happens without the user (or more budget).
    fn settled(&self) -> bool {
        self.state.is_settled() || self.budget_paused.is_some()
    }
}

/// Start the supervisor. Commands go in through the returned sender; events come out on `events`.
pub fn spawn(
    ctx: RunContext,
    options: RunOptions,
    events: mpsc::Sender<Event>,
) -> (mpsc::Sender<Command>, tokio::task::JoinHandle<Summary>) {
    let (cmd_tx, cmd_rx) = mpsc::channel(64);
    let handle = tokio::spawn(supervise(ctx, options, events, cmd_rx));
    (cmd_tx, handle)
}

struct Supervisor {
    ctx: Arc<RunContext>,
    /// The plan as last read (grows when PARTs are added while running).
    plan: Plan,
    options: RunOptions,
    out: mpsc::Sender<Event>,
    internal: mpsc::Sender<Event>,
    permits: Arc<Semaphore>,
    /// Runners working at once.
    jobs: usize,
    budget: Arc<Budget>,
    slots: BTreeMap<u32, Slot>,
    tasks: JoinSet<(u32, Outcome)>,
    /// Runners waiting for a task: a queued PART costs a few bytes, not a task's whole state,
    /// so a plan of 50,000 PARTs stays small.
    waiting: std::collections::VecDeque<Waiting>,
    /// PARTs whose runner task is alive.
    running: BTreeSet<u32>,
    /// Some PART worked since the run last said every PART had settled.
    unsettled: bool,
}

/// A runner to start once a task is free.
struct Waiting {
    n: u32,
    feedback: Option<String>,
    only_section: Option<usize>,
    resume: BTreeMap<usize, crate::journal::FinishedSection>,
}

async fn supervise(
    ctx: RunContext,
    options: RunOptions,
    out: mpsc::Sender<Event>,
    mut commands: mpsc::Receiver<Command>,
) -> Summary {
    let (internal, mut from_runners) = mpsc::channel::<Event>(1024);
    let selected: Vec<Part> = ctx
        .plan
        .parts
        .iter()
        .filter(|p| options.only.as_ref().is_none_or(|o| o.contains(&p.number)))
        .cloned()
        .collect();
    let jobs = options
        .jobs
        .unwrap_or(selected.len().min(DEFAULT_MAX_JOBS))
        .max(1);
    // The journal is read once here: thousands of runners never each read it again.
    let (statuses, mut resume) = {
        let records = ctx.journal.records().unwrap_or_default();
        (replay(&records), finished_sections_all(&records))
    };
    let budget = Arc::new(Budget::new(options.budget, options.prices, &statuses));
    let mut sup = Supervisor {
        plan: ctx.plan.clone(),
        ctx: Arc::new(ctx),
        options,
        out,
        internal,
        permits: Arc::new(Semaphore::new(jobs)),
        jobs,
        budget,
        slots: BTreeMap::new(),
        tasks: JoinSet::new(),
        waiting: std::collections::VecDeque::new(),
        running: BTreeSet::new(),
        unsettled: false,
    };

    for part in &selected {
        let status = statuses.get(&part.number);
        let loaded = sup.ctx.journal.load_draft(part.number);
        let has_draft = matches!(loaded, Ok(Some(_)));
        let mut state = initial_state(part.done, status, has_draft, sup.options.redo);
        let mut why_failed = None;
        if let Err(e) = &loaded
            && state == RunnerState::Queued
        {
            // A damaged draft is not silently overwritten: the PART says why and waits for R.
            state = RunnerState::Failed;
            why_failed = Some(format!(
                "{e}; move the file away and press R (or run with --redo) to write it again"
            ));
        }
        let slot = Slot::new(state);
        // Notes outlive a crash: the journal gives them back to the sections still to write.
        if let Some(s) = status
            && let Ok(mut notes) = slot.notes.lock()
        {
            notes.clone_from(&s.notes);
        }
        sup.slots.insert(part.number, slot);
        if let Some(why) = why_failed {
            sup.forward(Event::state(part.number, state, why)).await;
            continue;
        }
        let why = match state {
            RunnerState::Done => "the plan marks it complete (use --redo to run it again)",
            RunnerState::Review => "a draft from an earlier run awaits review",
            RunnerState::Approved => "approved in an earlier run",
            RunnerState::Skipped => "rejected earlier without requeue",
            _ => "",
        };
        sup.forward(Event::state(part.number, state, why)).await;
        // --approve-all keeps its word for drafts an earlier run left: clean ones are approved,
        // the others stay and say why.
        if state == RunnerState::Review && sup.options.approve_all {
            sup.approve(part.number, true, Seen::Unattended, None).await;
        }
        if state == RunnerState::Queued {
            let (feedback, only_section) = status.map_or((None, None), |s| s.asked_again());
            let earlier = resume.remove(&part.number).unwrap_or_default();
            sup.start_with(part.number, feedback, only_section, earlier);
        }
    }

    let mut ticker = tokio::time::interval(
        sup.options
            .stall_after
            .min(Duration::from_secs(1))
            .max(Duration::from_millis(50)),
    );
    let mut commands_open = true;
    loop {
        sup.spawn_waiting();
        let settled = sup.tasks.is_empty() && sup.slots.values().all(Slot::settled);
        sup.say_settled(settled).await;
        if sup.options.exit_when_settled && settled {
            break;
        }
        let watching = sup.slots.values().any(|s| s.state.is_active());
        if !sup.options.exit_when_settled && !commands_open && sup.tasks.is_empty() {
            break;
        }
        tokio::select! {
            Some(event) = from_runners.recv() => sup.on_runner_event(event).await,
            Some(joined) = sup.tasks.join_next(), if !sup.tasks.is_empty() => {
                // Every event a runner sent is queued before its task ends: apply them first, so
                // a late `writing` can never overwrite the outcome.
                while let Ok(event) = from_runners.try_recv() {
                    sup.on_runner_event(event).await;
                }
                if let Ok((n, outcome)) = joined {
                    sup.on_outcome(n, outcome).await;
                }
            }
            cmd = commands.recv(), if commands_open => match cmd {
                Some(Command::Shutdown) => {
                    sup.cancel(Target::All);
                    // Keep the runners' channel flowing while they stop, so none blocks on it.
                    while !sup.tasks.is_empty() {
                        tokio::select! {
                            _ = sup.tasks.join_next() => {}
                            _ = from_runners.recv() => {}
                        }
                    }
                    break;
                }
                Some(cmd) => sup.on_command(cmd).await,
                None => commands_open = false,
            },
            // Stalls are watched only while something runs: an idle run does not wake.
            _ = ticker.tick(), if watching => {
                sup.check_stalls().await;
                sup.sync_notes().await;
            }
        }
    }
    // Runners may have sent their last events just before finishing.
    while let Ok(event) = from_runners.try_recv() {
        sup.on_runner_event(event).await;
    }
    Summary {
        states: sup.slots.iter().map(|(n, s)| (*n, s.state)).collect(),
        budget_paused: sup
            .slots
            .iter()
            .filter_map(|(n, s)| s.budget_paused.clone().map(|w| (*n, w)))
            .collect(),
        budget: sup.budget.line(),
        usage: sup.budget.plan(),
    }
}

impl Supervisor {
    async fn forward(&mut self, event: Event) {
        if let (Some(n), Some(state)) = (event.part, event.state)
            && let Some(slot) = self.slots.get_mut(&n)
        {
            slot.state = state;
            // Stalls are transient observations, not states worth replaying after a restart.
            if state != RunnerState::Stalled {
                let _ = self.ctx.journal.append(&Record::State {
                    ts: event.ts.clone(),
                    part: n,
                    state,
                    message: (!event.message.is_empty()).then(|| event.message.clone()),
                });
            }
        }
        // The bounded channel is the only way to the front end; waiting here is the backpressure.
        let _ = self.out.send(event).await;
    }

    /// Start PART `n`'s runner again (a retry, a requeue, a regeneration): what it finished so
    /// far is read back from the journal.
    fn start(&mut self, n: u32, feedback: Option<String>, only_section: Option<usize>) {
        let records = self.ctx.journal.records().unwrap_or_default();
        let earlier = finished_sections(&records, n);
        self.start_with(n, feedback, only_section, earlier);
    }

    fn start_with(
        &mut self,
        n: u32,
        feedback: Option<String>,
        only_section: Option<usize>,
        resume: BTreeMap<usize, crate::journal::FinishedSection>,
    ) {
        if let Some(slot) = self.slots.get_mut(&n) {
            slot.last_progress = Instant::now();
            slot.before_stall = None;
            slot.budget_paused = None;
        }
        self.waiting.push_back(Waiting {
            n,
            feedback,
            only_section,
            resume,
        });
        self.spawn_waiting();
    }

    /// Start waiting runners while fewer than `jobs` work (paused ones do not count).
    fn spawn_waiting(&mut self) {
        while !self.waiting.is_empty() {
            if self.running.len() >= self.jobs {
                // Paused runners hold no slot: count them only when it matters.
                let paused = self
                    .running
                    .iter()
                    .filter_map(|n| self.slots.get(n))
                    .filter(|s| s.pause.as_ref().is_some_and(|p| *p.borrow()))
                    .count();
                if self.running.len() - paused >= self.jobs {
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
            let Some(w) = self.waiting.remove(i) else {
                return;
            };
            self.spawn(w);
        }
    }

    /// PART `n`'s notes as a runner starting now must see them: the journal's (a note given
    /// through it while the PART waited is taken here; ticks follow only working runners).
    fn notes_now(&self, n: u32) -> Arc<std::sync::Mutex<Vec<String>>> {
        let Some(slot) = self.slots.get(&n) else {
            return Arc::default();
        };
        if let Ok(Some(status)) = self.ctx.journal.status(n)
            && let Ok(mut notes) = slot.notes.lock()
        {
            notes.clone_from(&status.notes);
        }
        slot.notes.clone()
    }

    fn spawn(&mut self, w: Waiting) {
        let n = w.n;
        let Some(part) = self.plan.part(n).cloned() else {
            return;
        };
        let (pause_tx, pause_rx) = watch::channel(false);
        let cancel = CancellationToken::new();
        if let Some(slot) = self.slots.get_mut(&n) {
            slot.pause = Some(pause_tx);
            slot.cancel = Some(cancel.clone());
            slot.last_progress = Instant::now();
            slot.before_pause = None;
        }
        self.running.insert(n);
        let runner = RunnerCtx {
            part,
            plan_title: self.plan.title.clone(),
            providers: self.ctx.providers.clone(),
            journal: self.ctx.journal.clone(),
            cache: self.ctx.cache.clone(),
            knowledge: self.ctx.workspace.knowledge(),
            events: self.internal.clone(),
            pause: pause_rx,
            cancel,
            feedback: w.feedback,
            only_section: w.only_section,
            permits: self.permits.clone(),
            budget: self.budget.clone(),
            resume: w.resume,
            page_deadline: self.options.page_deadline,
            sources: self.options.sources.clone(),
            notes: self.notes_now(n),
        };
        self.tasks.spawn(async move {
            // A panic in a runner (a parser, a provider) fails its PART, not the run.
            let outcome = AssertUnwindSafe(run_part(runner))
                .catch_unwind()
                .await
                .unwrap_or_else(|panic| {
                    let why = panic
                        .downcast_ref::<String>()
                        .map(String::as_str)
                        .or_else(|| panic.downcast_ref::<&str>().copied())
                        .unwrap_or("unknown cause");
                    Outcome::Failed(format!("the runner crashed: {why}"))
                });
            (n, outcome)
        });
    }

    async fn on_runner_event(&mut self, event: Event) {
        let Some(slot) = event.part.and_then(|n| self.slots.get_mut(&n)) else {
            self.forward(event).await;
            return;
        };
        let part = event.part;
        let r = reactions::runner_event(
            slot.state,
            slot.before_stall,
            event,
            self.options.approve_all,
        );
        slot.last_progress = Instant::now();
        slot.before_stall = None;
        if r.before_pause.is_some() {
            slot.before_pause = r.before_pause;
        }
        for e in r.forward {
            self.forward(e).await;
        }
        if r.approve
            && let Some(n) = part
        {
            self.approve(n, true, Seen::Unattended, None).await;
        }
    }

    async fn on_outcome(&mut self, n: u32, outcome: Outcome) {
        self.running.remove(&n);
        let (said, budget_paused) = reactions::outcome(n, outcome);
        if let Some(slot) = self.slots.get_mut(&n) {
            slot.pause = None;
            slot.cancel = None;
            if budget_paused.is_some() {
                slot.budget_paused = budget_paused;
            }
        }
        for e in said {
            self.forward(e).await;
        }
    }

    fn cancel(&mut self, target: Target) {
        for (n, slot) in &self.slots {
            if target.includes(*n)
                && let Some(c) = &slot.cancel
            {
                c.cancel();
            }
        }
    }

    async fn on_command(&mut self, cmd: Command) {
        match cmd {
            Command::Pause(t) => self.pause(t).await,
            Command::Resume(t) => self.resume(t).await,
            Command::Regenerate {
                part,
                section,
                reason,
            } => self.regenerate(part, section, reason).await,
            Command::Undo(part) => self.undo(part).await,
            Command::Note { part, text } => self.note(part, text).await,
            Command::Cancel(t) => {
                self.cancel(t);
                // Runners that never started end here.
                let (gone, kept): (Vec<Waiting>, Vec<Waiting>) =
                    self.waiting.drain(..).partition(|w| t.includes(w.n));
                self.waiting = kept.into();
                for w in gone {
                    self.forward(Event::state(w.n, RunnerState::Skipped, "cancelled"))
                        .await;
                }
            }
            Command::Retry(n) => self.restart(n, None, None, "retry").await,

            Command::UpdatePlan(plan) => self.update_plan(*plan).await,
            Command::Approve { part, seen, hunks } => self.approve(part, false, seen, hunks).await,
            Command::Reject {
                part,
                reason,
                requeue,
            } => self.reject(part, reason, requeue).await,
            Command::Shutdown => {}
            Command::EndWhenSettled => self.options.exit_when_settled = true,
            Command::StayWhenSettled => self.options.exit_when_settled = false,
        }
    }

    /// A plan edited while running: new PARTs (within --only, if given) are run, PARTs ticked by
    /// hand that are not active become done.
    async fn update_plan(&mut self, plan: Plan) {
        // What other commands did meanwhile (an approval from the CLI ticks the plan too).
        let journal = self.ctx.journal.statuses().unwrap_or_default();
        for part in &plan.parts {
            let n = part.number;
            match self.slots.get(&n).map(|s| s.state) {
                None if self.options.only.as_ref().is_none_or(|o| o.contains(&n)) => {
                    self.slots.insert(n, Slot::new(RunnerState::Queued));
                    self.plan.parts.push(part.clone());
                    self.forward(Event::state(n, RunnerState::Queued, "added to the plan"))
                        .await;
                    self.start(n, None, None);
                }
                Some(state) => {
                    let recorded = journal.get(&n).and_then(|s| s.state);
                    if let Some((next, why)) = after_plan_edit(state, part.done, recorded) {
                        self.forward(Event::state(n, next, why)).await;
                    }
                }
                _ => {}
            }
        }
    }

    async fn restart(
        &mut self,
        n: u32,
        feedback: Option<String>,
        only_section: Option<usize>,
        why: &str,
    ) {
        let held = self.slots.get(&n).map(|slot| self.held(n, slot));
        if let Some(why) = reactions::restart_refused(n, held) {
            self.forward(Event::log(Some(n), Level::Warn, why)).await;
            return;
        }
        self.forward(Event::state(n, RunnerState::Queued, why))
            .await;
        self.start(n, feedback, only_section);
    }
}
