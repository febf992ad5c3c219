//! Drawing the overlay: the help, the messages, a question or a prompt, each a popup centred
//! over the screen.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::super::keymap::Keymap;
use super::super::theme::Theme;
use super::super::wrap;
use super::{Confirm, Overlay, Prompt, SearchTarget, help_lines};

impl Overlay {
    /// Draw the overlay over `area` (the whole terminal).
    pub fn draw(&self, f: &mut Frame, theme: &Theme, keymap: &Keymap, area: Rect) {
        match self {
            Overlay::Messages { lines, scroll } => {
                let width = popup_width(area, 100);
                let rows = help_rows(area);
                let mut body: Vec<Line> = lines
                    .iter()
                    .flat_map(|m| wrap::lines(m, width.saturating_sub(2) as usize))
                    .map(Line::from)
                    .collect();
                if body.is_empty() {
                    body.push(Line::from("No message yet."));
                }
                // Newest at the bottom; scrolling goes back in time.
                let end = body.len().saturating_sub(*scroll);
                let start = end.saturating_sub(rows);
                let mut shown: Vec<Line> = body[start..end].to_vec();
                shown.push(Line::from(Span::styled(
                    "↑↓ PgUp PgDn scroll · any other key closes",
                    theme.dim,
                )));
                popup(f, theme, area, "Messages", shown, 100);
            }
            Overlay::Help { screen, scroll } => {
                let lines = help_lines(keymap, *screen);
                let rows = help_rows(area);
                let total = lines.len();
                let shown: Vec<Line> = lines
                    .into_iter()
                    .skip(*scroll)
                    .take(rows)
                    .map(|(k, d)| {
                        Line::from(vec![
                            Span::styled(format!("{k:>12}  "), theme.accent),
                            Span::raw(d),
                        ])
                    })
                    .collect();
                let more = if total > rows {
                    format!(
                        "↑↓ PgUp PgDn scroll · lines {}–{} of {total} · Esc closes",
                        scroll + 1,
                        (scroll + rows).min(total)
                    )
                } else {
                    "Esc or ? closes · rebind keys in expanse.toml [keys]".to_string()
                };
                let mut body = shown;
                body.push(Line::from(Span::styled(more, theme.dim)));
                popup(
                    f,
                    theme,
                    area,
                    &format!("Keys · {}", screen.name()),
                    body,
                    76,
                );
            }
            Overlay::Confirm(c) => {
                let (title, text, question): (&str, Vec<String>, String) = match c {
                    Confirm::Quit {
                        active,
                        paused,
                        drafts,
                    } => (
                        "Quit",
                        quit_text(*active, *paused, *drafts),
                        if active + paused > 0 {
                            "Stop the run? y stop · d leave running · n stay".into()
                        } else {
                            "Quit now? y / n".into()
                        },
                    ),
                    Confirm::Undo { part } => (
                        "Undo the approval",
                        vec![format!(
                            "PART {part}'s knowledge file goes back to what it was (or is removed if it was new), its drop is removed, its plan line unticked and its INDEX entry put back. It returns to review. Refused if any of those files changed since."
                        )],
                        "Undo it? y / n".into(),
                    ),
                    Confirm::Redo { part, state } => (
                        "Run again",
                        vec![format!(
                            "PART {part} is {}. Running it again researches and writes a new draft for review; nothing is written until you approve it.",
                            state.phrase()
                        )],
                        "Run it again? y / n".into(),
                    ),
                    Confirm::Approve {
                        part,
                        writes,
                        not_clean,
                        ..
                    } => (
                        "Approve",
                        // One reason, and how many more: the box must still show what it writes.
                        not_clean
                            .first()
                            .map(|first| match not_clean.len() {
                                1 => format!("Not clean: {first}."),
                                n => format!(
                                    "Not clean: {first}; and {} (the checklist lists them).",
                                    crate::words::plural(n - 1, "more reason")
                                ),
                            })
                            .into_iter()
                            .chain(std::iter::once(format!("Approving PART {part} writes:")))
                            .chain(writes.iter().map(|w| format!("  {w}")))
                            .collect(),
                        "Approve? y (or Enter) · any other key cancels".into(),
                    ),
                };
                let width = popup_width(area, 72);
                let mut lines: Vec<Line> = text
                    .iter()
                    .flat_map(|t| wrap::lines(t, width.saturating_sub(2) as usize))
                    .map(Line::from)
                    .collect();
                lines.push(Line::from(""));
                lines.push(Line::from(Span::styled(question, theme.accent)));
                popup(f, theme, area, title, lines, 72);
            }
            Overlay::Prompt(Prompt::Reject {
                part,
                text,
                requeue,
            }) => {
                let toggle = if *requeue {
                    "[x] write it again with this reason (Tab: skip the PART instead)"
                } else {
                    "[ ] write it again (Tab) — now: skip the PART"
                };
                reason_popup(
                    f,
                    theme,
                    area,
                    "Reject",
                    &format!("Reject PART {part}: why? (the writer is given this reason)"),
                    text,
                    Some(toggle),
                    "Enter: reject · Esc: cancel",
                );
            }
            Overlay::Sections {
                part,
                items,
                selected,
            } => {
                let mut lines: Vec<Line> = vec![Line::from(format!(
                    "Write which section of PART {part} again? (the others keep their bytes)"
                ))];
                for (i, (title, mark)) in items.iter().enumerate() {
                    let style = if i == *selected {
                        theme
                            .accent
                            .add_modifier(ratatui::style::Modifier::REVERSED)
                    } else {
                        theme.text
                    };
                    lines.push(Line::from(Span::styled(
                        format!(" {} {mark} {title}", i + 1),
                        style,
                    )));
                }
                lines.push(Line::from(Span::styled(
                    "↑↓ or 1–9 pick · Enter: give the reason · Esc: cancel",
                    theme.dim,
                )));
                popup(f, theme, area, "Regenerate a section", lines, 72);
            }
            Overlay::Prompt(Prompt::Regenerate {
                part,
                section,
                title,
                text,
            }) => {
                reason_popup(
                    f,
                    theme,
                    area,
                    "Regenerate",
                    &format!(
                        "Write section {} \"{title}\" of PART {part} again: why? (the writer is given this reason)",
                        section + 1
                    ),
                    text,
                    None,
                    "Enter: write it again · Esc: cancel",
                );
            }
            Overlay::Prompt(Prompt::Note { part, text }) => {
                reason_popup(
                    f,
                    theme,
                    area,
                    "Note",
                    &format!(
                        "A note to PART {part}'s runner: every section not yet written is given it; those written stay (empty: clear the notes)"
                    ),
                    text,
                    None,
                    "Enter: give the note · Esc: cancel",
                );
            }
            Overlay::Prompt(Prompt::Search { target, text }) => {
                // The search line takes the key bar's place.
                let row = Rect::new(
                    area.x,
                    area.y + area.height.saturating_sub(1),
                    area.width,
                    1,
                );
                let what = match target {
                    SearchTarget::Log => "search the log",
                    SearchTarget::Diff => "search the diff",
                };
                f.render_widget(Clear, row);
                f.render_widget(
                    Paragraph::new(Line::from(vec![
                        Span::styled("/", theme.accent),
                        Span::raw(format!("{text}▏  ({what} · Enter: search · Esc: cancel)")),
                    ])),
                    row,
                );
            }
        }
    }
}

