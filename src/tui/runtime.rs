//! The TUI's driver: one select loop over core events, terminal input, finished background
//! work, signals and timers. It blocks until one of them has something: no polling, a tick only
//! while a spinner is on screen, a frame only when something changed (at most 60 a second).

use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossterm::event::EventStream;
use futures_util::StreamExt as _;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

use super::app::{App, EditFailure, Edited, Msg};
use super::keymap::Keymap;
use super::screens::drafts::DraftSummary;
use super::screens::{EditWhat, Effect};
use super::terminal::{Term, install_panic_hook, message};
use super::theme::Theme;
use super::view;
use crate::plan;
use crate::review::Review;
use crate::runner::{self, Command, RunContext, RunOptions, Summary};

/// How the TUI looks and behaves.
pub struct TuiOptions {
    /// Key bindings.
    pub keymap: Keymap,
    /// Drop all colours (NO_COLOR).
    pub no_color: bool,
    /// Ring the bell and ask the terminal for a desktop notification when a person is needed
    /// (`[notify] terminal`).
    pub terminal_notify: bool,
    /// `[notify] command`.
    pub notify_command: Option<String>,
    /// The plan as the run was given it (for notices).
    pub plan_shown: String,
    /// Ask for a confirming key before approving (`[review] confirm_approve`).
    pub confirm_approve: bool,
    /// The run's token estimate (low, high), when it asks a model.
    pub estimate: Option<(u64, u64)>,
    /// What the run said before the screen was taken (the corpus and its skipped files, the
    /// providers, warnings): shown as notices, kept in the message log.
    pub startup: Vec<String>,
}

/// Frames are at least this far apart (60 per second at most).
const FRAME: Duration = Duration::from_millis(16);
/// Spinner and elapsed-time tick, only while a spinner is on screen.
const TICK: Duration = Duration::from_millis(250);
/// Core events applied per loop turn before input and drawing get a chance.
const DRAIN: usize = 20_000;

/// Run the TUI over a supervisor until the user quits (or a signal ends it); returns the run's
/// summary. The terminal is restored on every way out.
pub async fn run(
    ctx: RunContext,
    options: RunOptions,
    tui: TuiOptions,
) -> std::io::Result<Summary> {
    let plan = ctx.plan.clone();
    let providers = format!(
        "{} · {} · {}",
        ctx.providers.search.name(),
        ctx.providers.fetch.name(),
        ctx.providers.writer.name()
    );
    let review = Review::new(
        ctx.workspace.clone(),
        ctx.plan_path.clone(),
        ctx.journal.clone(),
    );
    let review = Arc::new(match &options.second_opinion {
        Some(o) => review.with_second_opinion(o.0.clone()),
        None => review,
    });
    let history = ctx.journal.records().unwrap_or_default();
    let plan_path = ctx.plan_path.clone();
    let knowledge = ctx.workspace.knowledge();
    let dir = ctx.journal.dir().to_path_buf();
    let (ev_tx, ev_rx) = mpsc::channel(1024);
    let options = RunOptions {
        exit_when_settled: false,
        ..options
    };
    let only = options.only.clone();
    let (budget, prices) = (options.budget, options.prices);
    let (commands, supervisor) = runner::spawn(ctx, options, ev_tx);
    // Other terminals attach through the run's socket; without one the run goes on unattached.
    let mut tui = tui;
    let live = match crate::runner::live::Live::serve(&dir, &plan_path, commands.clone()) {
        Ok(l) => {
            l.describe(crate::runner::live::Facts {
                budget,
                prices,
                estimate: tui.estimate,
                providers: providers.clone(),
            });
            Some(l)
        }
        Err(e) => {
            tui.startup.push(format!(
                "this run cannot be attached to from another terminal ({e}); it goes on here"
            ));
            None
        }
    };
    let session = Session {
        plan,
        only,
        budget,
        prices,
        providers,
        review,
        history,
        plan_path,
        knowledge,
        ev_rx,
        commands: commands.clone(),
        live,
        attached: false,
        before: Vec::new(),
    };
    let Ended {
        events: mut ev_rx,
        live,
        hung_up,
        mut notices,
    } = session.run(tui).await?;
    if hung_up {
        // Nobody is at this terminal: the run goes on until every PART settles (or `expanse
        // stop`), still served to `expanse attach` and still notifying.
        let _ = commands.send(Command::EndWhenSettled).await;
        while let Some(e) = ev_rx.recv().await {
            if let Some(l) = &live {
                l.publish(&e);
            }
            notices.see(&e);
        }
    } else {
        let _ = commands.send(Command::Shutdown).await;
    }
    // Events still in flight are not shown any more; the supervisor must not block on them.
    let drain = tokio::spawn(async move { while ev_rx.recv().await.is_some() {} });
    let summary = supervisor.await.map_err(std::io::Error::other)?;
    drain.abort();
    drop(live);
    notices.notifier.finish(Duration::from_secs(3));
    Ok(summary)
}

