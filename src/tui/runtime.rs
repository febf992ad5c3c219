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

use super::app::view;
use super::app::{App, EditFailure, Edited, Msg, Settings};
use super::keymap::Keymap;
use super::screens::drafts::DraftSummary;
use super::screens::{EditWhat, Effect};
use super::terminal::{Term, install_panic_hook, message};
use super::theme::Theme;
use crate::plan;
use crate::review::Review;
use crate::runner::Command;

/// How the TUI looks and behaves.
pub struct TuiOptions {
    /// Key bindings.
    pub keymap: Keymap,
    /// Drop all colours (NO_COLOR).
    pub no_color: bool,
    /// Ring the bell and ask the terminal for a desktop notification when a person is needed
    /// (`[notify] terminal`).
    pub terminal_notify: bool,
    /// This terminal started the run: Ctrl-C and SIGTERM stop it (elsewhere they only close the
    /// screen, and the run goes on).
    pub owner: bool,
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

/// How a terminal UI session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The person stopped the run (q, or Ctrl-C or SIGTERM to the terminal that started it): the
    /// run was asked to shut down.
    Stop,
    /// The person left the run going (d, or a signal to a terminal that only attached).
    Detach,
    /// The terminal went away (SIGHUP, or its input closed): the run goes on without it.
    HungUp,
    /// The run ended while the screen was open, and the person closed it.
    RunEnded,
}

/// A closed session: how it ended, and the run's events (they end when the run does).
pub struct Closed {
    /// How it ended.
    pub ending: Ending,
    /// The run's events; closed once the run has ended.
    pub events: mpsc::UnboundedReceiver<crate::runner::Event>,
    /// Commands to the run: the connection stays open while this is held (dropped, the run
    /// counts this client gone and closes its side).
    pub commands: mpsc::Sender<Command>,
}

/// Open the TUI on a live run through its socket (the run is a process of its own: closing the
/// screen can leave it going). When the run ends while the screen is open, the screen says so and
/// stays for review.
pub async fn attach(
    workspace: crate::workspace::Workspace,
    plan_path: std::path::PathBuf,
    journal: Arc<crate::journal::Journal>,
    client: crate::runner::live::Client,
    tui: TuiOptions,
) -> std::io::Result<Closed> {
    let text = std::fs::read_to_string(&plan_path)?;
    let plan = plan::Plan::parse(&text);
    let history = journal.records().unwrap_or_default();
    let facts = client.hello.facts.clone();
    let knowledge = workspace.knowledge();
    let run = (journal.dir().to_path_buf(), client.hello.pid);
    let review = Arc::new(Review::new(workspace, plan_path.clone(), journal));
    let session = Session {
        plan,
        only: facts.only.clone(),
        budget: facts.budget,
        prices: facts.prices,
        providers: facts.providers.clone(),
        review,
        history,
        since: client.hello.since.clone(),
        plan_path,
        knowledge,
        ev_rx: client.events,
        dropped: client.dropped,
        run,
        commands: client.commands,
    };
    session.run(tui).await
}

/// What one TUI session works over: a run reached through its socket.
struct Session {
    plan: plan::Plan,
    only: Option<std::collections::BTreeSet<u32>>,
    budget: crate::runner::budget::Limits,
    prices: Option<crate::runner::budget::Prices>,
    providers: String,
    review: Arc<Review>,
    history: Vec<crate::journal::Record>,
    /// When the run began (RFC 3339): the journal's records since then are this run's.
    since: String,
    plan_path: std::path::PathBuf,
    knowledge: std::path::PathBuf,
    ev_rx: mpsc::UnboundedReceiver<crate::runner::Event>,
    /// Set when the run dropped this client (it goes on without it).
    dropped: Arc<std::sync::OnceLock<String>>,
    /// The run's state folder and process (to tell a stop from a kill when it ends).
    run: (std::path::PathBuf, u32),
    commands: mpsc::Sender<Command>,
}

