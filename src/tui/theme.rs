//! Colours and glyphs; with NO_COLOR every colour is dropped and only bold/reverse remain.

use ratatui::style::{Color, Modifier, Style};

use crate::state::RunnerState;

/// The styles the views use.
#[derive(Debug, Clone, Copy)]
pub struct Theme {
    /// Plain text.
    pub text: Style,
    /// Secondary text.
    pub dim: Style,
    /// Headers and the selection.
    pub accent: Style,
    /// Added lines, approvals.
    pub good: Style,
    /// Removed lines, failures.
    pub bad: Style,
    /// Warnings, pauses, drafts awaiting review.
    pub warn: Style,
    /// Changed words inside a changed line.
    pub emph: Style,
    /// Search matches.
    pub hit: Style,
}

impl Theme {
    /// The colour theme, or the plain one when `no_color`.
    pub fn new(no_color: bool) -> Theme {
        if no_color {
            let plain = Style::default();
            return Theme {
                text: plain,
                dim: plain,
                accent: plain.add_modifier(Modifier::BOLD),
                good: plain,
                bad: plain,
                warn: plain.add_modifier(Modifier::BOLD),
                emph: plain.add_modifier(Modifier::REVERSED),
                hit: plain.add_modifier(Modifier::REVERSED),
            };
        }
        Theme {
            text: Style::default(),
            dim: Style::default().fg(Color::DarkGray),
            accent: Style::default()
                .fg(Color::Cyan)
                .add_modifier(Modifier::BOLD),
            good: Style::default().fg(Color::Green),
            bad: Style::default().fg(Color::Red),
            warn: Style::default().fg(Color::Yellow),
            emph: Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD),
            hit: Style::default().bg(Color::Yellow).fg(Color::Black),
        }
    }

    /// The style of a state's glyph and word.
    pub fn state(&self, s: RunnerState) -> Style {
        match s {
            RunnerState::Failed => self.bad,
            RunnerState::Approved | RunnerState::Done => self.good,
            RunnerState::Review
            | RunnerState::Paused
            | RunnerState::Stalled
            | RunnerState::Rejected => self.warn,
            RunnerState::Queued | RunnerState::Skipped => self.dim,
            _ => self.accent,
        }
    }
}

/// The glyph shown before a state's word.
pub fn glyph(s: RunnerState) -> &'static str {
    match s {
        RunnerState::Queued => "·",
        RunnerState::Checking => "◔",
        RunnerState::Searching => "⌕",
        RunnerState::Scraping => "⇣",
        RunnerState::Writing => "✎",
        RunnerState::Paused => "⏸",
        RunnerState::Stalled => "⚠",
        RunnerState::Review => "◆",
        RunnerState::Approved => "✓",
        RunnerState::Rejected => "✗",
        RunnerState::Failed => "✖",
        RunnerState::Done => "✔",
        RunnerState::Skipped => "⤼",
    }
}

/// Spinner frames for active runners.
pub const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
