//! The TUI's state and its update function: messages in, state changed, effects out. No IO.
//! The app routes: keys to the overlay if one is open, else to the screen in front; core events
//! to the cards and to the review they concern. It holds no screen's logic.

use std::collections::BTreeSet;
use std::path::PathBuf;

use crate::plan::Plan;
use crate::review::{Inspection, ReviewError};
use crate::runner::{Command, Event, Refusal, What};
use crate::state::RunnerState;

use super::cards::{Cards, Change};
use super::keymap::{Action, Key, Keymap, ScreenKind};
use super::layout::{Drawn, MIN_SIZE};
use super::overlay::{Confirm, Outcome, Overlay, SearchTarget, help_rows};
use super::screens::drafts::{DraftSummary, DraftsScreen};
use super::screens::grid::GridScreen;
use super::screens::review::{ReviewScreen, StatusKind};
use super::screens::{Ctx, EditWhat, Effect, Step};

/// The screen in front of the grid, if any (the grid keeps its state underneath).
#[derive(Debug, Clone)]
pub enum Front {
    /// The grid (or its maximised log).
    Grid,
    /// A draft under review.
    Review(Box<ReviewScreen>),
    /// The drafts list.
    Drafts(DraftsScreen),
}

/// How an edit in `$EDITOR` ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edited {
    /// Saved unchanged.
    Unchanged,
    /// The text changed; the draft now has this many lines (file) or the drop was replaced.
    Changed {
        /// What was edited.
        what: EditWhat,
        /// Its lines now.
        lines: usize,
    },
}

/// Why an edit failed.
#[derive(Debug, thiserror::Error)]
pub enum EditFailure {
    /// The draft could not be read or saved.
    #[error(transparent)]
    Review(#[from] ReviewError),
    /// The editor could not be used.
    #[error(transparent)]
    Editor(#[from] crate::editor::EditorError),
}

/// Inputs to [`App::update`].
#[derive(Debug)]
pub enum Msg {
    /// A key press.
    Key(Key),
    /// A mouse click.
    Click {
        /// Column.
        col: u16,
        /// Row.
        row: u16,
    },
    /// The mouse wheel.
    Wheel {
        /// Towards the top.
        up: bool,
        /// Row under the pointer.
        row: u16,
    },
    /// The terminal's new size.
    Resize(u16, u16),
    /// An event from the core.
    Core(Event),
    /// A timer tick (spinners, elapsed time).
    Tick,
    /// The plan file changed on disk.
    PlanChanged(Box<Plan>),
    /// A file in the knowledge base changed on disk.
    FileChanged(PathBuf),
    /// The drafts list's rows finished loading.
    DraftsLoaded(Result<Vec<DraftSummary>, ReviewError>),
    /// A review's data finished loading.
    ReviewLoaded {
        /// Which PART.
        part: u32,
        /// The data, or why it could not be loaded.
        result: Result<Box<Inspection>, ReviewError>,
    },
    /// An edit in `$EDITOR` finished.
    Edited {
        /// Which PART.
        part: u32,
        /// What became of it.
        result: Result<Edited, EditFailure>,
    },
}

/// Notices the message log keeps.
pub const MESSAGES_KEPT: usize = 200;

pub mod view;

/// The run's settings a screen works with: set once, after the screen opens.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Key bindings.
    pub keymap: Keymap,
    /// Ask for a confirming key before approving.
    pub confirm_approve: bool,
    /// Which providers the run uses, in a few words (for the header).
    pub providers: String,
    /// The run's model budget, for the header.
    pub budget: crate::runner::budget::Limits,
    /// Model prices, for costs (None: no cost is shown).
    pub prices: Option<crate::runner::budget::Prices>,
    /// The run's token estimate (low, high), shown until the first model request.
    pub estimate: Option<(u64, u64)>,
}

/// The whole TUI state.
#[derive(Debug, Clone)]
pub struct App {
    /// The plan's title.
    title: String,
    /// Which providers the run uses, in a few words (for the header).
    providers: String,
    /// One card per PART.
    cards: Cards,
    /// Index of the selected card.
    selected: usize,
    /// The grid screen (always there, under whatever is in front).
    grid: GridScreen,
    /// The screen in front.
    front: Front,
    /// The one overlay, if open.
    overlay: Option<Overlay>,
    /// Key bindings.
    keymap: Keymap,
    /// Drafts that arrived while the reviewer looked elsewhere and have not been opened.
    unseen: BTreeSet<u32>,
    /// The run has ended (its socket closed): quitting only closes the screen.
    run_ended: bool,
    /// Ask for a confirming key before approving.
    confirm_approve: bool,
    /// Terminal size.
    size: (u16, u16),
    /// Timer ticks so far (spinner frame).
    ticks: u64,
    /// Something changed since the last frame.
    dirty: bool,
    /// A one-line notice for the key bar (the last action's result).
    notice: Option<String>,
    /// Every notice shown, oldest first, the last [`MESSAGES_KEPT`] (the message log, whole).
    messages: std::collections::VecDeque<String>,
    /// The run's model budget, for the header.
    budget: crate::runner::budget::Limits,
    /// Model prices, for costs (None: no cost is shown).
    prices: Option<crate::runner::budget::Prices>,
    /// The run's token estimate (low, high), shown until the first model request.
    estimate: Option<(u64, u64)>,
    /// Paths written by the approval under review, for the notice when it completes.
    written: Vec<String>,
    /// What the last frame drew where (clicks are tested against it).
    drawn: Drawn,
}

impl App {
    /// Show `text` in the key bar and keep it in the message log, with the time.
    pub fn say(&mut self, text: String) {
        let time = chrono::Local::now().format("%H:%M:%S");
        self.messages.push_back(format!("{time}  {text}"));
        while self.messages.len() > MESSAGES_KEPT {
            self.messages.pop_front();
        }
        self.notice = Some(text);
    }

