//! The grid screen: PART cards grouped by EXPANSION over the selected runner's log, and the same
//! log maximised (the log screen).

use std::time::Instant;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Paragraph};

use super::log::LogView;
use super::{Ctx, Effect, Step};
use crate::runner::budget::Prices;
use crate::runner::{Command, Target};
use crate::state::RunnerState;
use crate::tui::cards::Card;
use crate::tui::keymap::{Action, ScreenKind};
use crate::tui::layout::{self, Direction, GridItem};
use crate::tui::overlay::{Confirm, Overlay, Prompt, SearchTarget};
use crate::tui::theme::{SPINNER, Theme, glyph};
use crate::words::{compact, plural};

/// The grid and the selected runner's log.
#[derive(Debug, Clone, Default)]
pub struct GridScreen {
    /// First canvas row shown.
    scroll: u16,
    /// The log view of the selected runner.
    log: LogView,
    /// The log fills the screen (the log screen).
    maximised: bool,
}

impl GridScreen {
    /// The selected runner's log view.
    pub fn log(&self) -> &LogView {
        &self.log
    }

    /// The selected runner's log view, to change.
    pub fn log_mut(&mut self) -> &mut LogView {
        &mut self.log
    }

    /// Which keymap applies.
    pub fn kind(&self) -> ScreenKind {
        if self.maximised {
            ScreenKind::Log
        } else {
            ScreenKind::Grid
        }
    }

    /// The log pane's text area (columns, rows) for a terminal of `size`.
    pub fn log_inner(&self, size: (u16, u16)) -> (usize, usize) {
        let s = layout::screen(size);
        let area = if self.maximised { s.body } else { s.log };
        // The pane's title takes one row.
        (area.width as usize, area.height.saturating_sub(1) as usize)
    }

    /// Select card `index`: the grid scrolls to it, the log starts following it.
    pub fn select(&mut self, ctx: &Ctx, index: usize) -> Vec<Step> {
        if index != ctx.selected {
            self.log = self.log.for_other_card();
        }
        let area = layout::screen(ctx.size).grid;
        let placed = layout::place(area.width, &ctx.cards.list);
        self.scroll = layout::follow(&placed, index, layout::viewport(area, &placed), self.scroll);
        vec![Step::Select(index)]
    }

    /// Scroll the grid by `rows` without moving the selection (the mouse wheel).
    pub fn scroll_grid(&mut self, ctx: &Ctx, rows: i32) {
        let area = layout::screen(ctx.size).grid;
        let placed = layout::place(area.width, &ctx.cards.list);
        let view = layout::viewport(area, &placed);
        let next = (self.scroll as i32 + rows).max(0) as u16;
        self.scroll = layout::clamp_scroll(&placed, view, next);
    }

