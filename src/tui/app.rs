//! The TUI's state and its update function: messages in, state changed, effects out. No IO here.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::plan::Plan;
use crate::runner::{Command, Event, EventKind, Level, RunnerState, Target};

use super::keymap::Action;
use super::layout::{GridItem, grid_layout};
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
    /// When it first became active.
    pub started: Option<Instant>,
    /// Time spent, frozen once settled.
    pub elapsed: Duration,
    /// The last error or state message.
    pub message: String,
    /// Its log.
    pub log: LogBuf,
}

impl Card {
    /// Time active so far.
    pub fn elapsed_now(&self, now: Instant) -> Duration {
        match self.started {
            Some(t) if self.state.is_active() || self.state == RunnerState::Queued => now - t,
            _ => self.elapsed,
        }
    }
}

/// What the review screen shows, computed off the render loop.
pub type ReviewData = crate::review::Inspection;

/// One row of the drafts list: +/− counts and the checklist summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DraftSummary {
    /// The PART.
    pub part: u32,
    /// Lines added against the file on disk.
    pub added: usize,
    /// Lines removed.
    pub removed: usize,
    /// The checklist's one-line summary.
    pub checklist: String,
    /// Whether the checklist is clean.
    pub clean: bool,
}

/// Which side of a draft the review screen shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewTab {
    /// The knowledge file.
    File,
    /// The KNOWLEDGE DROP.
    Drop,
}

/// The review screen's state.
#[derive(Debug, Clone)]
pub struct ReviewView {
    /// The PART under review.
    pub part: u32,
    /// File or drop.
    pub tab: ReviewTab,
    /// First diff line shown.
    pub scroll: usize,
    /// Loaded data (None while loading).
    pub data: Option<ReviewData>,
    /// A message: loading error, approval result, conflict.
    pub status: Option<String>,
    /// An approval or rejection is running.
    pub busy: bool,
}

/// The reject prompt.
#[derive(Debug, Clone, Default)]
pub struct RejectPrompt {
    /// The PART.
    pub part: u32,
    /// The reason typed so far.
    pub reason: String,
    /// Send it back to the writer (else skip it).
    pub requeue: bool,
}

/// The screen shown.
#[derive(Debug, Clone)]
pub enum Mode {
    /// Cards and the selected runner's log.
    Grid,
    /// The selected runner's log, maximised.
    Log,
    /// A draft's diff and checklist.
    Review(Box<ReviewView>),
    /// Every draft awaiting review.
    Drafts {
        /// Selected row.
        selected: usize,
    },
}

/// Log view state of the selected runner's pane.
#[derive(Debug, Clone, Default)]
pub struct LogView {
    /// Lines scrolled up from the end (0 = following).
    pub offset: usize,
    /// Stick to the end as lines arrive.
    pub follow: bool,
    /// The active search.
    pub query: String,
    /// The current match (index into the matches).
    pub current: usize,
    /// Hide non-matching lines.
    pub filter: bool,
}

/// Inputs to [`App::update`].
#[derive(Debug, Clone)]
pub enum Msg {
    /// A key resolved to an action.
    Action(Action),
    /// A character typed while a prompt has focus.
    Char(char),
    /// Backspace in a prompt.
    Backspace,
    /// Enter in a prompt.
    Submit,
    /// Esc in a prompt.
    Cancel,
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
    DraftsLoaded(Result<Vec<DraftSummary>, String>),
    /// A review's data finished loading.
    ReviewLoaded {
        /// Which PART.
        part: u32,
        /// The data, or why it could not be loaded.
        result: Result<Box<ReviewData>, String>,
    },
    /// An approval, rejection or edit finished.
    ReviewDone {
        /// Which PART.
        part: u32,
        /// The state the PART is now in, with a message; or the error.
        result: Result<(RunnerState, String), String>,
    },
}

/// What the runtime must do after an update.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Send a command to the supervisor.
    Command(Command),
    /// Compute a draft's diff and checklist.
    LoadReview(u32),
    /// Compute the +/− counts and checklists of every draft awaiting review.
    LoadDrafts,
    /// Open the draft in $EDITOR (suspending the TUI).
    Edit(u32),
    /// Ring the terminal bell.
    Bell,
    /// Leave.
    Quit,
}