    /// The app for `plan`'s PARTs (those in `only`, when given).
    pub fn new(plan: &Plan, only: Option<BTreeSet<u32>>, size: (u16, u16)) -> App {
        App {
            title: plan.title.clone().unwrap_or_else(|| "plan".to_string()),
            providers: String::new(),
            cards: Cards::new(plan, only),
            selected: 0,
            grid: GridScreen::default(),
            front: Front::Grid,
            overlay: None,
            keymap: Keymap::default(),
            unseen: BTreeSet::new(),
            confirm_approve: true,
            run_ended: false,
            size,
            ticks: 0,
            dirty: true,
            notice: None,
            estimate: None,
            drawn: Drawn::default(),
            messages: std::collections::VecDeque::new(),
            budget: Default::default(),
            prices: None,
            written: Vec::new(),
        }
    }

    /// The keymap that applies now.
    pub fn screen_kind(&self) -> ScreenKind {
        match &self.front {
            Front::Grid => self.grid.kind(),
            Front::Review(_) => ScreenKind::Review,
            Front::Drafts(_) => ScreenKind::Drafts,
        }
    }

    /// What screens see of the app.
    pub fn ctx(&self) -> Ctx<'_> {
        Ctx {
            cards: &self.cards,
            selected: self.selected,
            size: self.size,
        }
    }

    /// Whether something on screen animates (a spinner turns), so ticks are worth having.
    pub fn animating(&self) -> bool {
        matches!(self.front, Front::Grid) && self.cards.list.iter().any(|c| c.spinning())
    }

    fn too_small(&self) -> bool {
        self.size.0 < MIN_SIZE.0 || self.size.1 < MIN_SIZE.1
    }

    /// Apply one message; returns what the runtime must do.
    pub fn update(&mut self, msg: Msg) -> Vec<Effect> {
        let mut steps = Vec::new();
        match msg {
            Msg::Tick => {
                self.ticks += 1;
                if self.animating() {
                    self.dirty = true;
                }
                return Vec::new();
            }
            Msg::Key(k) => steps = self.on_key(k),
            Msg::Core(e) => steps = self.on_core(e),
            Msg::Resize(w, h) => {
                self.size = (w, h);
                let ctx = Ctx {
                    cards: &self.cards,
                    selected: self.selected,
                    size: self.size,
                };
                self.grid.select(&ctx, self.selected);
            }
            // The run reads the plan itself; the screen only shows what changed.
            Msg::PlanChanged(plan) => {
                self.cards.merge_plan(&plan);
            }
            Msg::FileChanged(path) => {
                if let Front::Review(r) = &self.front
                    && !r.is_busy()
                    && let Some(card) = self.cards.get(r.part())
                    && path.ends_with(&card.target)
                {
                    steps.push(Step::Effect(Effect::LoadReview(r.part())));
                }
            }
            Msg::ReviewLoaded { part, result } => {
                if let Front::Review(r) = &mut self.front
                    && r.part() == part
                {
                    match result {
                        Ok(data) => r.loaded(data),
                        Err(e) => r.say(StatusKind::Error, e.to_string()),
                    }
                }
            }
            Msg::Edited { part, result } => steps = self.on_edited(part, result),
            Msg::DraftsLoaded(rows) => match rows {
                Ok(rows) => {
                    if let Front::Drafts(d) = &mut self.front {
                        d.loaded(rows);
                    }
                }
                Err(e) => self.say(format!("cannot list the drafts: {e}")),
            },
            Msg::Click { col, row } => steps = self.on_click(col, row),
            Msg::Wheel { up, row } => self.on_wheel(up, row),
        }
        self.dirty = true;
        self.apply(steps)
    }