    /// Handle one action of the grid or log screen.
    pub fn handle(&mut self, a: Action, ctx: &Ctx) -> Vec<Step> {
        let Some(card) = ctx.cards.list.get(ctx.selected) else {
            return Vec::new();
        };
        let inner = self.log_inner(ctx.size);
        if self.maximised && self.log.handle(a, &card.log, inner) {
            return Vec::new();
        }
        let grid = layout::screen(ctx.size).grid;
        let count = ctx.cards.list.len();
        let step = |dir| {
            let placed = layout::place(grid.width, &ctx.cards.list);
            layout::neighbour(&placed, ctx.selected, dir, count)
        };
        match a {
            Action::Up => self.select(ctx, step(Direction::Up)),
            Action::Down => self.select(ctx, step(Direction::Down)),
            Action::Left => self.select(ctx, step(Direction::Left)),
            Action::Right => self.select(ctx, step(Direction::Right)),
            Action::Open if card.state == RunnerState::Review => {
                vec![Step::OpenReview(card.number)]
            }
            Action::Open | Action::Log => {
                self.maximised = !self.maximised;
                Vec::new()
            }
            Action::Back => {
                if self.maximised {
                    self.maximised = false;
                } else {
                    self.log.clear_search();
                }
                Vec::new()
            }
            Action::Pause => vec![pause(card)],
            Action::PauseAll => {
                vec![Step::Effect(Effect::Command(if ctx.cards.any_running() {
                    Command::Pause(Target::All)
                } else {
                    Command::Resume(Target::All)
                }))]
            }
            Action::Retry => vec![retry(card)],
            // A note is for a runner that still has sections to write.
            Action::Note if card.state.is_active() || card.state == RunnerState::Queued => {
                vec![Step::Overlay(Overlay::Prompt(Prompt::Note {
                    part: card.number,
                    text: String::new(),
                }))]
            }
            Action::Note => vec![Step::Notice(format!(
                "PART {} is {}: a note reaches a runner still working (r in the review gives a reason for writing it again)",
                card.number,
                card.state.phrase()
            ))],
            Action::Undo if card.state == RunnerState::Approved => {
                vec![Step::Overlay(Overlay::Confirm(Confirm::Undo {
                    part: card.number,
                }))]
            }
            Action::Undo => vec![Step::Notice(format!(
                "PART {} is {}; u undoes an approval",
                card.number,
                card.state.phrase()
            ))],
            // With a search in the log, n is its next match (none: say so), not the next draft.
            Action::Next if !self.log.query().is_empty() => {
                if card.log.matches(self.log.query()).is_empty() {
                    return vec![Step::Notice(format!(
                        "no line of PART {}'s log matches \"{}\" (Esc clears the search; then n opens the next draft)",
                        card.number,
                        self.log.query()
                    ))];
                }
                self.log.handle(a, &card.log, inner);
                Vec::new()
            }
            Action::Next => vec![Step::NextDraft],
            Action::Search => vec![Step::Overlay(Overlay::Prompt(Prompt::Search {
                target: SearchTarget::Log,
                text: String::new(),
            }))],
            Action::Drafts => vec![Step::OpenDrafts],
            Action::Prev
            | Action::Filter
            | Action::Follow
            | Action::PageUp
            | Action::PageDown
            | Action::Top
            | Action::Bottom => {
                self.log.handle(a, &card.log, inner);
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    /// Draw the grid and log (or the log alone when maximised) in the body; gives back where
    /// each card was drawn (card index, rectangle), for clicks.
    pub fn draw(
        &self,
        f: &mut Frame,
        ctx: &Ctx,
        ticks: u64,
        theme: &Theme,
        now: Instant,
        prices: Option<&Prices>,
    ) -> Vec<(usize, Rect)> {
        let s = layout::screen(ctx.size);
        let mut drawn = Vec::new();
        let Some(card) = ctx.cards.list.get(ctx.selected) else {
            f.render_widget(
                Paragraph::new("This run has no PARTs to show.").style(theme.dim),
                s.body,
            );
            return drawn;
        };
        if self.maximised {
            self.log.draw(f, card, theme, s.body);
            return drawn;
        }
        let placed = layout::place(s.grid.width, &ctx.cards.list);
        for item in layout::visible(s.grid, &placed, self.scroll) {
            match item {
                GridItem::Header { text, rect } => {
                    f.render_widget(Paragraph::new(Span::styled(text, theme.accent)), rect)
                }
                GridItem::Card { index, rect } => {
                    draw_card(
                        f,
                        &ctx.cards.list[index],
                        (index == ctx.selected, ticks),
                        theme,
                        rect,
                        now,
                        prices,
                    );
                    drawn.push((index, rect));
                }
                GridItem::More { above, below, rect } => {
                    let mut parts = Vec::new();
                    if above > 0 {
                        parts.push(format!("▲ {} above", plural(above, "card")));
                    }
                    if below > 0 {
                        parts.push(format!("▼ {} below", plural(below, "card")));
                    }
                    f.render_widget(
                        Paragraph::new(Span::styled(
                            format!(" {} (arrows or the wheel scroll)", parts.join(" · ")),
                            theme.dim,
                        )),
                        rect,
                    );
                }
            }
        }
        self.log.draw(f, card, theme, s.log);
        drawn
    }

    /// Whether a row is in the grid (rather than the log pane).
    pub fn in_grid(&self, size: (u16, u16), row: u16) -> bool {
        let g = layout::screen(size).grid;
        !self.maximised && row >= g.y && row < g.y + g.height
    }
}

fn pause(card: &Card) -> Step {
    let n = card.number;
    if card.state == RunnerState::Paused {
        Step::Effect(Effect::Command(Command::Resume(Target::Part(n))))
    } else if card.state.is_active() || card.state == RunnerState::Queued {
        Step::Effect(Effect::Command(Command::Pause(Target::Part(n))))
    } else {
        Step::Notice(format!(
            "PART {n} is {}; there is nothing to pause",
            card.state.phrase()
        ))
    }
}

fn retry(card: &Card) -> Step {
    let n = card.number;
    match card.state {
        RunnerState::Failed | RunnerState::Skipped | RunnerState::Rejected => {
            Step::Effect(Effect::Command(Command::Retry(n)))
        }
        RunnerState::Done | RunnerState::Approved => {
            Step::Overlay(Overlay::Confirm(Confirm::Redo {
                part: n,
                state: card.state,
            }))
        }
        other => Step::Notice(format!(
            "PART {n} is {}; R retries failed or skipped PARTs and redoes done or approved ones",
            other.phrase()
        )),
    }
}

fn draw_card(
    f: &mut Frame,
    c: &Card,
    (selected, ticks): (bool, u64),
    theme: &Theme,
    rect: Rect,
    now: Instant,
    prices: Option<&Prices>,
) {
    let border = if selected { theme.accent } else { theme.dim };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(border)
        .border_type(if selected {
            BorderType::Thick
        } else {
            BorderType::Rounded
        })
        .title(Span::styled(
            format!(" PART {} · {} ", c.number, c.stem),
            if selected { theme.accent } else { theme.text },
        ));
    let spinner = if c.spinning() {
        SPINNER[(ticks % SPINNER.len() as u64) as usize]
    } else {
        " "
    };
    let progress = match (c.state, c.step, c.lines) {
        (RunnerState::Searching, Some([d, t]), _) => format!("search {d}/{t}"),
        (RunnerState::Scraping, Some([d, t]), _) => format!("page {d}/{t}"),
        (RunnerState::Writing, Some([d, t]), _) => format!("section {d}/{t}"),
        (_, _, Some(lines)) => plural(lines, "line"),
        _ => String::new(),
    };
    let secs = c.elapsed_now(now).as_secs();
    let mut facts = vec![plural(c.sources, "source")];
    if c.usage.total() > 0 {
        facts.push(format!(
            "{}{} tok",
            if c.usage.estimated { "~" } else { "" },
            compact(c.usage.total())
        ));
        if let Some(p) = prices {
            facts.push(crate::words::dollars(p.cost(c.usage)));
        }
    }
    facts.push(format!("{:02}:{:02}", secs / 60, secs % 60));
    let (third, style) = match c.state {
        RunnerState::Failed => (c.message.clone(), theme.bad),
        RunnerState::Paused if !c.message.is_empty() => (c.message.clone(), theme.warn),
        _ => (c.target.clone(), theme.dim),
    };
    let lines = vec![
        Line::from(vec![
            Span::styled(
                format!("{} {}", glyph(c.state), c.state),
                theme.state(c.state).add_modifier(Modifier::BOLD),
            ),
            Span::styled(format!(" {spinner} {progress}"), theme.text),
        ]),
        Line::from(Span::styled(facts.join(" · "), theme.dim)),
        Line::from(Span::styled(third, style)),
    ];
    f.render_widget(Paragraph::new(lines).block(block), rect);
}