/// The whole TUI state.
#[derive(Debug, Clone)]
pub struct App {
    /// The plan's title.
    pub title: String,
    /// One card per PART, in plan order.
    pub cards: Vec<Card>,
    /// Index of the selected card.
    pub selected: usize,
    /// The screen.
    pub mode: Mode,
    /// The selected runner's log view.
    pub log: LogView,
    /// The help overlay is open.
    pub help: bool,
    /// The quit confirmation is open.
    pub confirm_quit: bool,
    /// The reject prompt, when open.
    pub prompt: Option<RejectPrompt>,
    /// The log search being typed, when open.
    pub search_input: Option<String>,
    /// Drafts that arrived while the user looked elsewhere.
    pub new_drafts: usize,
    /// Ring the bell when a draft arrives.
    pub bell: bool,
    /// Terminal size.
    pub size: (u16, u16),
    /// Timer ticks so far (spinner frame).
    pub ticks: u64,
    /// Something changed since the last frame.
    pub dirty: bool,
    /// A one-line notice for the footer (last action's result).
    pub notice: Option<String>,
    /// The PARTs this run covers (None: all).
    pub only: Option<BTreeSet<u32>>,
    /// Rows of the drafts list, once computed.
    pub draft_rows: Vec<DraftSummary>,
}

impl App {
    /// The app for `plan`'s PARTs (those in `only`, when given), each queued (or done, as the
    /// plan says) until events arrive.
    pub fn new(plan: &Plan, only: Option<BTreeSet<u32>>, size: (u16, u16)) -> App {
        let mut app = App {
            title: plan.title.clone().unwrap_or_else(|| "plan".to_string()),
            cards: Vec::new(),
            selected: 0,
            mode: Mode::Grid,
            log: LogView {
                follow: true,
                ..LogView::default()
            },
            help: false,
            confirm_quit: false,
            prompt: None,
            search_input: None,
            new_drafts: 0,
            bell: false,
            size,
            ticks: 0,
            dirty: true,
            notice: None,
            only,
            draft_rows: Vec::new(),
        };
        app.merge_plan(plan);
        app
    }

    fn merge_plan(&mut self, plan: &Plan) -> bool {
        let mut added = false;
        for p in &plan.parts {
            if self.cards.iter().any(|c| c.number == p.number)
                || self.only.as_ref().is_some_and(|o| !o.contains(&p.number))
            {
                continue;
            }
            added = true;
            self.cards.push(Card {
                number: p.number,
                stem: p.stem().to_string(),
                target: p.target.clone(),
                expansion: p.expansion.as_ref().map(|e| (e.number, e.title.clone())),
                state: if p.done {
                    RunnerState::Done
                } else {
                    RunnerState::Queued
                },
                step: None,
                sources: 0,
                lines: None,
                started: None,
                elapsed: Duration::ZERO,
                message: String::new(),
                log: LogBuf::default(),
            });
        }
        added
    }

    /// The selected card.
    pub fn current(&self) -> Option<&Card> {
        self.cards.get(self.selected)
    }

    fn card_mut(&mut self, n: u32) -> Option<&mut Card> {
        self.cards.iter_mut().find(|c| c.number == n)
    }

    /// Whether keys should go to a prompt as text instead of actions.
    pub fn wants_text(&self) -> bool {
        self.prompt.is_some() || self.search_input.is_some() || self.confirm_quit
    }

    /// Runners doing work (or paused mid-work).
    pub fn active(&self) -> usize {
        self.cards
            .iter()
            .filter(|c| c.state.is_active() || c.state == RunnerState::Queued)
            .count()
    }

    /// Drafts awaiting review.
    pub fn in_review(&self) -> Vec<&Card> {
        self.cards
            .iter()
            .filter(|c| c.state == RunnerState::Review)
            .collect()
    }

    /// The log match positions of the selected runner for the active query.
    pub fn matches(&self) -> Vec<usize> {
        self.current()
            .map(|c| c.log.matches(&self.log.query))
            .unwrap_or_default()
    }

