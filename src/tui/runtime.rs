//! The TUI's driver: owns the terminal, reads input on a thread, runs the select loop, draws at
//! most 60 frames a second and only when something changed, and executes the app's effects.

use std::io::{Stdout, Write as _};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crossterm::event::{
    self as ct, Event as CtEvent, KeyCode, KeyEventKind, MouseButton, MouseEventKind,
};
use crossterm::{execute, terminal};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use tokio::sync::mpsc;

use super::app::{App, DraftSummary, Effect, Msg};
use super::keymap::Keymap;
use super::theme::Theme;
use super::view;
use crate::plan;
use crate::review::Review;
use crate::runner::{self, Command, RunContext, RunOptions, RunnerState, Summary};

/// How the TUI looks and behaves.
pub struct TuiOptions {
    /// Key bindings.
    pub keymap: Keymap,
    /// Drop all colours (NO_COLOR).
    pub no_color: bool,
    /// Ring the bell when a draft arrives.
    pub bell: bool,
}

/// Frames are at least this far apart (60 per second at most).
const FRAME: Duration = Duration::from_millis(16);
/// Spinner and elapsed-time tick.
const TICK: Duration = Duration::from_millis(250);
/// Core events applied per loop turn before input and drawing get a chance.
const DRAIN: usize = 20_000;

/// Restore the terminal: leave raw mode and the alternate screen, show the cursor.
pub fn restore_terminal() {
    let _ = terminal::disable_raw_mode();
    let _ = execute!(
        std::io::stdout(),
        ct::DisableMouseCapture,
        terminal::LeaveAlternateScreen,
        crossterm::cursor::Show
    );
}

/// The terminal in TUI mode; dropping it restores the terminal.
struct Term {
    terminal: Terminal<CrosstermBackend<Stdout>>,
}

impl Term {
    fn enter() -> std::io::Result<Term> {
        terminal::enable_raw_mode()?;
        let mut out = std::io::stdout();
        if let Err(e) = execute!(out, terminal::EnterAlternateScreen, ct::EnableMouseCapture) {
            restore_terminal();
            return Err(e);
        }
        let terminal =
            Terminal::new(CrosstermBackend::new(out)).inspect_err(|_| restore_terminal())?;
        Ok(Term { terminal })
    }

    /// Leave TUI mode for an external program (the editor).
    fn suspend(&mut self) {
        restore_terminal();
    }

    fn resume(&mut self) -> std::io::Result<()> {
        terminal::enable_raw_mode()?;
        execute!(
            std::io::stdout(),
            terminal::EnterAlternateScreen,
            ct::EnableMouseCapture
        )?;
        self.terminal.clear()
    }
}

impl Drop for Term {
    fn drop(&mut self) {
        restore_terminal();
    }
}

/// Restore the terminal before a panic message is printed, so it is readable.
fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        // A runner's panic is caught and reported as a failed PART while the UI goes on; only a
        // panic of the UI's own thread ends it, and then the terminal must be readable.
        if std::thread::current().name() == Some("main") {
            restore_terminal();
            previous(info);
        } else {
            // Printed on the UI's screen it would garble it; the PART shows the failure.
            tracing::error!("{info}");
        }
    }));
}

/// Keyboard, mouse and resize events, read on a thread (crossterm's reads block).
fn spawn_input(tx: mpsc::Sender<CtEvent>, paused: Arc<AtomicBool>, stop: Arc<AtomicBool>) {
    std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            // While the editor runs, its keystrokes are its own.
            if paused.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(20));
                continue;
            }
            match ct::poll(Duration::from_millis(50)) {
                Ok(true) => match ct::read() {
                    Ok(ev) => {
                        if tx.blocking_send(ev).is_err() {
                            return;
                        }
                    }
                    Err(_) => return,
                },
                Ok(false) => {}
                Err(_) => return,
            }
        }
    });
}

