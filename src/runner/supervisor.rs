//! The supervisor: starts one runner per selected PART under a concurrency limit, routes commands
//! to them, forwards their events on the one bounded channel, and notices stalls. What it decides
//! is the pure [`machine`]; this module is the async loop that performs it.

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
mod machine;
mod reactions;
mod stalls;

use super::budget::{Budget, Limits, Prices};
use super::driver::{Outcome, RunnerCtx, run_part};
use super::event::{Command, Event};
use crate::journal::{Cache, Journal, Record, finished_sections, finished_sections_all, replay};
use crate::plan::{Part, Plan};
use crate::research::Providers;
use crate::state::RunnerState;
use crate::workspace::Workspace;
use machine::{Asked, DraftFile, Effect, Input, Machine, Setup, Start};

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

/// Start the supervisor. Commands go in through the returned sender; events come out on `events`.
pub fn spawn(
    ctx: RunContext,
    options: RunOptions,
    events: mpsc::Sender<Event>,
) -> (mpsc::Sender<Command>, tokio::task::JoinHandle<Summary>) {
    let (cmd_tx, cmd_rx) = mpsc::channel(COMMANDS_WAITING);
    (cmd_tx, spawn_on(ctx, options, events, cmd_rx))
}

/// Commands a run's queue holds before a sender waits.
pub const COMMANDS_WAITING: usize = 64;

/// Start the supervisor on a command queue made earlier (one that already took commands, such
/// as a live run's socket's, while the run was starting).
pub fn spawn_on(
    ctx: RunContext,
    options: RunOptions,
    events: mpsc::Sender<Event>,
    commands: mpsc::Receiver<Command>,
) -> tokio::task::JoinHandle<Summary> {
    tokio::spawn(supervise(ctx, options, events, commands))
}

/// The async loop around the [`Machine`]: it feeds it what happens and performs the effects it
/// returns (runner tasks, their pause and cancel handles, the journal, review operations).
struct Supervisor {
    ctx: Arc<RunContext>,
    /// The plan as last read (grows when PARTs are added while running).
    plan: Plan,
    options: RunOptions,
    machine: Machine,
    out: mpsc::Sender<Event>,
    internal: mpsc::Sender<Event>,
    permits: Arc<Semaphore>,
    budget: Arc<Budget>,
    tasks: JoinSet<(u32, Outcome)>,
    /// The live runners' pause and cancel handles.
    runners: BTreeMap<u32, Handles>,
    /// A person's notes to each PART's runner, read as each section starts.
    notes: BTreeMap<u32, Notes>,
}

type Notes = Arc<std::sync::Mutex<Vec<String>>>;

/// How a live runner is held and stopped.
struct Handles {
    pause: watch::Sender<bool>,
    cancel: CancellationToken,
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
    let machine = Machine::new(Setup {
        jobs,
        stall_after: options.stall_after,
        approve_all: options.approve_all,
        only: options.only.clone(),
        redo: options.redo,
        exit_when_settled: options.exit_when_settled,
    });
    let mut sup = Supervisor {
        plan: ctx.plan.clone(),
        ctx: Arc::new(ctx),
        options,
        machine,
        out,
        internal,
        permits: Arc::new(Semaphore::new(jobs)),
        budget,
        tasks: JoinSet::new(),
        runners: BTreeMap::new(),
        notes: BTreeMap::new(),
    };

    for part in &selected {
        let n = part.number;
        let status = statuses.get(&n);
        // Notes outlive a crash: the journal gives them back to the sections still to write.
        let notes = status.map(|s| s.notes.clone()).unwrap_or_default();
        sup.notes.insert(n, Arc::new(std::sync::Mutex::new(notes)));
        let draft = match sup.ctx.journal.load_draft(n) {
            Ok(Some(_)) => DraftFile::Present,
            Ok(None) => DraftFile::Absent,
            Err(e) => DraftFile::Unreadable(e.to_string()),
        };
        let earlier = resume.remove(&n).unwrap_or_default();
        let effects = sup
            .machine
            .seed(part, status, draft, earlier, Instant::now());
        sup.perform(effects).await;
    }
    sup.feed(Input::Begin).await;