    /// Apply one message; returns what the runtime must do.
    pub fn update(&mut self, msg: Msg) -> Vec<Effect> {
        let mut fx = Vec::new();
        match msg {
            Msg::Tick => {
                self.ticks += 1;
                // Only active cards animate; an idle screen is not redrawn.
                if self.cards.iter().any(|c| c.state.is_active()) {
                    self.dirty = true;
                }
                return fx;
            }
            Msg::Core(event) => self.on_core(event, &mut fx),
            Msg::Resize(w, h) => self.size = (w, h),
            Msg::PlanChanged(plan) => {
                self.merge_plan(&plan);
                fx.push(Effect::Command(Command::UpdatePlan(plan)));
            }
            Msg::FileChanged(path) => {
                if let Mode::Review(v) = &self.mode
                    && !v.busy
                    && let Some(card) = self.cards.iter().find(|c| c.number == v.part)
                    && path.ends_with(&card.target)
                {
                    fx.push(Effect::LoadReview(v.part));
                }
            }
            Msg::ReviewLoaded { part, result } => {
                if let Mode::Review(v) = &mut self.mode
                    && v.part == part
                {
                    match result {
                        Ok(data) => {
                            v.data = Some(*data);
                            v.status = v.status.take().filter(|s| s.starts_with("changed on disk"));
                        }
                        Err(e) => v.status = Some(e),
                    }
                }
            }
            Msg::ReviewDone { part, result } => self.on_review_done(part, result, &mut fx),
            Msg::DraftsLoaded(rows) => match rows {
                Ok(rows) => self.draft_rows = rows,
                Err(e) => self.notice = Some(format!("cannot list the drafts: {e}")),
            },
            Msg::Click { col, row } => self.on_click(col, row, &mut fx),
            Msg::Wheel { up } => self.scroll(if up { -3 } else { 3 }),
            Msg::Char(c) => self.on_char(c, &mut fx),
            Msg::Backspace => {
                if let Some(p) = &mut self.prompt {
                    p.reason.pop();
                } else if let Some(s) = &mut self.search_input {
                    s.pop();
                }
            }
            Msg::Submit => self.on_submit(&mut fx),
            Msg::Cancel => {
                self.prompt = None;
                self.search_input = None;
                self.confirm_quit = false;
            }
            Msg::Action(a) => self.on_action(a, &mut fx),
        }
        self.dirty = true;
        fx
    }

    fn on_core(&mut self, e: Event, fx: &mut Vec<Effect>) {
        let Some(n) = e.part else {
            self.notice = Some(e.message);
            return;
        };
        if self.card_mut(n).is_none() {
            return;
        }
        let viewing = matches!(&self.mode, Mode::Review(v) if v.part == n);
        let time = e.ts.get(11..19).unwrap_or("").to_string();
        let Some(card) = self.card_mut(n) else { return };
        if let Some(step) = e.step {
            card.step = Some(step);
        }
        if let Some(s) = e.sources {
            card.sources = s;
        }
        match e.kind {
            EventKind::State | EventKind::Draft => {
                if let Some(state) = e.state {
                    let was = card.state;
                    if state.is_active() && card.started.is_none() {
                        card.started = Some(Instant::now());
                    }
                    if !state.is_active()
                        && state != RunnerState::Queued
                        && let Some(t) = card.started
                    {
                        card.elapsed = t.elapsed();
                    }
                    if state == RunnerState::Queued && was.is_settled() {
                        card.started = None;
                        card.lines = None;
                    }
                    if was != state && !matches!(state, RunnerState::Paused | RunnerState::Stalled)
                    {
                        card.step = None;
                    }
                    card.state = state;
                    let text = if e.message.is_empty() {
                        format!("→ {state}")
                    } else {
                        format!("→ {state}: {}", e.message)
                    };
                    let level = if state == RunnerState::Failed {
                        Level::Error
                    } else {
                        Level::Info
                    };
                    card.log.push(&time, level, &text);
                    if state == RunnerState::Failed {
                        card.message = e.message.clone();
                    }
                }
                if e.kind == EventKind::Draft {
                    card.lines = e.lines;
                    if !viewing {
                        self.new_drafts += 1;
                        if self.bell {
                            fx.push(Effect::Bell);
                        }
                    }
                }
            }
            EventKind::Log | EventKind::Error | EventKind::Written => {
                let level = if e.kind == EventKind::Error {
                    Level::Error
                } else {
                    e.level.unwrap_or(Level::Info)
                };
                card.log.push(&time, level, &e.message);
                if e.kind == EventKind::Error {
                    card.message = e.message.clone();
                }
            }
        }
        // The supervisor answers an approval or rejection with events; the review screen follows.
        if let Mode::Review(v) = &mut self.mode
            && v.part == n
            && v.busy
        {
            match (e.kind, e.state) {
                (EventKind::Error, _) => {
                    v.busy = false;
                    v.status = Some(e.message.clone());
                    fx.push(Effect::LoadReview(n));
                }
                (
                    _,
                    Some(
                        RunnerState::Approved
                        | RunnerState::Skipped
                        | RunnerState::Rejected
                        | RunnerState::Queued,
                    ),
                ) => {
                    self.notice = Some(format!(
                        "PART {n}: {}",
                        if e.message.is_empty() {
                            "done"
                        } else {
                            &e.message
                        }
                    ));
                    self.mode = Mode::Grid;
                }
                _ => {}
            }
        }
        // Keep a log scrolled up by the user anchored on the same lines.
        if self.current().map(|c| c.number) == Some(n) && !self.log.follow && self.log.offset > 0 {
            self.log.offset += 1;
        }
    }

