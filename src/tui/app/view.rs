//! Drawing the whole frame, read-only: the header, the screen in front, the key bar, the overlay.

use std::time::Instant;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::{App, Front};
use crate::state::RunnerState;
use crate::tui::keymap::{Action, ScreenKind};
use crate::tui::layout::{self, Drawn, MIN_SIZE};
use crate::tui::theme::{Theme, glyph};
use crate::words::{compact, plural};

/// Draw the whole screen; gives back what was drawn where.
pub fn draw(f: &mut Frame, app: &App, theme: &Theme, now: Instant) -> Drawn {
    let mut drawn = Drawn::default();
    let area = f.area();
    if area.width < MIN_SIZE.0 || area.height < MIN_SIZE.1 {
        let note = format!(
            "expanse needs a terminal of at least {}×{} (this one is {}×{}).\nEnlarge it, or press q to quit.",
            MIN_SIZE.0, MIN_SIZE.1, area.width, area.height
        );
        f.render_widget(Paragraph::new(note).wrap(Wrap { trim: true }), area);
        return drawn;
    }
    let s = layout::screen((area.width, area.height));
    header(f, app, theme, s.header);
    let ctx = app.ctx();
    match &app.front {
        Front::Grid => {
            drawn.cards = app
                .grid
                .draw(f, &ctx, app.ticks, theme, now, app.prices.as_ref());
        }
        Front::Review(r) => r.draw(f, &ctx, theme),
        Front::Drafts(d) => d.draw(f, &ctx, theme),
    }
    footer(f, app, theme, s.footer);
    if let Some(o) = &app.overlay {
        o.draw(f, theme, &app.keymap, area);
        // Under an overlay nothing is clickable.
        drawn.cards.clear();
    }
    drawn
}

fn header(f: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    // Counts first: on a narrow terminal the title is what gets cut.
    let mut spans = vec![Span::styled(" expanse ", theme.accent)];
    if !app.unseen.is_empty() {
        spans.push(Span::styled(
            format!("◆ {} (n) ", plural(app.unseen.len(), "new draft")),
            theme.warn.add_modifier(Modifier::BOLD),
        ));
    }
    // Drafts to review, failures and PARTs the budget stopped wait for a person.
    let need = app
        .cards
        .list
        .iter()
        .filter(|c| matches!(c.state, RunnerState::Review | RunnerState::Failed) || c.budget_paused)
        .count();
    if need > 0 {
        spans.push(Span::styled(
            format!("⚑ {need} need you "),
            theme.warn.add_modifier(Modifier::BOLD),
        ));
    }
    for state in RunnerState::ALL {
        let n = app.cards.list.iter().filter(|c| c.state == state).count();
        if n > 0 {
            spans.push(Span::styled(
                format!("{} {n} {state} ", glyph(state)),
                theme.state(state),
            ));
        }
    }
    let usage = app.cards.usage();
    // Before the first model request, what the run is estimated to ask.
    if usage.total() == 0
        && let Some((low, high)) = app.estimate
    {
        spans.push(Span::styled(
            format!("· est. {}–{} tokens ", compact(low), compact(high)),
            theme.dim,
        ));
    }
    if usage.total() > 0 || app.budget.any() {
        let mut s = format!(
            "· {}{} tokens",
            if usage.estimated { "~" } else { "" },
            compact(usage.total())
        );
        if let Some(cap) = app.budget.tokens {
            s.push_str(&format!(
                " ({} left)",
                compact(cap.saturating_sub(usage.total()))
            ));
        }
        if let Some(p) = &app.prices {
            s.push_str(&format!(" · {}", crate::words::dollars(p.cost(usage))));
            if let Some(cap) = app.budget.usd {
                s.push_str(&format!(
                    " ({} left)",
                    crate::words::dollars((cap - p.cost(usage)).max(0.0))
                ));
            }
        }
        s.push(' ');
        let style = if crate::runner::budget::reached(
            &app.budget,
            app.prices.as_ref(),
            usage,
            crate::state::Usage::default(),
        )
        .is_some()
        {
            theme.warn
        } else {
            theme.text
        };
        spans.push(Span::styled(s, style));
    }
    spans.push(Span::styled(format!("· {}", app.title), theme.dim));
    if !app.providers.is_empty() {
        spans.push(Span::styled(format!(" · {}", app.providers), theme.dim));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// The key bar's actions for a screen, most useful first (help and quit are always added).
fn bar(screen: ScreenKind) -> &'static [Action] {
    match screen {
        ScreenKind::Grid => &[
            Action::Open,
            Action::Next,
            Action::Pause,
            Action::PauseAll,
            Action::Retry,
            Action::Search,
            Action::Drafts,
            Action::Log,
        ],
        ScreenKind::Log => &[
            Action::Back,
            Action::Search,
            Action::Next,
            Action::Prev,
            Action::Filter,
            Action::Follow,
        ],
        ScreenKind::Review => &[
            Action::Approve,
            Action::Reject,
            Action::Edit,
            Action::Regenerate,
            Action::NextClaim,
            Action::Evidence,
            Action::Tab,
            Action::Search,
            Action::Back,
        ],
        ScreenKind::Drafts => &[Action::Open, Action::Back],
    }
}

/// An action's key-bar label, saying what the key does now: `p` and `P` resume when there is
/// nothing to pause.
fn bar_label(app: &App, screen: ScreenKind, a: Action) -> &'static str {
    let selected_paused = || {
        app.cards
            .list
            .get(app.selected)
            .is_some_and(|c| c.state == RunnerState::Paused)
    };
    match (screen, a) {
        (ScreenKind::Grid, Action::Pause) if selected_paused() => "resume",
        (ScreenKind::Grid, Action::PauseAll)
            if !app.cards.any_running()
                && app
                    .cards
                    .list
                    .iter()
                    .any(|c| c.state == RunnerState::Paused) =>
        {
            "resume all"
        }
        _ => a.short(),
    }
}

fn footer(f: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let screen = app.screen_kind();
    let key = |a: Action| app.keymap.keys_for(screen, a).into_iter().next();
    // `? help` and `q quit` always fit: they are placed first, from the right.
    let mut tail: Vec<Span> = Vec::new();
    for a in [Action::Help, Action::Quit] {
        if let Some(k) = key(a) {
            tail.push(Span::styled(format!(" {k}"), theme.accent));
            tail.push(Span::styled(format!(" {} ", a.short()), theme.dim));
        }
    }
    let tail_w: usize = tail.iter().map(|s| s.width()).sum();
    let room = (area.width as usize).saturating_sub(tail_w);
    let mut head: Vec<Span> = Vec::new();
    let mut used = 0;
    if let Some(notice) = &app.notice {
        let full = format!(" {notice}");
        let text = if full.chars().count() < room {
            full
        } else {
            // Cut: the message log (M) has it whole.
            crate::words::shorten(&full, room.saturating_sub(6)) + " (M)"
        };
        used += text.chars().count();
        head.push(Span::styled(text, theme.warn));
    } else {
        for a in bar(screen) {
            let Some(k) = key(*a) else { continue };
            let pair = [
                Span::styled(format!(" {k}"), theme.accent),
                Span::styled(format!(" {} ", bar_label(app, screen, *a)), theme.dim),
            ];
            let w: usize = pair.iter().map(|s| s.width()).sum();
            if used + w > room {
                break;
            }
            used += w;
            head.extend(pair);
        }
    }
    let pad = room.saturating_sub(used);
    head.push(Span::raw(" ".repeat(pad)));
    head.extend(tail);
    f.render_widget(Paragraph::new(Line::from(head)), area);
}