impl Session {
    /// Until the person closes it or a signal ends it; gives back how, and the event channel
    /// (to see the run end after a stop).
    async fn run(self, tui: TuiOptions) -> std::io::Result<Closed> {
        let Session {
            plan,
            only,
            budget,
            prices,
            providers,
            review,
            history,
            since,
            plan_path,
            knowledge,
            mut ev_rx,
            dropped,
            run,
            commands,
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
        app.seed(&history, &since);
        app.configure(Settings {
            keymap: tui.keymap,
            confirm_approve: tui.confirm_approve,
            providers,
            budget,
            prices,
            estimate: tui.estimate,
        });
        // The first line (the corpus and what it skipped) is the one left in the key bar.
        for line in tui.startup.into_iter().rev() {
            app.say(line);
        }
        let theme = Theme::new(tui.no_color);

        let mut notices = Notices {
            notifier: crate::notify::Notifier::new(None),
            terminal: tui.terminal_notify,
            plan: tui.plan_shown,
            titles: plan
                .parts
                .iter()
                .map(|p| (p.number, p.target.clone()))
                .collect(),
        };
        let mut input = Some(EventStream::new());
        let (msg_tx, mut msg_rx) = mpsc::channel::<Msg>(256);
        let _watcher = watch_paths(&plan_path, &knowledge, msg_tx.clone());

        let mut events_open = true;
        let ending: Ending;
        let mut last_draw = Instant::now() - FRAME;
        let mut next_tick: Option<tokio::time::Instant> = None;
        'main: loop {
            let frame_due = app
                .is_dirty()
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
                        notices.see(&e);
                        effects.extend(app.update(Msg::Core(e)));
                        // Apply everything already waiting before drawing: a flood costs one frame.
                        for _ in 0..DRAIN {
                            match ev_rx.try_recv() {
                                Ok(e) => {
                                    notices.see(&e);
                                    effects.extend(app.update(Msg::Core(e)));
                                }
                                Err(_) => break,
                            }
                        }
                    }
                    None => {
                        events_open = false;
                        let stopped = crate::runner::live::ended_summary(&run.0, run.1).is_some();
                        app.run_ended(match dropped.get() {
                            Some(why) => format!("{why} (the run goes on without this screen); q closes it"),
                            None if stopped => "the run has ended (stopped, or settled with no other terminal attached); its drafts wait for `expanse review` or a new `expanse run`; q closes this screen".to_string(),
                            None => format!("the run's process {} ended without a word (killed?); its journal keeps what it did, a new `expanse run` goes on from there; q closes this screen", run.1),
                        });
                    }
                },
                ev = next_input(&mut input) => match ev {
                    Some(Ok(ev)) => {
                        if let Some(msg) = message(ev) {
                            effects.extend(app.update(msg));
                        }
                    }
                    // The terminal is gone (its window closed): end as on SIGHUP.
                    Some(Err(_)) | None => {
                        ending = Ending::HungUp;
                        break 'main;
                    }
                },
                Some(msg) = msg_rx.recv() => effects.extend(app.update(msg)),
                _ = sleep_until(next_tick), if next_tick.is_some() => {
                    next_tick = None;
                    effects.extend(app.update(Msg::Tick));
                }
                _ = hup.recv() => {
                    // The terminal went away (a closed window, a dropped SSH connection): the
                    // run goes on without it, and `expanse attach` can pick it up.
                    ending = Ending::HungUp;
                    break 'main;
                }
                // Ended from outside: the terminal that started the run stops it (as quitting
                // did before runs had processes of their own); another only closes its screen.
                _ = int.recv() => {
                    ending = signalled(tui.owner, events_open);
                    break 'main;
                }
                _ = quit.recv() => {
                    ending = signalled(tui.owner, events_open);
                    break 'main;
                }
                _ = term_sig.recv() => {
                    ending = signalled(tui.owner, events_open);
                    break 'main;
                }
                _ = tstp.recv() => effects.push(Effect::Suspend),
                _ = sleep_until(frame_due), if frame_due.is_some() => {
                    let mut drawn = super::layout::Drawn::default();
                    term.terminal.draw(|f| drawn = view::draw(f, &app, &theme, Instant::now()))?;
                    app.drawn(drawn);
                    last_draw = Instant::now();
                }
            }
            for effect in effects {
                match effect {
                    Effect::Quit => {
                        ending = closing(Ending::Stop, events_open);
                        break 'main;
                    }
                    Effect::Detach => {
                        ending = closing(Ending::Detach, events_open);
                        break 'main;
                    }
                    Effect::Command(c) => {
                        // Never wait on the supervisor here: it may be waiting on us to read events.
                        if !events_open && dropped.get().is_some() {
                            app.notice("the run dropped this screen: nothing reaches it from here; `expanse attach` does");
                        } else if !events_open {
                            app.notice("the run has ended: nothing reaches it from here; `expanse review` or a new `expanse run` takes the drafts");
                        } else if commands.try_send(c).is_err() {
                            app.notice("busy: the command was not taken, try again");
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
                        app.mark_dirty();
                    }
                    Effect::Suspend => {
                        drop(input.take());
                        tokio::task::block_in_place(|| term.stop_process())?;
                        input = Some(EventStream::new());
                        let size = term.terminal.size()?;
                        send_msg(&msg_tx, Msg::Resize(size.width, size.height)).await;
                        app.mark_dirty();
                    }
                }
            }
        }
        drop(term);
        // Dropped by the run, not ended: leaving this screen leaves the run going.
        let ending = if ending == Ending::RunEnded && dropped.get().is_some() {
            Ending::Detach
        } else {
            ending
        };
        if ending == Ending::Stop {
            // Runners journal what they did, then the run closes its socket (the caller waits).
            let _ = commands.send(Command::Shutdown).await;
        }
        Ok(Closed {
            ending,
            events: ev_rx,
            commands,
        })
    }
}