    fn on_review_done(
        &mut self,
        part: u32,
        result: Result<(RunnerState, String), String>,
        fx: &mut Vec<Effect>,
    ) {
        let in_view = matches!(&self.mode, Mode::Review(v) if v.part == part);
        match result {
            Ok((state, message)) => {
                if let Some(card) = self.card_mut(part) {
                    card.state = state;
                    card.log.push("", Level::Info, &message);
                }
                self.notice = Some(message.clone());
                if state == RunnerState::Review {
                    // An edit: show the new diff.
                    if let Mode::Review(v) = &mut self.mode {
                        v.busy = false;
                        v.status = Some(message);
                    }
                    fx.push(Effect::LoadReview(part));
                } else if in_view {
                    self.mode = Mode::Grid;
                }
            }
            Err(message) => {
                self.notice = Some(message.clone());
                if let Mode::Review(v) = &mut self.mode
                    && v.part == part
                {
                    v.busy = false;
                    v.status = Some(message);
                    fx.push(Effect::LoadReview(part));
                }
            }
        }
    }

    fn on_char(&mut self, c: char, fx: &mut Vec<Effect>) {
        if self.confirm_quit {
            match c {
                'y' | 'Y' | 'q' => fx.push(Effect::Quit),
                _ => self.confirm_quit = false,
            }
        } else if let Some(p) = &mut self.prompt {
            if c == '\t' {
                p.requeue = !p.requeue;
            } else {
                p.reason.push(c);
            }
        } else if let Some(s) = &mut self.search_input {
            s.push(c);
        }
    }

    fn on_submit(&mut self, fx: &mut Vec<Effect>) {
        if let Some(p) = self.prompt.take() {
            if let Mode::Review(v) = &mut self.mode {
                v.busy = true;
                v.status = Some("rejecting…".into());
            }
            let reason = p.reason.trim().to_string();
            fx.push(Effect::Command(Command::Reject {
                part: p.part,
                reason: (!reason.is_empty()).then_some(reason),
                requeue: p.requeue,
            }));
        } else if let Some(q) = self.search_input.take() {
            self.log.query = q;
            let m = self.matches();
            self.log.current = m.len().saturating_sub(1);
            self.jump_to_match();
        } else if self.confirm_quit {
            fx.push(Effect::Quit);
        }
    }

    /// Scroll the log so the current match is visible.
    fn jump_to_match(&mut self) {
        let m = self.matches();
        let Some(&line) = m.get(self.log.current) else {
            return;
        };
        let len = self.current().map_or(0, |c| c.log.len());
        self.log.follow = false;
        self.log.offset = len.saturating_sub(line + 1);
    }

    fn scroll(&mut self, delta: isize) {
        match &mut self.mode {
            Mode::Review(v) => v.scroll = v.scroll.saturating_add_signed(delta),
            Mode::Drafts { selected } => *selected = selected.saturating_add_signed(delta.signum()),
            Mode::Grid | Mode::Log => {
                let len = self.current().map_or(0, |c| c.log.len());
                // Offsets count from the end: scrolling up moves away from it.
                self.log.offset = self
                    .log
                    .offset
                    .saturating_add_signed(-delta)
                    .min(len.saturating_sub(1));
                self.log.follow = self.log.offset == 0;
            }
        }
    }

    fn page(&self) -> isize {
        (self.size.1 as isize / 2).max(1)
    }

    fn select(&mut self, i: usize) {
        if i < self.cards.len() && i != self.selected {
            self.selected = i;
            self.log = LogView {
                follow: true,
                query: std::mem::take(&mut self.log.query),
                filter: self.log.filter,
                ..LogView::default()
            };
        }
    }

    fn open_review(&mut self, i: usize, fx: &mut Vec<Effect>) {
        self.select(i);
        let Some(card) = self.cards.get(i) else {
            return;
        };
        if card.state != RunnerState::Review {
            return;
        }
        let part = card.number;
        self.new_drafts = 0;
        self.mode = Mode::Review(Box::new(ReviewView {
            part,
            tab: ReviewTab::File,
            scroll: 0,
            data: None,
            status: Some("computing the diff…".into()),
            busy: false,
        }));
        fx.push(Effect::LoadReview(part));
    }

    fn next_draft(&mut self, fx: &mut Vec<Effect>) {
        let n = self.cards.len();
        let next = (1..=n)
            .map(|k| (self.selected + k) % n)
            .find(|&i| self.cards[i].state == RunnerState::Review);
        match next {
            Some(i) => self.open_review(i, fx),
            None => self.notice = Some("no draft awaits review".into()),
        }
    }