    fn on_key(&mut self, key: Key) -> Vec<Step> {
        if let Some(mut overlay) = self.overlay.take() {
            let rows = help_rows(ratatui::layout::Rect::new(0, 0, self.size.0, self.size.1));
            return match overlay.key(key, &self.keymap, rows) {
                Outcome::Keep => {
                    self.overlay = Some(overlay);
                    Vec::new()
                }
                Outcome::Close(steps) => steps,
            };
        }
        self.notice = None;
        let screen = self.screen_kind();
        let Some(action) = self.keymap.action(screen, key) else {
            if self.too_small() {
                return Vec::new();
            }
            return vec![Step::Notice(format!(
                "{} does nothing on the {} screen; ? lists its keys",
                key.label(),
                screen.name()
            ))];
        };
        match action {
            Action::Quit => {
                let (active, paused, drafts) = (
                    self.cards.active(),
                    self.cards.paused(),
                    self.cards.in_review().len(),
                );
                // Stopping an ended or idle run loses nothing: no need to ask.
                if self.run_ended || self.too_small() || (active == 0 && paused == 0 && drafts == 0)
                {
                    vec![Step::Effect(Effect::Quit)]
                } else {
                    vec![Step::Overlay(Overlay::Confirm(Confirm::Quit {
                        active,
                        paused,
                        drafts,
                    }))]
                }
            }
            Action::Detach => vec![Step::Effect(Effect::Detach)],
            _ if self.too_small() => Vec::new(),
            Action::Help => vec![Step::Overlay(Overlay::Help { screen, scroll: 0 })],
            Action::Messages => vec![Step::Overlay(Overlay::Messages {
                lines: self.messages.iter().cloned().collect(),
                scroll: 0,
            })],
            Action::Suspend => vec![Step::Effect(Effect::Suspend)],
            _ => {
                let ctx = Ctx {
                    cards: &self.cards,
                    selected: self.selected,
                    size: self.size,
                };
                match &mut self.front {
                    Front::Grid => self.grid.handle(action, &ctx),
                    Front::Review(r) => r.handle(action, &ctx),
                    Front::Drafts(d) => d.handle(action, &ctx),
                }
            }
        }
    }

    fn on_core(&mut self, e: Event) -> Vec<Step> {
        let Some(n) = e.part else {
            return vec![Step::Notice(e.message)];
        };
        let reviewing = matches!(&self.front, Front::Review(r) if r.part() == n);
        let selected = self.cards.list.get(self.selected).map(|c| c.number) == Some(n);
        let mut steps = Vec::new();
        if let Change::DraftArrived(n) = self.cards.apply(&e) {
            if reviewing {
                steps.push(Step::Effect(Effect::LoadReview(n)));
            } else {
                self.unseen.insert(n);
            }
        }
        // A draft approved, rejected or retried elsewhere (another terminal, a plan edit) is
        // no longer new: `n` must not lead to it. (The set first: most events are log lines of
        // PARTs not in it, and the card lookup is a scan.)
        if self.unseen.contains(&n)
            && self
                .cards
                .get(n)
                .is_some_and(|c| c.state != RunnerState::Review)
        {
            self.unseen.remove(&n);
        }
        if selected && !matches!(e.what, What::State { .. }) {
            self.grid.log_mut().line_added();
        }
        if let What::Written { path } = &e.what {
            self.written.push(path.clone());
        }
        // An undo (or any decision made away from the review screen) says how it ended.
        if e.cause() == Some(crate::runner::Cause::Undone) {
            steps.push(Step::Notice(format!(
                "PART {n}: approval undone; the draft awaits review again"
            )));
        }
        let Front::Review(r) = &mut self.front else {
            return steps;
        };
        if r.part() != n {
            return steps;
        }
        let refusal = match e.what {
            What::Error { refusal } => refusal,
            _ => None,
        };
        match (refusal, e.state_now()) {
            (Some(Refusal::Conflict), _) => {
                r.refused(StatusKind::Conflict, e.message.clone());
                steps.push(Step::Effect(Effect::LoadReview(n)));
            }
            (Some(Refusal::Failed), _) => {
                r.refused(StatusKind::Error, e.message.clone());
            }
            (None, Some(state)) if state != RunnerState::Review => {
                let what = match state {
                    RunnerState::Approved if self.written.is_empty() => "approved".to_string(),
                    RunnerState::Approved => {
                        format!("approved: wrote {}", self.written.join(" and "))
                    }
                    RunnerState::Queued | RunnerState::Rejected if !e.message.is_empty() => {
                        e.message.clone()
                    }
                    RunnerState::Queued | RunnerState::Rejected => {
                        "rejected; it is written again with your reason".to_string()
                    }
                    RunnerState::Skipped => "rejected and skipped".to_string(),
                    other => other.phrase().to_string(),
                };
                self.written.clear();
                steps.push(Step::Notice(format!("PART {n} {what}")));
                steps.push(Step::Close);
            }
            _ => {}
        }
        steps
    }