/// Open the TUI on a run that is live in another process, through its socket. Quitting leaves
/// the run going; when the run ends the screen says so and stays for review.
pub async fn attach(
    workspace: crate::workspace::Workspace,
    plan_path: std::path::PathBuf,
    journal: Arc<crate::journal::Journal>,
    client: crate::runner::live::Client,
    tui: TuiOptions,
) -> std::io::Result<()> {
    let text = std::fs::read_to_string(&plan_path)?;
    let plan = plan::Plan::parse(&text);
    let history = journal.records().unwrap_or_default();
    // Where each PART stands now, as the run journalled it: the events before this client came.
    let now: Vec<crate::runner::Event> = crate::journal::replay(&history)
        .into_iter()
        .filter_map(|(n, s)| {
            s.state
                .map(|st| crate::runner::Event::state(n, st, s.message.unwrap_or_default()))
        })
        .collect();
    let knowledge = workspace.knowledge();
    let review = Arc::new(Review::new(workspace, plan_path.clone(), journal));
    let session = Session {
        plan,
        only: None,
        budget: client.hello.facts.budget,
        prices: client.hello.facts.prices,
        providers: client.hello.facts.providers.clone(),
        review,
        history,
        plan_path,
        knowledge,
        ev_rx: client.events,
        commands: client.commands,
        live: None,
        attached: true,
        before: now,
    };
    session.run(tui).await.map(|_| ())
}

/// How a session ended, and what the run needs to go on or end.
struct Ended {
    /// The run's events (to drain, or to serve on after a hang-up).
    events: mpsc::Receiver<crate::runner::Event>,
    /// The run's socket.
    live: Option<crate::runner::live::Live>,
    /// The terminal went away (SIGHUP): the run goes on.
    hung_up: bool,
    /// The notifier, still wanted after a hang-up.
    notices: Notices,
}

/// What one TUI session works over: a run in this process, or one attached through its socket.
struct Session {
    plan: plan::Plan,
    only: Option<std::collections::BTreeSet<u32>>,
    budget: crate::runner::budget::Limits,
    prices: Option<crate::runner::budget::Prices>,
    providers: String,
    review: Arc<Review>,
    history: Vec<crate::journal::Record>,
    plan_path: std::path::PathBuf,
    knowledge: std::path::PathBuf,
    ev_rx: mpsc::Receiver<crate::runner::Event>,
    commands: mpsc::Sender<Command>,
    /// This run's socket, when it serves one: every event is passed on to attached clients.
    live: Option<crate::runner::live::Live>,
    /// Attached to a run in another process (quitting leaves it running).
    attached: bool,
    /// Events that happened before this session began (an attached client's starting states).
    before: Vec<crate::runner::Event>,
}