    let mut ticker = tokio::time::interval(
        sup.options
            .stall_after
            .min(Duration::from_secs(1))
            .max(Duration::from_millis(50)),
    );
    let mut commands_open = true;
    loop {
        let settled = sup.tasks.is_empty() && sup.machine.settled();
        if sup.machine.exits_when_settled() && settled {
            break;
        }
        if !sup.machine.exits_when_settled() && !commands_open && sup.tasks.is_empty() {
            break;
        }
        // Stalls are watched only while something runs: an idle run does not wake.
        let watching = sup.machine.watching();
        tokio::select! {
            Some(event) = from_runners.recv() => sup.feed(Input::Report(event)).await,
            Some(joined) = sup.tasks.join_next(), if !sup.tasks.is_empty() => {
                // Every event a runner sent is queued before its task ends: apply them first, so
                // a late `writing` can never overwrite the outcome.
                while let Ok(event) = from_runners.try_recv() {
                    sup.feed(Input::Report(event)).await;
                }
                if let Ok((n, outcome)) = joined {
                    sup.runners.remove(&n);
                    sup.feed(Input::Ended(n, outcome)).await;
                }
            }
            cmd = commands.recv(), if commands_open => match cmd {
                Some(Command::Shutdown) => {
                    sup.feed(Input::Command(Command::Shutdown)).await;
                    // Keep the runners' channel flowing while they stop, so none blocks on it.
                    while !sup.tasks.is_empty() {
                        tokio::select! {
                            _ = sup.tasks.join_next() => {}
                            _ = from_runners.recv() => {}
                        }
                    }
                    break;
                }
                Some(Command::UpdatePlan(plan)) => {
                    // What other commands did meanwhile (an approval from the CLI ticks the plan too).
                    let recorded = sup
                        .ctx
                        .journal
                        .statuses()
                        .unwrap_or_default()
                        .into_iter()
                        .filter_map(|(n, s)| s.state.map(|state| (n, state)))
                        .collect();
                    sup.feed(Input::PlanEdited { plan: *plan, recorded }).await;
                }
                Some(cmd) => sup.feed(Input::Command(cmd)).await,
                None => commands_open = false,
            },
            _ = ticker.tick(), if watching => sup.feed(Input::Tick).await,
        }
    }
    // Runners may have sent their last events just before finishing.
    while let Ok(event) = from_runners.try_recv() {
        sup.feed(Input::Report(event)).await;
    }
    Summary {
        states: sup.machine.states(),
        budget_paused: sup.machine.budget_paused(),
        budget: sup.budget.line(),
        usage: sup.budget.plan(),
    }
}

impl Supervisor {
    /// Tell the machine `input` and perform what it decides.
    async fn feed(&mut self, input: Input) {
        let effects = self.machine.handle(input, Instant::now());
        self.perform(effects).await;
    }

    /// Perform effects in order; a review operation's answer goes back to the machine, and what
    /// that decides is performed before the effects that followed.
    async fn perform(&mut self, effects: Vec<Effect>) {
        let mut queue: std::collections::VecDeque<Effect> = effects.into();
        while let Some(effect) = queue.pop_front() {
            let answer = match effect {
                Effect::Emit { event, journal } => {
                    self.emit(event, journal).await;
                    None
                }
                Effect::Spawn(start) => self.spawn(start),
                Effect::Hold(n, hold) => {
                    if let Some(r) = self.runners.get(&n) {
                        let _ = r.pause.send(hold);
                    }
                    None
                }
                Effect::Cancel(n) => {
                    if let Some(r) = self.runners.get(&n) {
                        r.cancel.cancel();
                    }
                    None
                }
                Effect::Review(decision) => Some(self.carry_out(decision).await),
                Effect::Note(n, text) => {
                    self.note(n, text).await;
                    None
                }
                Effect::SyncNotes(parts) => {
                    self.sync_notes(&parts).await;
                    None
                }
                Effect::Adopt(part) => {
                    self.notes.entry(part.number).or_default();
                    self.plan.parts.push(*part);
                    None
                }
            };
            if let Some(input) = answer {
                let next = self.machine.handle(input, Instant::now());
                for e in next.into_iter().rev() {
                    queue.push_front(e);
                }
            }
        }
    }

    async fn emit(&mut self, event: Event, journal: bool) {
        if journal && let (Some(n), Some(state)) = (event.part, event.state_now()) {
            let _ = self.ctx.journal.append(&Record::State {
                ts: event.ts.clone(),
                part: n,
                state,
                message: (!event.message.is_empty()).then(|| event.message.clone()),
                cause: event.cause(),
            });
        }
        // The bounded channel is the only way to the front end; waiting here is the backpressure.
        let _ = self.out.send(event).await;
    }

    /// Start a runner's task. A PART the plan no longer holds ends at once (the machine is told).
    fn spawn(&mut self, start: Start) -> Option<Input> {
        let n = start.n;
        let Some(part) = self.plan.part(n).cloned() else {
            let why = format!("PART {n} is not in the plan as read");
            return Some(Input::Ended(n, Outcome::Failed(why)));
        };
        let (feedback, only_section) = match start.asked {
            Asked::Given {
                feedback,
                only_section,
            } => (feedback, only_section),
            Asked::Journal => {
                let status = self.ctx.journal.status(n).ok().flatten();
                status.map_or((None, None), |s| s.asked_again())
            }
        };
        let resume = start.resume.unwrap_or_else(|| {
            let records = self.ctx.journal.records().unwrap_or_default();
            finished_sections(&records, n)
        });
        let (pause_tx, pause_rx) = watch::channel(false);
        let cancel = CancellationToken::new();
        self.runners.insert(
            n,
            Handles {
                pause: pause_tx,
                cancel: cancel.clone(),
            },
        );
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
            feedback,
            only_section,
            permits: self.permits.clone(),
            budget: self.budget.clone(),
            resume,
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
        None
    }
}