    fn on_edited(&mut self, part: u32, result: Result<Edited, EditFailure>) -> Vec<Step> {
        let reviewing = matches!(&self.front, Front::Review(r) if r.part() == part);
        let (kind, text, reload) = match result {
            Ok(Edited::Unchanged) => (StatusKind::Info, format!("PART {part}: no change"), false),
            Ok(Edited::Changed { what, lines }) => {
                if what == EditWhat::File {
                    self.cards.set_lines(part, lines);
                }
                let name = match what {
                    EditWhat::File => "draft",
                    EditWhat::Drop => "drop",
                };
                (
                    StatusKind::Info,
                    format!(
                        "PART {part}: {name} edited ({})",
                        crate::words::plural(lines, "line")
                    ),
                    true,
                )
            }
            Err(e) => {
                // The key bar cuts a long message (a path where the text is kept): the PART's
                // log holds it whole.
                self.cards.apply(&Event::log(
                    Some(part),
                    crate::runner::Level::Warn,
                    format!("edit not saved: {e}"),
                ));
                (
                    StatusKind::Error,
                    format!("edit not saved (the log of PART {part} says why): {e}"),
                    false,
                )
            }
        };
        if let Front::Review(r) = &mut self.front
            && reviewing
        {
            r.say(kind, text.clone());
        }
        let mut steps = vec![Step::Notice(text)];
        if reload && reviewing {
            steps.push(Step::Effect(Effect::LoadReview(part)));
        }
        steps
    }

    /// Keep what a frame drew, for the clicks that follow it.
    pub fn drawn(&mut self, drawn: Drawn) {
        self.drawn = drawn;
        self.dirty = false;
    }

    /// Take the run's settings (keys, the approval question, what the header shows).
    pub fn configure(&mut self, s: Settings) {
        self.keymap = s.keymap;
        self.confirm_approve = s.confirm_approve;
        self.providers = s.providers;
        self.budget = s.budget;
        self.prices = s.prices;
        self.estimate = s.estimate;
    }

    /// The cards as the journal left them (states, logs, times) before any event; records from
    /// `since` on are the live run's own.
    pub fn seed(&mut self, history: &[crate::journal::Record], since: &str) {
        self.cards.seed(history, since);
    }

    /// Something changed since the last frame.
    pub fn is_dirty(&self) -> bool {
        self.dirty
    }

    /// Draw again at the next frame (the terminal came back from an editor or a suspend).
    pub fn mark_dirty(&mut self) {
        self.dirty = true;
    }

    /// Show `text` in the key bar until the next one (not kept in the message log).
    pub fn notice(&mut self, text: impl Into<String>) {
        self.notice = Some(text.into());
        self.dirty = true;
    }

    /// The run has ended (its socket closed): say `why`; quitting only closes the screen now.
    pub fn run_ended(&mut self, why: String) {
        self.run_ended = true;
        self.say(why);
        self.dirty = true;
    }

    /// The screen in front.
    pub fn front(&self) -> &Front {
        &self.front
    }

    /// The overlay, if one is open.
    pub fn overlay(&self) -> Option<&Overlay> {
        self.overlay.as_ref()
    }

    /// Index of the selected card.
    pub fn selected(&self) -> usize {
        self.selected
    }

    /// The cards, one per PART.
    pub fn cards(&self) -> &Cards {
        &self.cards
    }

    /// The key bar's notice, if any.
    pub fn notice_text(&self) -> Option<&str> {
        self.notice.as_deref()
    }

    /// Clear the key bar's notice.
    pub fn clear_notice(&mut self) {
        self.notice = None;
    }

    /// Select card `index` (the last one if past the end), as a click or an arrow would.
    pub fn select(&mut self, index: usize) {
        self.selected = index.min(self.cards.list.len().saturating_sub(1));
        self.dirty = true;
    }