impl Session {
    /// Until the user quits, a signal ends it, or (run here) the run ends; gives back the
    /// event channel (to drain) and the socket (to close after the run).
    async fn run(self, tui: TuiOptions) -> std::io::Result<Ended> {
        let Session {
            plan,
            only,
            budget,
            prices,
            providers,
            review,
            history,
            plan_path,
            knowledge,
            mut ev_rx,
            commands,
            live,
            attached,
            before,
        } = self;
        let mut hup = signal(SignalKind::hangup())?;
        let mut int = signal(SignalKind::interrupt())?;
        let mut quit = signal(SignalKind::quit())?;
        let mut term_sig = signal(SignalKind::terminate())?;
        let mut tstp = signal(SignalKind::from_raw(libc::SIGTSTP))?;

        install_panic_hook();
        let mut term = Term::enter()?;
        let size = term.terminal.size()?;
        let mut app = App::new(&plan, only, (size.width, size.height));
        app.cards.seed(&history);
        app.attached = attached;
        for e in before {
            app.update(Msg::Core(e));
        }
        app.keymap = tui.keymap;
        app.confirm_approve = tui.confirm_approve;
        app.providers = providers;
        app.budget = budget;
        app.prices = prices;
        app.estimate = tui.estimate;
        // The first line (the corpus and what it skipped) is the one left in the key bar.
        for line in tui.startup.into_iter().rev() {
            app.say(line);
        }
        let theme = Theme::new(tui.no_color);

        let mut notices = Notices {
            notifier: crate::notify::Notifier::new(tui.notify_command),
            terminal: tui.terminal_notify,
            plan: tui.plan_shown,
            titles: plan
                .parts
                .iter()
                .map(|p| (p.number, p.target.clone()))
                .collect(),
            finished: false,
        };
        let mut input = Some(EventStream::new());
        let (msg_tx, mut msg_rx) = mpsc::channel::<Msg>(256);
        let _watcher = watch_paths(&plan_path, &knowledge, msg_tx.clone());

        let mut events_open = true;
        let mut hung_up = false;
        let mut last_draw = Instant::now() - FRAME;
        let mut next_tick: Option<tokio::time::Instant> = None;
        'main: loop {
            let frame_due = app
                .dirty
                .then(|| tokio::time::Instant::from_std(last_draw + FRAME));
            if app.animating() {
                next_tick.get_or_insert_with(|| tokio::time::Instant::now() + TICK);
            } else {
                next_tick = None;
            }
            let mut effects = Vec::new();
            tokio::select! {
                e = ev_rx.recv(), if events_open => match e {
                    Some(e) => {
                        if let Some(l) = &live {
                            l.publish(&e);
                        }
                        notices.see(&e);
                        effects.extend(app.update(Msg::Core(e)));
                        // Apply everything already waiting before drawing: a flood costs one frame.
                        for _ in 0..DRAIN {
                            match ev_rx.try_recv() {
                                Ok(e) => {
                                    if let Some(l) = &live {
                                        l.publish(&e);
                                    }
                                    notices.see(&e);
                                    effects.extend(app.update(Msg::Core(e)));
                                }
                                Err(_) => break,
                            }
                        }
                        notices.after(&app);
                    }
                    None => {
                        events_open = false;
                        if !attached {
                            // The run ended (another terminal stopped it).
                            break 'main;
                        }
                        app.say("the run has ended (stopped, or every PART settled); its drafts wait for `expanse review` or a new `expanse run`; q closes this screen".to_string());
                        app.dirty = true;
                    }
                },
                ev = next_input(&mut input) => match ev {
                    Some(Ok(ev)) => {
                        if let Some(msg) = message(ev) {
                            effects.extend(app.update(msg));
                        }
                    }
                    // The terminal is gone (its window closed): end as on SIGHUP.
                    Some(Err(_)) | None => break 'main,
                },
                Some(msg) = msg_rx.recv() => effects.extend(app.update(msg)),
                _ = sleep_until(next_tick), if next_tick.is_some() => {
                    next_tick = None;
                    effects.extend(app.update(Msg::Tick));
                }
                _ = hup.recv() => {
                    // The terminal went away (a closed window, a dropped SSH connection): the
                    // run goes on without it, and `expanse attach` can pick it up.
                    hung_up = true;
                    break 'main;
                }
                _ = int.recv() => break 'main,
                _ = quit.recv() => break 'main,
                _ = term_sig.recv() => break 'main,
                _ = tstp.recv() => effects.push(Effect::Suspend),
                _ = sleep_until(frame_due), if frame_due.is_some() => {
                    term.terminal.draw(|f| view::draw(f, &app, &theme, Instant::now()))?;
                    app.dirty = false;
                    last_draw = Instant::now();
                }
            }
            for effect in effects {
                match effect {
                    Effect::Quit => break 'main,
                    Effect::Command(c) => {
                        // Never wait on the supervisor here: it may be waiting on us to read events.
                        if !events_open {
                            app.notice = Some("the run has ended: nothing reaches it from here; `expanse review` or a new `expanse run` takes the drafts".into());
                            app.dirty = true;
                        } else if commands.try_send(c).is_err() {
                            app.notice = Some("busy: the command was not taken, try again".into());
                            app.dirty = true;
                        }
                    }
                    Effect::LoadReview(n) => {
                        let (review, tx) = (review.clone(), msg_tx.clone());
                        tokio::task::spawn_blocking(move || {
                            let result = review.inspect(n).map(Box::new);
                            let _ = tx.blocking_send(Msg::ReviewLoaded { part: n, result });
                        });
                    }
                    Effect::LoadDrafts => {
                        let (review, tx) = (review.clone(), msg_tx.clone());
                        tokio::task::spawn_blocking(move || {
                            let rows = review.pending().map(|(pending, _)| {
                                pending
                                    .into_iter()
                                    .map(|p| DraftSummary {
                                        part: p.draft.part,
                                        added: p.diff.added,
                                        removed: p.diff.removed,
                                        checklist: p.checklist.summary(),
                                        clean: p.checklist.is_clean(),
                                    })
                                    .collect()
                            });
                            let _ = tx.blocking_send(Msg::DraftsLoaded(rows));
                        });
                    }
                    Effect::Edit { part, what } => {
                        // The editor owns the terminal and its keys until it exits.
                        drop(input.take());
                        term.suspend();
                        let result =
                            tokio::task::block_in_place(|| edit_draft(&review, part, what));
                        term.resume()?;
                        input = Some(EventStream::new());
                        send_msg(&msg_tx, Msg::Edited { part, result }).await;
                        app.dirty = true;
                    }
                    Effect::Suspend => {
                        drop(input.take());
                        tokio::task::block_in_place(|| term.stop_process())?;
                        input = Some(EventStream::new());
                        let size = term.terminal.size()?;
                        send_msg(&msg_tx, Msg::Resize(size.width, size.height)).await;
                        app.dirty = true;
                    }
                }
            }
        }
        drop(term);
        Ok(Ended {
            events: ev_rx,
            live,
            hung_up,
            notices,
        })
    }
}