/// Run the TUI over a supervisor until the user quits; returns the run's summary.
pub async fn run(
    ctx: RunContext,
    options: RunOptions,
    tui: TuiOptions,
) -> std::io::Result<Summary> {
    let plan = ctx.plan.clone();
    // Which providers the run uses, and why, stays on screen until the first key.
    let providers = ctx.providers.description.clone();
    let review = Arc::new(Review::new(
        ctx.workspace.clone(),
        ctx.plan_path.clone(),
        ctx.journal.clone(),
    ));
    let plan_path = ctx.plan_path.clone();
    let knowledge = ctx.workspace.knowledge();
    let (ev_tx, mut ev_rx) = mpsc::channel(1024);
    let options = RunOptions {
        exit_when_settled: false,
        ..options
    };
    let only = options.only.clone();
    let (commands, supervisor) = runner::spawn(ctx, options, ev_tx);

    install_panic_hook();
    let mut term = Term::enter()?;
    let size = term.terminal.size()?;
    let mut app = App::new(&plan, only, (size.width, size.height));
    app.bell = tui.bell;
    app.notice = Some(providers);
    let theme = Theme::new(tui.no_color);

    let (in_tx, mut in_rx) = mpsc::channel(256);
    let input_paused = Arc::new(AtomicBool::new(false));
    let input_stop = Arc::new(AtomicBool::new(false));
    spawn_input(in_tx, input_paused.clone(), input_stop.clone());
    let (msg_tx, mut msg_rx) = mpsc::channel::<Msg>(256);
    let _watcher = watch_paths(&plan_path, &knowledge, msg_tx.clone());

    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let mut tick = tokio::time::interval(TICK);
    let mut last_draw = Instant::now() - FRAME;
    'main: loop {
        let frame_due = app
            .dirty
            .then(|| tokio::time::Instant::from_std(last_draw + FRAME));
        let mut effects = Vec::new();
        tokio::select! {
            Some(e) = ev_rx.recv() => {
                effects.extend(app.update(Msg::Core(e)));
                // Apply everything already waiting before drawing: a flood costs one frame.
                for _ in 0..DRAIN {
                    match ev_rx.try_recv() {
                        Ok(e) => effects.extend(app.update(Msg::Core(e))),
                        Err(_) => break,
                    }
                }
            }
            Some(input) = in_rx.recv() => {
                if let Some(msg) = translate(&app, &tui.keymap, input) {
                    effects.extend(app.update(msg));
                }
            }
            Some(msg) = msg_rx.recv() => effects.extend(app.update(msg)),
            _ = tick.tick() => effects.extend(app.update(Msg::Tick)),
            _ = sigterm.recv() => break 'main,
            _ = sleep_until(frame_due), if frame_due.is_some() => {
                term.terminal.draw(|f| view::draw(f, &app, &theme, &tui.keymap, Instant::now()))?;
                app.dirty = false;
                last_draw = Instant::now();
            }
        }
        for effect in effects {
            match effect {
                Effect::Quit => break 'main,
                Effect::Command(c) => {
                    // Never wait on the supervisor here: it may be waiting on us to read events.
                    if commands.try_send(c).is_err() {
                        app.notice = Some("busy: the command was not taken, try again".into());
                        app.dirty = true;
                    }
                }
                Effect::Bell => {
                    let _ = std::io::stdout().write_all(b"\x07");
                }
                Effect::LoadReview(n) => {
                    let (review, tx) = (review.clone(), msg_tx.clone());
                    tokio::task::spawn_blocking(move || {
                        let result = review.inspect(n).map(Box::new).map_err(|e| e.to_string());
                        let _ = tx.blocking_send(Msg::ReviewLoaded { part: n, result });
                    });
                }
                Effect::LoadDrafts => {
                    let (review, tx) = (review.clone(), msg_tx.clone());
                    tokio::task::spawn_blocking(move || {
                        let rows = review
                            .pending()
                            .map(|pending| {
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
                            })
                            .map_err(|e| e.to_string());
                        let _ = tx.blocking_send(Msg::DraftsLoaded(rows));
                    });
                }
                Effect::Edit(n) => {
                    input_paused.store(true, Ordering::Relaxed);
                    term.suspend();
                    let result = edit_draft(&review, n);
                    term.resume()?;
                    input_paused.store(false, Ordering::Relaxed);
                    app.dirty = true;
                    let _ = msg_tx.send(Msg::ReviewDone { part: n, result }).await;
                }
            }
        }
    }
    input_stop.store(true, Ordering::Relaxed);
    let _ = commands.send(Command::Shutdown).await;
    drop(term);
    // Events still in flight are not shown any more; the supervisor must not block on them.
    let drain = tokio::spawn(async move { while ev_rx.recv().await.is_some() {} });
    let summary = supervisor.await.map_err(std::io::Error::other)?;
    drain.abort();
    Ok(summary)
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

/// A terminal event as a message: text for an open prompt, otherwise a bound action.
fn translate(app: &App, keymap: &Keymap, ev: CtEvent) -> Option<Msg> {
    match ev {
        CtEvent::Key(k) if k.kind != KeyEventKind::Release => {
            if app.wants_text() {
                return match k.code {
                    KeyCode::Char(c) => Some(Msg::Char(c)),
                    KeyCode::Tab => Some(Msg::Char('\t')),
                    KeyCode::Backspace => Some(Msg::Backspace),
                    KeyCode::Enter => Some(Msg::Submit),
                    KeyCode::Esc => Some(Msg::Cancel),
                    _ => None,
                };
            }
            keymap.action(&k).map(Msg::Action)
        }
        CtEvent::Mouse(m) => match m.kind {
            MouseEventKind::Down(MouseButton::Left) => Some(Msg::Click {
                col: m.column,
                row: m.row,
            }),
            MouseEventKind::ScrollUp => Some(Msg::Wheel { up: true }),
            MouseEventKind::ScrollDown => Some(Msg::Wheel { up: false }),
            _ => None,
        },
        CtEvent::Resize(w, h) => Some(Msg::Resize(w, h)),
        _ => None,
    }
}

/// Open the draft in $VISUAL / $EDITOR; the edited text replaces the draft.
fn edit_draft(review: &Review, n: u32) -> Result<(RunnerState, String), String> {
    let draft = review.draft(n).map_err(|e| e.to_string())?;
    let Some(text) = crate::editor::edit(&draft.text).map_err(|e| e.to_string())? else {
        return Ok((RunnerState::Review, format!("PART {n}: no change")));
    };
    review.edit(n, &text).map_err(|e| e.to_string())?;
    Ok((
        RunnerState::Review,
        format!("PART {n}: draft edited ({} lines)", text.lines().count()),
    ))
}