/// Rows of help lines the help popup shows at once on a terminal of `area`.
pub fn help_rows(area: Rect) -> usize {
    // Border (2), the hint line (1), and a row of margin above and below.
    area.height.saturating_sub(5).max(1) as usize
}

/// A popup asking for a reason: the question, the text typed so far with a cursor, an optional
/// toggle line and the keys; each wrapped to the popup's width.
#[allow(clippy::too_many_arguments)]
fn reason_popup(
    f: &mut Frame,
    theme: &Theme,
    area: Rect,
    title: &str,
    question: &str,
    text: &str,
    toggle: Option<&str>,
    keys: &str,
) {
    let width = popup_width(area, 72).saturating_sub(2) as usize;
    let mut lines: Vec<Line> = wrap::lines(question, width)
        .into_iter()
        .map(Line::from)
        .collect();
    for l in wrap::lines(&format!("> {text}▏"), width) {
        lines.push(Line::from(Span::styled(l, theme.accent)));
    }
    for l in toggle.into_iter().flat_map(|t| wrap::lines(t, width)) {
        lines.push(Line::from(l));
    }
    lines.push(Line::from(Span::styled(keys.to_string(), theme.dim)));
    popup(f, theme, area, title, lines, 72);
}

fn popup_width(area: Rect, width: u16) -> u16 {
    width.min(area.width.saturating_sub(2))
}

/// A bordered box centred in `area`, as tall as its lines (never taller than the area).
pub fn popup(f: &mut Frame, theme: &Theme, area: Rect, title: &str, lines: Vec<Line>, width: u16) {
    let w = popup_width(area, width);
    let h = (lines.len() as u16 + 2).min(area.height.saturating_sub(2));
    let rect = Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    );
    // A blank cell around the box: text behind it never runs into its border.
    let margin = Rect::new(
        rect.x.saturating_sub(1).max(area.x),
        rect.y.saturating_sub(1).max(area.y),
        (rect.width + 2).min(area.x + area.width - rect.x.saturating_sub(1).max(area.x)),
        (rect.height + 2).min(area.y + area.height - rect.y.saturating_sub(1).max(area.y)),
    );
    f.render_widget(Clear, margin);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.accent)
        .title(Span::styled(format!(" {title} "), theme.accent));
    f.render_widget(Paragraph::new(lines).block(block), rect);
}

/// What the quit question says: with runners working or paused, the choice between stopping the
/// run and leaving it running; with only drafts left, that they persist.
fn quit_text(active: usize, paused: usize, drafts: usize) -> Vec<String> {
    let counts = format!(
        "{} working, {} paused, {} awaiting review.",
        crate::words::plural(active, "runner"),
        paused,
        crate::words::plural(drafts, "draft")
    );
    if active + paused == 0 {
        return vec![
            counts,
            "Drafts persist; `expanse review` or a later `expanse run` takes them.".into(),
        ];
    }
    vec![
        counts,
        "y stops the run: what the runners did is journalled, drafts persist, a later `expanse run` resumes.".into(),
        "d leaves it running without this screen: `expanse attach` comes back to it.".into(),
    ]
}