    /// Drafts that arrived while the reviewer looked elsewhere and have not been opened.
    pub fn unseen(&self) -> &BTreeSet<u32> {
        &self.unseen
    }

    /// The grid screen (under whatever is in front).
    pub fn grid(&self) -> &GridScreen {
        &self.grid
    }

    fn on_click(&mut self, col: u16, row: u16) -> Vec<Step> {
        if self.overlay.is_some() || !matches!(self.front, Front::Grid) {
            return Vec::new();
        }
        let ctx = Ctx {
            cards: &self.cards,
            selected: self.selected,
            size: self.size,
        };
        // Hit-tested against what the last frame drew, not a layout computed again.
        let Some(index) = self.drawn.card_at(col, row) else {
            return Vec::new();
        };
        let card = &self.cards.list[index];
        if index == self.selected && card.state == RunnerState::Review {
            vec![Step::OpenReview(card.number)]
        } else {
            self.grid.select(&ctx, index)
        }
    }

    fn on_wheel(&mut self, up: bool, row: u16) {
        if self.overlay.is_some() {
            return;
        }
        let action = if up { Action::Up } else { Action::Down };
        let ctx = Ctx {
            cards: &self.cards,
            selected: self.selected,
            size: self.size,
        };
        match &mut self.front {
            Front::Grid if self.grid.in_grid(self.size, row) => {
                self.grid.scroll_grid(&ctx, if up { -3 } else { 3 })
            }
            Front::Grid => {
                if let Some(card) = self.cards.list.get(self.selected) {
                    let inner = self.grid.log_inner(self.size);
                    for _ in 0..3 {
                        self.grid.log_mut().handle(action, &card.log, inner);
                    }
                }
            }
            Front::Review(r) => {
                for _ in 0..3 {
                    r.handle(action, &ctx);
                }
            }
            Front::Drafts(d) => {
                d.handle(action, &ctx);
            }
        }
    }

    /// Apply the steps a handler asked for; returns the runtime's effects.
    fn apply(&mut self, steps: Vec<Step>) -> Vec<Effect> {
        let mut fx = Vec::new();
        for step in steps {
            match step {
                Step::Effect(e) => {
                    if let Effect::Command(
                        Command::Approve { part, .. }
                        | Command::Reject { part, .. }
                        | Command::Regenerate { part, .. },
                    ) = &e
                        && let Front::Review(r) = &mut self.front
                        && r.part() == *part
                    {
                        r.waiting();
                        self.written.clear();
                    }
                    fx.push(e);
                }
                Step::Select(i) => self.select(i),
                Step::OpenReview(n) => fx.extend(self.open_review(n)),
                Step::NextDraft => {
                    // Drafts not yet opened come first, starting from the selected card.
                    let count = self.cards.list.len();
                    let unseen = (0..count)
                        .map(|k| (self.selected + k) % count)
                        .find(|&i| self.unseen.contains(&self.cards.list[i].number));
                    let next = unseen.or_else(|| {
                        (1..=count)
                            .map(|k| (self.selected + k) % count)
                            .find(|&i| self.cards.list[i].state == RunnerState::Review)
                    });
                    match next {
                        Some(i) => {
                            let n = self.cards.list[i].number;
                            fx.extend(self.open_review(n));
                        }
                        None => self.say("no draft awaits review".into()),
                    }
                }
                Step::OpenDrafts => {
                    self.front = Front::Drafts(DraftsScreen::default());
                    fx.push(Effect::LoadDrafts);
                }
                Step::Close => self.front = Front::Grid,
                Step::Overlay(o) => self.overlay = Some(o),
                Step::Notice(s) => self.say(s),
                Step::Search { target, query } => match target {
                    SearchTarget::Log => {
                        if let Some(card) = self.cards.list.get(self.selected) {
                            let inner = self.grid.log_inner(self.size);
                            self.grid.log_mut().search(query, &card.log, inner);
                        }
                    }
                    SearchTarget::Diff => {
                        if let Front::Review(r) = &mut self.front {
                            r.search(query, self.size);
                        }
                    }
                },
            }
        }
        fx
    }

    fn open_review(&mut self, n: u32) -> Vec<Effect> {
        let Some(index) = self.cards.index_of(n) else {
            return Vec::new();
        };
        let ctx = Ctx {
            cards: &self.cards,
            selected: self.selected,
            size: self.size,
        };
        self.grid.select(&ctx, index);
        self.selected = index;
        self.unseen.remove(&n);
        self.front = Front::Review(Box::new(ReviewScreen::new(n, self.confirm_approve)));
        vec![Effect::LoadReview(n)]
    }
}
