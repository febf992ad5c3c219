//! The drafts screen: every draft awaiting review with its +/− counts and checklist summary.

use ratatui::Frame;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::{Ctx, Step};
use crate::tui::keymap::Action;
use crate::tui::layout;
use crate::tui::theme::Theme;

/// One row of the drafts list, computed off the render loop.
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

/// The list of drafts awaiting review.
#[derive(Debug, Clone, Default)]
pub struct DraftsScreen {
    /// Selected row.
    selected: usize,
    /// Rows, once computed.
    rows: Vec<DraftSummary>,
}

impl DraftsScreen {
    /// The rows, once computed (their +/− counts and checklists).
    pub fn loaded(&mut self, rows: Vec<DraftSummary>) {
        self.rows = rows;
    }

    /// Handle one action.
    pub fn handle(&mut self, a: Action, ctx: &Ctx) -> Vec<Step> {
        let drafts = ctx.cards.in_review();
        match a {
            Action::Up => self.selected = self.selected.saturating_sub(1),
            Action::Down => self.selected = (self.selected + 1).min(drafts.len().saturating_sub(1)),
            Action::Open => {
                if let Some(&n) = drafts.get(self.selected) {
                    return vec![Step::OpenReview(n)];
                }
            }
            Action::Back => return vec![Step::Close],
            _ => {}
        }
        Vec::new()
    }

    /// Draw the list.
    pub fn draw(&self, f: &mut Frame, ctx: &Ctx, theme: &Theme) {
        let area = layout::screen(ctx.size).body;
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.dim)
            .title(Span::styled(" drafts awaiting review ", theme.accent));
        let review = ctx.cards.in_review();
        let mut lines = Vec::new();
        if review.is_empty() {
            lines.push(Line::from(Span::styled(
                "No draft awaits review.",
                theme.dim,
            )));
        }
        // File stems, not full paths: the counts and the checklist must fit beside them.
        let stems: Vec<&str> = review
            .iter()
            .filter_map(|n| ctx.cards.get(*n).map(|c| c.stem.as_str()))
            .collect();
        let width = stems.iter().map(|s| s.chars().count()).max().unwrap_or(0);
        for (i, (n, stem)) in review.iter().zip(&stems).enumerate() {
            let style = if i == self.selected {
                theme.accent.add_modifier(Modifier::REVERSED)
            } else {
                theme.text
            };
            let (counts, summary) = match self.rows.iter().find(|r| r.part == *n) {
                Some(r) => (
                    format!("+{:<5} −{:<5}", r.added, r.removed),
                    format!(
                        "{}{}",
                        r.checklist,
                        if r.clean { "" } else { "  (not clean)" }
                    ),
                ),
                None => ("…".to_string(), "computing…".to_string()),
            };
            let row = format!(" PART {n:>3}  {stem:<width$}  {counts}  {summary}");
            let room = area.width.saturating_sub(2) as usize;
            if row.chars().count() <= room {
                lines.push(Line::from(Span::styled(row, style)));
            } else {
                // Narrow: the checklist goes on its own rows under the PART.
                lines.push(Line::from(Span::styled(
                    format!(" PART {n:>3}  {stem:<width$}  {counts}"),
                    style,
                )));
                for l in crate::tui::wrap::lines(&summary, room.saturating_sub(11)) {
                    lines.push(Line::from(Span::styled(format!("{:11}{l}", ""), style)));
                }
            }
        }
        f.render_widget(Paragraph::new(lines).block(block), area);
    }
}