    fn on_click(&mut self, col: u16, row: u16, fx: &mut Vec<Effect>) {
        if !matches!(self.mode, Mode::Grid) {
            return;
        }
        let area = super::layout::grid_area(self.size);
        for item in grid_layout(area, &self.cards, self.selected) {
            if let GridItem::Card { index, rect } = item
                && col >= rect.x
                && col < rect.x + rect.width
                && row >= rect.y
                && row < rect.y + rect.height
            {
                if index == self.selected && self.cards[index].state == RunnerState::Review {
                    self.open_review(index, fx);
                } else {
                    self.select(index);
                }
                return;
            }
        }
    }

    fn move_selection(&mut self, a: Action) {
        let area = super::layout::grid_area(self.size);
        let cols = super::layout::columns(area.width) as isize;
        let i = self.selected as isize;
        let target = match a {
            Action::Left => i - 1,
            Action::Right => i + 1,
            Action::Up => i - cols,
            Action::Down => i + cols,
            _ => i,
        };
        let last = self.cards.len() as isize - 1;
        self.select(target.clamp(0, last.max(0)) as usize);
    }

    fn on_action(&mut self, a: Action, fx: &mut Vec<Effect>) {
        self.notice = None;
        if self.help {
            if matches!(a, Action::Help | Action::Back | Action::Quit) {
                self.help = false;
            }
            return;
        }
        if a == Action::Help {
            self.help = true;
            return;
        }
        if a == Action::Quit {
            let too_small =
                self.size.0 < super::layout::MIN_SIZE.0 || self.size.1 < super::layout::MIN_SIZE.1;
            // A terminal too small to show the question quits at once: drafts persist anyway.
            if !too_small && (self.active() > 0 || !self.in_review().is_empty()) {
                self.confirm_quit = true;
            } else {
                fx.push(Effect::Quit);
            }
            return;
        }
        match self.mode.clone() {
            Mode::Grid | Mode::Log => self.on_grid_action(a, fx),
            Mode::Review(v) => self.on_review_action(*v, a, fx),
            Mode::Drafts { selected } => {
                let drafts: Vec<usize> = (0..self.cards.len())
                    .filter(|&i| self.cards[i].state == RunnerState::Review)
                    .collect();
                match a {
                    Action::Up => {
                        self.mode = Mode::Drafts {
                            selected: selected.saturating_sub(1),
                        }
                    }
                    Action::Down => {
                        self.mode = Mode::Drafts {
                            selected: (selected + 1).min(drafts.len().saturating_sub(1)),
                        }
                    }
                    Action::Open => {
                        if let Some(&i) = drafts.get(selected) {
                            self.open_review(i, fx);
                        }
                    }
                    Action::Back | Action::Drafts => self.mode = Mode::Grid,
                    _ => {}
                }
            }
        }
    }

    fn on_grid_action(&mut self, a: Action, fx: &mut Vec<Effect>) {
        let maximised = matches!(self.mode, Mode::Log);
        let Some(card) = self.current().cloned() else {
            return;
        };
        match a {
            Action::Up | Action::Down if maximised => {
                self.scroll(if a == Action::Up { -1 } else { 1 })
            }
            Action::Up | Action::Down | Action::Left | Action::Right => self.move_selection(a),
            Action::Open => {
                if card.state == RunnerState::Review && !maximised {
                    self.open_review(self.selected, fx);
                } else {
                    self.mode = if maximised { Mode::Grid } else { Mode::Log };
                }
            }
            Action::Log => self.mode = if maximised { Mode::Grid } else { Mode::Log },
            Action::Back => {
                if maximised {
                    self.mode = Mode::Grid;
                } else if !self.log.query.is_empty() {
                    self.log.query.clear();
                    self.log.filter = false;
                }
            }
            Action::Pause => {
                let cmd = if card.state == RunnerState::Paused {
                    Command::Resume(Target::Part(card.number))
                } else if card.state.is_active() || card.state == RunnerState::Queued {
                    Command::Pause(Target::Part(card.number))
                } else {
                    self.notice = Some(format!(
                        "PART {} is {}; nothing to pause",
                        card.number, card.state
                    ));
                    return;
                };
                fx.push(Effect::Command(cmd));
            }
            Action::PauseAll => {
                let running = self.cards.iter().any(|c| {
                    c.state.is_active() && c.state != RunnerState::Paused
                        || c.state == RunnerState::Queued
                });
                fx.push(Effect::Command(if running {
                    Command::Pause(Target::All)
                } else {
                    Command::Resume(Target::All)
                }));
            }
            Action::Retry => match card.state {
                RunnerState::Failed
                | RunnerState::Done
                | RunnerState::Skipped
                | RunnerState::Approved
                | RunnerState::Rejected => {
                    fx.push(Effect::Command(Command::Retry(card.number)));
                }
                other => {
                    self.notice = Some(format!(
                        "PART {} is {other}; retry applies to failed, done or skipped PARTs",
                        card.number
                    ))
                }
            },
            Action::Next if maximised && !self.log.query.is_empty() => {
                let m = self.matches().len();
                if m > 0 {
                    self.log.current = (self.log.current + 1) % m;
                    self.jump_to_match();
                }
            }
            Action::Prev if !self.log.query.is_empty() => {
                let m = self.matches().len();
                if m > 0 {
                    self.log.current = (self.log.current + m - 1) % m;
                    self.jump_to_match();
                }
            }
            Action::Next => self.next_draft(fx),
            Action::Search => self.search_input = Some(String::new()),
            Action::Filter => self.log.filter = !self.log.filter && !self.log.query.is_empty(),
            Action::Follow | Action::Bottom => {
                self.log.follow = true;
                self.log.offset = 0;
            }
            Action::Top => {
                self.log.follow = false;
                self.log.offset = card.log.len().saturating_sub(1);
            }
            Action::PageUp => self.scroll(-self.page()),
            Action::PageDown => self.scroll(self.page()),
            Action::Drafts => {
                self.mode = Mode::Drafts { selected: 0 };
                fx.push(Effect::LoadDrafts);
            }
            Action::Approve | Action::Reject | Action::Edit => {
                if card.state == RunnerState::Review {
                    self.open_review(self.selected, fx);
                } else {
                    self.notice =
                        Some(format!("PART {} has no draft awaiting review", card.number));
                }
            }
            _ => {}
        }
    }