/// Queue a message for the app's next turn.
async fn send_msg(tx: &mpsc::Sender<Msg>, msg: Msg) {
    let _ = tx.send(msg).await;
}

async fn next_input(
    input: &mut Option<EventStream>,
) -> Option<std::io::Result<crossterm::event::Event>> {
    match input {
        Some(s) => s.next().await,
        None => std::future::pending().await,
    }
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// Watch the plan's folder (editors replace files, so the file itself is not enough) and the
/// knowledge base: plan edits re-parse the plan, knowledge edits refresh an open diff.
fn watch_paths(
    plan_path: &Path,
    knowledge: &Path,
    tx: mpsc::Sender<Msg>,
) -> Option<notify::RecommendedWatcher> {
    use notify::{RecursiveMode, Watcher};
    // notify reports absolute paths; compare against absolute ones.
    let plan_file = plan_path.canonicalize().ok()?;
    let knowledge_dir = knowledge
        .canonicalize()
        .unwrap_or_else(|_| knowledge.to_path_buf());
    let (watched_plan, watched_knowledge) = (plan_file.clone(), knowledge_dir.clone());
    let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        let Ok(event) = res else { return };
        if !(event.kind.is_modify() || event.kind.is_create()) {
            return;
        }
        for path in event.paths {
            if path == watched_plan {
                if let Ok((plan, _)) = plan::load(&watched_plan)
                    && !plan.has_errors()
                {
                    let _ = tx.blocking_send(Msg::PlanChanged(Box::new(plan)));
                }
            } else if path.starts_with(&watched_knowledge) {
                let _ = tx.blocking_send(Msg::FileChanged(path));
            }
        }
    })
    .ok()?;
    if let Some(dir) = plan_file.parent() {
        let _ = watcher.watch(dir, RecursiveMode::NonRecursive);
    }
    if knowledge_dir.is_dir() {
        let _ = watcher.watch(&knowledge_dir, RecursiveMode::Recursive);
    }
    Some(watcher)
}

/// Open the draft's file or drop in $VISUAL / $EDITOR; the edited text replaces it.
fn edit_draft(review: &Review, n: u32, what: EditWhat) -> Result<Edited, EditFailure> {
    let draft = review.draft(n)?;
    let current = match what {
        EditWhat::File => &draft.text,
        EditWhat::Drop => &draft.drop_text,
    };
    let Some(text) = crate::editor::edit(current)? else {
        return Ok(Edited::Unchanged);
    };
    review.save_edit(n, &text, what == EditWhat::Drop)?;
    Ok(Edited::Changed {
        what,
        lines: text.lines().count(),
    })
}

/// The TUI's side of `[notify]`: the command for each notice, the terminal's bell and desktop
/// notification (at most one per [`crate::notify::TERMINAL_GAP`]), and "finished" once every
/// PART has settled.
struct Notices {
    notifier: crate::notify::Notifier,
    terminal: bool,
    plan: String,
    titles: std::collections::BTreeMap<u32, String>,
    finished: bool,
}

impl Notices {
    fn see(&mut self, e: &crate::runner::Event) {
        if let Some(notice) = crate::notify::Notice::of(e, &self.plan, &self.titles) {
            self.tell(notice);
        }
    }

    /// Once every PART has settled after work in this session, the run is finished.
    fn after(&mut self, app: &App) {
        if self.finished {
            return;
        }
        let settled = app
            .cards
            .list
            .iter()
            .all(|c| !c.state.is_active() && c.state != crate::state::RunnerState::Queued);
        if !settled || !app.cards.list.iter().any(|c| c.started.is_some()) {
            return;
        }
        self.finished = true;
        let need = app
            .cards
            .list
            .iter()
            .filter(|c| c.state == crate::state::RunnerState::Review)
            .count();
        self.tell(crate::notify::Notice {
            kind: crate::notify::Kind::Finished,
            plan: self.plan.clone(),
            part: None,
            title: None,
            message: format!(
                "every PART has settled; {} awaiting review",
                crate::words::plural(need, "draft")
            ),
        });
    }

    fn tell(&mut self, notice: crate::notify::Notice) {
        self.notifier.send(&notice);
        if self.terminal && self.notifier.terminal_due(Instant::now()) {
            let mut out = std::io::stdout();
            let _ = out.write_all(&crate::notify::terminal_bytes(&notice));
            let _ = out.flush();
        }
    }
}