/// How closing the screen the way `wanted` ends the session: once the run has ended, only the
/// screen closes.
fn closing(wanted: Ending, run_live: bool) -> Ending {
    if run_live { wanted } else { Ending::RunEnded }
}

/// How a signal that ends programs ends this session: the terminal that started the run stops
/// it, another only leaves it.
fn signalled(owner: bool, run_live: bool) -> Ending {
    closing(if owner { Ending::Stop } else { Ending::Detach }, run_live)
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

/// Watch the plan (its edits re-parse it: new cards, PARTs ticked by hand) and the knowledge base
/// (its edits refresh an open diff). The run watches the plan for itself.
fn watch_paths(
    plan_path: &Path,
    knowledge: &Path,
    tx: mpsc::Sender<Msg>,
) -> (
    Option<notify::RecommendedWatcher>,
    Option<notify::RecommendedWatcher>,
) {
    use notify::{RecursiveMode, Watcher};
    let to_app = tx.clone();
    let plan = crate::runner::on_plan_change(plan_path, move |plan| {
        let _ = to_app.blocking_send(Msg::PlanChanged(Box::new(plan)));
    });
    // notify reports absolute paths; compare against absolute ones.
    let knowledge_dir = knowledge
        .canonicalize()
        .unwrap_or_else(|_| knowledge.to_path_buf());
    let watched = knowledge_dir.clone();
    let files = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        let Ok(event) = res else { return };
        if !(event.kind.is_modify() || event.kind.is_create()) {
            return;
        }
        for path in event.paths {
            if path.starts_with(&watched) {
                let _ = tx.blocking_send(Msg::FileChanged(path));
            }
        }
    })
    .ok()
    .and_then(|mut w| {
        knowledge_dir.is_dir().then_some(())?;
        w.watch(&knowledge_dir, RecursiveMode::Recursive).ok()?;
        Some(w)
    });
    (plan, files)
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

/// The TUI's side of `[notify]` (the run itself runs the command): the terminal's bell and desktop
/// notification (at most one per [`crate::notify::TERMINAL_GAP`]), "finished" included.
struct Notices {
    notifier: crate::notify::Notifier,
    terminal: bool,
    plan: String,
    titles: std::collections::BTreeMap<u32, String>,
}

impl Notices {
    fn see(&mut self, e: &crate::runner::Event) {
        if let Some(notice) = crate::notify::Notice::of(e, &self.plan, &self.titles) {
            self.tell(notice);
        }
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