    fn on_review_action(&mut self, v: ReviewView, a: Action, fx: &mut Vec<Effect>) {
        let Mode::Review(view) = &mut self.mode else {
            return;
        };
        let hunks: Vec<usize> = view
            .data
            .as_ref()
            .map(|d| {
                let diff = if view.tab == ReviewTab::File {
                    &d.file
                } else {
                    &d.drop
                };
                let mut at = 0;
                diff.hunks
                    .iter()
                    .map(|h| {
                        let start = at;
                        at += h.lines.len() + 1;
                        start
                    })
                    .collect()
            })
            .unwrap_or_default();
        match a {
            Action::Up => view.scroll = view.scroll.saturating_sub(1),
            Action::Down => view.scroll += 1,
            Action::PageUp => view.scroll = view.scroll.saturating_sub(self.size.1 as usize / 2),
            Action::PageDown => view.scroll += self.size.1 as usize / 2,
            Action::Top => view.scroll = 0,
            Action::Bottom => view.scroll = usize::MAX / 2,
            Action::NextHunk => {
                if let Some(&h) = hunks.iter().find(|&&h| h > view.scroll) {
                    view.scroll = h;
                }
            }
            Action::PrevHunk => {
                if let Some(&h) = hunks.iter().rev().find(|&&h| h < view.scroll) {
                    view.scroll = h;
                }
            }
            Action::Tab => {
                view.tab = if view.tab == ReviewTab::File {
                    ReviewTab::Drop
                } else {
                    ReviewTab::File
                };
                view.scroll = 0;
            }
            Action::Approve if !v.busy && v.data.is_some() => {
                view.busy = true;
                view.status = Some("approving…".into());
                let seen = v.data.as_ref().map(|d| d.base_hash.clone());
                fx.push(Effect::Command(Command::Approve { part: v.part, seen }));
            }
            Action::Reject if !v.busy => {
                self.prompt = Some(RejectPrompt {
                    part: v.part,
                    reason: String::new(),
                    requeue: true,
                })
            }
            Action::Edit if !v.busy => fx.push(Effect::Edit(v.part)),
            Action::Next => self.next_draft(fx),
            Action::Back | Action::Log => self.mode = Mode::Grid,
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::Event;

    fn plan() -> Plan {
        let mut s = String::from("# Demo plan\n\n## EXPANSION 1: One\n\n");
        for n in 1..=6 {
            s.push_str(&format!("### PART {n}: Create a/{n:02}-topic.md\n\n- [ ] PART {n}: Create a/{n:02}-topic.md\n\n"));
        }
        Plan::parse(&s)
    }

    fn app() -> App {
        App::new(&plan(), None, (160, 48))
    }

    fn key(app: &mut App, a: Action) -> Vec<Effect> {
        app.update(Msg::Action(a))
    }

    #[test]
    fn events_drive_cards_and_logs() {
        let mut a = app();
        a.update(Msg::Core(Event::state(2, RunnerState::Searching, "")));
        a.update(Msg::Core(Event {
            step: Some([2, 5]),
            hits: Some(3),
            ..Event::log(Some(2), Level::Info, "search \"x\" → 3 hits")
        }));
        let c = &a.cards[1];
        assert_eq!(c.state, RunnerState::Searching);
        assert_eq!(c.step, Some([2, 5]));
        assert_eq!(c.log.len(), 2);
        assert!(c.started.is_some());
        a.update(Msg::Core(Event::draft(2, 300, 4, "draft ready")));
        assert_eq!(a.cards[1].state, RunnerState::Review);
        assert_eq!(a.cards[1].lines, Some(300));
        assert_eq!(a.new_drafts, 1, "a draft arriving elsewhere is signalled");
    }

    #[test]
    fn pause_resume_and_pause_all_send_commands() {
        let mut a = app();
        a.update(Msg::Core(Event::state(1, RunnerState::Writing, "")));
        assert_eq!(
            key(&mut a, Action::Pause),
            vec![Effect::Command(Command::Pause(Target::Part(1)))]
        );
        a.update(Msg::Core(Event::state(1, RunnerState::Paused, "")));
        assert_eq!(
            key(&mut a, Action::Pause),
            vec![Effect::Command(Command::Resume(Target::Part(1)))]
        );
        assert_eq!(
            key(&mut a, Action::PauseAll),
            vec![Effect::Command(Command::Pause(Target::All))]
        );
        for n in 1..=6 {
            a.update(Msg::Core(Event::state(n, RunnerState::Paused, "")));
        }
        assert_eq!(
            key(&mut a, Action::PauseAll),
            vec![Effect::Command(Command::Resume(Target::All))]
        );
    }

    #[test]
    fn selection_moves_by_grid_columns_and_clicks_select() {
        let mut a = app();
        assert_eq!(super::super::layout::columns(160), 4);
        key(&mut a, Action::Down);
        assert_eq!(a.selected, 4);
        key(&mut a, Action::Right);
        assert_eq!(a.selected, 5);
        key(&mut a, Action::Right);
        assert_eq!(a.selected, 5, "stays on the last card");
        key(&mut a, Action::Up);
        assert_eq!(a.selected, 1);
        let area = super::super::layout::grid_area(a.size);
        let target = grid_layout(area, &a.cards, a.selected)
            .into_iter()
            .find_map(|i| match i {
                GridItem::Card { index: 2, rect } => Some(rect),
                _ => None,
            })
            .unwrap();
        a.update(Msg::Click {
            col: target.x + 2,
            row: target.y + 1,
        });
        assert_eq!(a.selected, 2);
    }

    #[test]
    fn review_flow_approve_and_reject_prompt() {
        let mut a = app();
        a.update(Msg::Core(Event::draft(3, 120, 2, "draft ready")));
        let fx = key(&mut a, Action::Next);
        assert_eq!(fx, vec![Effect::LoadReview(3)]);
        assert!(matches!(&a.mode, Mode::Review(v) if v.part == 3));
        assert_eq!(a.new_drafts, 0);
        assert!(
            key(&mut a, Action::Approve).is_empty(),
            "nothing to approve before the diff is loaded"
        );
        let data = ReviewData {
            file: crate::review::diff(None, "a\n", "x.md"),
            drop: crate::review::diff(None, "b\n", "d.md"),
            checklist: crate::review::checklist(&plan().parts[2], "a\n", &[]),
            target: "a/03-topic.md".into(),
            base_hash: None,
        };
        a.update(Msg::ReviewLoaded {
            part: 3,
            result: Ok(Box::new(data)),
        });
        assert_eq!(
            key(&mut a, Action::Approve),
            vec![Effect::Command(Command::Approve {
                part: 3,
                seen: Some(None)
            })]
        );
        assert!(
            key(&mut a, Action::Approve).is_empty(),
            "no double approval while busy"
        );
        // A refusal (the file changed on disk) keeps the review open and reloads the diff.
        let fx = a.update(Msg::Core(Event::error(
            Some(3),
            "approval refused, nothing was written: changed on disk",
        )));
        assert_eq!(fx, vec![Effect::LoadReview(3)]);
        assert!(
            matches!(&a.mode, Mode::Review(v) if !v.busy && v.status.as_deref().is_some_and(|s| s.contains("changed on disk")))
        );
        key(&mut a, Action::Approve);
        a.update(Msg::Core(Event::state(
            3,
            RunnerState::Approved,
            "approved",
        )));
        assert!(matches!(a.mode, Mode::Grid));
        assert_eq!(a.cards[2].state, RunnerState::Approved);

        a.update(Msg::Core(Event::draft(4, 120, 2, "draft ready")));
        key(&mut a, Action::Next);
        a.update(Msg::ReviewLoaded {
            part: 4,
            result: Err("boom".into()),
        });
        key(&mut a, Action::Reject);
        assert!(a.wants_text());
        for c in "thin".chars() {
            a.update(Msg::Char(c));
        }
        a.update(Msg::Char('\t'));
        let fx = a.update(Msg::Submit);
        assert_eq!(
            fx,
            vec![Effect::Command(Command::Reject {
                part: 4,
                reason: Some("thin".into()),
                requeue: false
            })]
        );
    }

    #[test]
    fn quit_asks_when_work_is_pending_and_help_toggles() {
        let mut a = app();
        assert!(key(&mut a, Action::Quit).is_empty());
        assert!(a.confirm_quit);
        assert_eq!(a.update(Msg::Char('n')), vec![]);
        assert!(!a.confirm_quit);
        key(&mut a, Action::Quit);
        assert_eq!(a.update(Msg::Char('y')), vec![Effect::Quit]);
        let mut idle = app();
        for n in 1..=6 {
            idle.update(Msg::Core(Event::state(n, RunnerState::Approved, "")));
        }
        assert_eq!(key(&mut idle, Action::Quit), vec![Effect::Quit]);
        key(&mut idle, Action::Help);
        assert!(idle.help);
        assert!(
            key(&mut idle, Action::Pause).is_empty(),
            "help swallows other keys"
        );
        key(&mut idle, Action::Back);
        assert!(!idle.help);
    }

    #[test]
    fn log_search_jumps_between_matches_and_filter_toggles() {
        let mut a = app();
        for i in 0..10 {
            let msg = if i % 3 == 0 {
                format!("fetch page {i}")
            } else {
                format!("search {i}")
            };
            a.update(Msg::Core(Event::log(Some(1), Level::Info, msg)));
        }
        key(&mut a, Action::Log);
        key(&mut a, Action::Search);
        for c in "fetch".chars() {
            a.update(Msg::Char(c));
        }
        a.update(Msg::Submit);
        assert_eq!(a.matches(), vec![0, 3, 6, 9]);
        assert_eq!(a.log.current, 3);
        key(&mut a, Action::Next);
        assert_eq!(a.log.current, 0);
        assert_eq!(a.log.offset, 9, "the first match is 9 lines from the end");
        key(&mut a, Action::Prev);
        assert_eq!(a.log.current, 3);
        key(&mut a, Action::Filter);
        assert!(a.log.filter);
    }

    #[test]
    fn the_drafts_list_loads_its_rows_off_the_loop() {
        let mut a = app();
        a.update(Msg::Core(Event::draft(2, 120, 2, "draft ready")));
        assert_eq!(key(&mut a, Action::Drafts), vec![Effect::LoadDrafts]);
        let row = DraftSummary {
            part: 2,
            added: 120,
            removed: 0,
            checklist: "5/5 sections".into(),
            clean: true,
        };
        a.update(Msg::DraftsLoaded(Ok(vec![row.clone()])));
        assert_eq!(a.draft_rows, vec![row]);
        assert_eq!(key(&mut a, Action::Open), vec![Effect::LoadReview(2)]);
    }

    #[test]
    fn ticks_only_dirty_the_screen_when_something_moves() {
        let mut a = app();
        a.dirty = false;
        a.update(Msg::Tick);
        assert!(!a.dirty, "an idle screen is not redrawn");
        a.update(Msg::Core(Event::state(1, RunnerState::Writing, "")));
        a.dirty = false;
        a.update(Msg::Tick);
        assert!(a.dirty);
    }

    #[test]
    fn a_plan_edit_adds_cards_and_tells_the_supervisor() {
        let mut a = app();
        let mut text = String::from("# Demo plan\n\n");
        for n in 1..=7 {
            text.push_str(&format!("### PART {n}: Create a/{n:02}-topic.md\n\n- [ ] PART {n}: Create a/{n:02}-topic.md\n\n"));
        }
        let fx = a.update(Msg::PlanChanged(Box::new(Plan::parse(&text))));
        assert_eq!(a.cards.len(), 7);
        let mut only = App::new(&plan(), Some([2, 3].into()), (160, 48));
        assert_eq!(
            only.cards.iter().map(|c| c.number).collect::<Vec<_>>(),
            [2, 3]
        );
        only.update(Msg::PlanChanged(Box::new(Plan::parse(&text))));
        assert_eq!(only.cards.len(), 2, "PARTs outside --only stay out");
        assert!(matches!(&fx[0], Effect::Command(Command::UpdatePlan(_))));
    }
}
