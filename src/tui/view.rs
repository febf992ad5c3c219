//! Drawing: read-only functions from the app state to a frame.

use std::time::Instant;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::app::{App, Card, Mode, ReviewTab, ReviewView};
use super::keymap::{Action, Keymap};
use super::layout::{self, GridItem, MIN_SIZE};
use super::theme::{SPINNER, Theme, glyph};
use crate::review::{FileDiff, LineTag};
use crate::runner::{Level, RunnerState};

/// Draw the whole screen.
pub fn draw(f: &mut Frame, app: &App, theme: &Theme, keys: &Keymap, now: Instant) {
    let area = f.area();
    if area.width < MIN_SIZE.0 || area.height < MIN_SIZE.1 {
        let note = format!(
            "expanse needs a terminal of at least {}×{} (this one is {}×{}).\nEnlarge it, or press q to quit.",
            MIN_SIZE.0, MIN_SIZE.1, area.width, area.height
        );
        f.render_widget(Paragraph::new(note).wrap(Wrap { trim: true }), area);
        return;
    }
    let s = layout::screen((area.width, area.height));
    header(f, app, theme, s.header);
    match &app.mode {
        Mode::Grid => {
            grid(f, app, theme, s.grid, now);
            log_pane(f, app, theme, s.log);
        }
        Mode::Log => log_pane(f, app, theme, Rect::new(0, 1, area.width, area.height - 2)),
        Mode::Review(v) => review(
            f,
            app,
            v,
            theme,
            Rect::new(0, 1, area.width, area.height - 2),
        ),
        Mode::Drafts { selected } => drafts(
            f,
            app,
            *selected,
            theme,
            Rect::new(0, 1, area.width, area.height - 2),
        ),
    }
    footer(f, app, theme, keys, s.footer);
    if app.help {
        help(f, theme, keys, area);
    }
    if let Some(p) = &app.prompt {
        let text = vec![
            Line::from(format!(
                "Reject PART {}: why? (the writer gets this reason)",
                p.part
            )),
            Line::from(vec![Span::styled(format!("> {}▏", p.reason), theme.accent)]),
            Line::from(format!(
                "Tab: {} · Enter: reject · Esc: cancel",
                if p.requeue {
                    "[x] write it again with this reason"
                } else {
                    "[ ] write it again (now: skip the PART)"
                }
            )),
        ];
        popup(f, theme, area, "Reject", text, 70);
    }
    if app.confirm_quit {
        let text = vec![
            Line::from(format!(
                "{} runners active, {} drafts await review.",
                app.active(),
                app.in_review().len()
            )),
            Line::from("Drafts persist either way; a later `expanse run` resumes."),
            Line::from(vec![Span::styled("Quit now? y / n", theme.accent)]),
        ];
        popup(f, theme, area, "Quit", text, 64);
    }
}

fn header(f: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    // Counts first: on a narrow terminal the title is what gets cut.
    let mut spans = vec![Span::styled(" expanse ", theme.accent)];
    if app.new_drafts > 0 {
        let plural = if app.new_drafts == 1 { "" } else { "s" };
        spans.push(Span::styled(
            format!("◆ {} new draft{plural} (n) ", app.new_drafts),
            theme.warn.add_modifier(Modifier::BOLD),
        ));
    }
    for state in RunnerState::ALL {
        let n = app.cards.iter().filter(|c| c.state == state).count();
        if n > 0 {
            spans.push(Span::styled(
                format!("{} {n} {state} ", glyph(state)),
                theme.state(state),
            ));
        }
    }
    spans.push(Span::styled(format!("· {}", app.title), theme.dim));
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn footer(f: &mut Frame, app: &App, theme: &Theme, keys: &Keymap, area: Rect) {
    if let Some(input) = &app.search_input {
        f.render_widget(
            Paragraph::new(Line::from(vec![
                Span::styled("/", theme.accent),
                Span::raw(format!("{input}▏  (Enter: search, Esc: cancel)")),
            ])),
            area,
        );
        return;
    }
    if let Some(notice) = &app.notice {
        f.render_widget(
            Paragraph::new(Span::styled(format!(" {notice}"), theme.warn)),
            area,
        );
        return;
    }
    let actions: &[(Action, &str)] = match &app.mode {
        Mode::Grid => &[
            (Action::Open, "open"),
            (Action::Pause, "pause"),
            (Action::PauseAll, "pause all"),
            (Action::Next, "next draft"),
            (Action::Retry, "retry"),
            (Action::Search, "search log"),
            (Action::Drafts, "drafts"),
            (Action::Help, "help"),
            (Action::Quit, "quit"),
        ],
        Mode::Log => &[
            (Action::Back, "back"),
            (Action::Search, "search"),
            (Action::Next, "next match"),
            (Action::Prev, "prev"),
            (Action::Filter, "filter"),
            (Action::Follow, "follow"),
            (Action::Help, "help"),
        ],
        Mode::Review(_) => &[
            (Action::Approve, "approve"),
            (Action::Reject, "reject"),
            (Action::Edit, "edit"),
            (Action::Tab, "file/drop"),
            (Action::NextHunk, "next hunk"),
            (Action::PrevHunk, "prev hunk"),
            (Action::Back, "back"),
            (Action::Help, "help"),
        ],
        Mode::Drafts { .. } => &[
            (Action::Open, "review"),
            (Action::Back, "back"),
            (Action::Help, "help"),
        ],
    };
    let mut spans = Vec::new();
    for (a, label) in actions {
        let k = keys.keys_for(*a);
        let Some(k) = k.first() else { continue };
        spans.push(Span::styled(format!(" {k}"), theme.accent));
        spans.push(Span::styled(format!(" {label} "), theme.dim));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn grid(f: &mut Frame, app: &App, theme: &Theme, area: Rect, now: Instant) {
    for item in layout::grid_layout(area, &app.cards, app.selected) {
        match item {
            GridItem::Header { text, rect } => {
                f.render_widget(Paragraph::new(Span::styled(text, theme.accent)), rect)
            }
            GridItem::Card { index, rect } => card(
                f,
                &app.cards[index],
                index == app.selected,
                app.ticks,
                theme,
                rect,
                now,
            ),
        }
    }
}

fn card(
    f: &mut Frame,
    c: &Card,
    selected: bool,
    ticks: u64,
    theme: &Theme,
    rect: Rect,
    now: Instant,
) {
    let border = if selected { theme.accent } else { theme.dim };
    let title = format!(" PART {} · {} ", c.number, c.stem);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(border)
        .border_type(if selected {
            ratatui::widgets::BorderType::Thick
        } else {
            ratatui::widgets::BorderType::Rounded
        })
        .title(Span::styled(
            title,
            if selected { theme.accent } else { theme.text },
        ));
    let spinner = if c.state.is_active() && c.state != RunnerState::Paused {
        SPINNER[(ticks % SPINNER.len() as u64) as usize]
    } else {
        " "
    };
    let progress = match (c.state, c.step, c.lines) {
        (RunnerState::Searching, Some([d, t]), _) => format!("search {d}/{t}"),
        (RunnerState::Scraping, Some([d, t]), _) => format!("page {d}/{t}"),
        (_, _, Some(lines)) => format!("{lines} lines"),
        _ => String::new(),
    };
    let secs = c.elapsed_now(now).as_secs();
    let lines = vec![
        Line::from(vec![
            Span::styled(
                format!("{} {}", glyph(c.state), c.state),
                theme.state(c.state).add_modifier(Modifier::BOLD),
            ),
            Span::styled(format!(" {spinner} {progress}"), theme.text),
        ]),
        Line::from(Span::styled(
            format!("sources {} · {:02}:{:02}", c.sources, secs / 60, secs % 60),
            theme.dim,
        )),
        Line::from(Span::styled(
            if c.state == RunnerState::Failed {
                c.message.clone()
            } else {
                c.target.clone()
            },
            if c.state == RunnerState::Failed {
                theme.bad
            } else {
                theme.dim
            },
        )),
    ];
    f.render_widget(Paragraph::new(lines).block(block), rect);
}

fn log_pane(f: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let Some(c) = app.current() else { return };
    let matches = app.matches();
    let mut title = format!(" log · PART {} · {} ", c.number, c.stem);
    if !app.log.query.is_empty() {
        let at = if matches.is_empty() {
            0
        } else {
            app.log.current + 1
        };
        title.push_str(&format!("· /{} {}/{} ", app.log.query, at, matches.len()));
        if app.log.filter {
            title.push_str("· filtered ");
        }
    }
    title.push_str(if app.log.follow {
        "· following "
    } else {
        "· scrolled "
    });
    let block = Block::default()
        .borders(Borders::TOP)
        .border_style(theme.dim)
        .title(Span::styled(title, theme.accent));
    let inner = block.inner(area);
    f.render_widget(block, area);
    let height = inner.height as usize;
    let indices: Vec<usize> = if app.log.filter && !app.log.query.is_empty() {
        matches.clone()
    } else {
        (0..c.log.len()).collect()
    };
    let end = indices
        .len()
        .saturating_sub(app.log.offset.min(indices.len().saturating_sub(1)));
    let start = end.saturating_sub(height);
    let current = matches.get(app.log.current).copied();
    let q = app.log.query.to_lowercase();
    let lines: Vec<Line> = indices[start..end]
        .iter()
        .filter_map(|&i| c.log.get(i).map(|l| (i, l)))
        .map(|(i, l)| {
            let style = match l.level {
                Level::Error => theme.bad,
                Level::Warn => theme.warn,
                Level::Info => theme.text,
            };
            let mut spans = vec![Span::styled(format!("{} ", l.time), theme.dim)];
            spans.extend(highlight(
                &l.text,
                &q,
                style,
                if Some(i) == current {
                    theme.hit.add_modifier(Modifier::BOLD)
                } else {
                    theme.hit
                },
            ));
            Line::from(spans)
        })
        .collect();
    f.render_widget(Paragraph::new(lines), inner);
}

/// `text` split into spans with every case-insensitive occurrence of `q` highlighted.
fn highlight<'a>(text: &'a str, q: &str, style: Style, hit: Style) -> Vec<Span<'a>> {
    if q.is_empty() {
        return vec![Span::styled(text, style)];
    }
    let lower = text.to_lowercase();
    // Lowercasing can change byte lengths outside ASCII; highlight only when offsets line up.
    if lower.len() != text.len() {
        return vec![Span::styled(text, style)];
    }
    let mut spans = Vec::new();
    let mut at = 0;
    for (i, _) in lower.match_indices(q) {
        // Equal lengths do not guarantee aligned characters; never cut inside one.
        if i < at || !text.is_char_boundary(i) || !text.is_char_boundary(i + q.len()) {
            continue;
        }
        spans.push(Span::styled(&text[at..i], style));
        spans.push(Span::styled(&text[i..i + q.len()], hit));
        at = i + q.len();
    }
    spans.push(Span::styled(&text[at..], style));
    spans
}

fn review(f: &mut Frame, app: &App, v: &ReviewView, theme: &Theme, area: Rect) {
    let card = app.cards.iter().find(|c| c.number == v.part);
    let name = card.map_or(String::new(), |c| c.target.clone());
    let [left, right] =
        Layout::horizontal([Constraint::Min(40), Constraint::Length(44)]).areas(area);
    let tabs = match v.tab {
        ReviewTab::File => "[file] drop",
        ReviewTab::Drop => "file [drop]",
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.dim)
        .title(Span::styled(
            format!(" review · PART {} · {name} · {tabs} ", v.part),
            theme.accent,
        ));
    let inner = block.inner(left);
    f.render_widget(block, left);
    match &v.data {
        None => {
            let msg = v.status.clone().unwrap_or_else(|| "loading…".into());
            f.render_widget(Paragraph::new(msg).style(theme.dim), inner);
        }
        Some(data) => {
            let diff = if v.tab == ReviewTab::File {
                &data.file
            } else {
                &data.drop
            };
            let shown = diff_view(
                diff,
                theme,
                inner.width as usize,
                v.scroll,
                inner.height as usize,
            );
            f.render_widget(Paragraph::new(shown), inner);
        }
    }
    // The checklist beside the diff.
    let mut side: Vec<Line> = Vec::new();
    if let Some(status) = &v.status {
        side.push(Line::from(Span::styled(status.clone(), theme.warn)));
        side.push(Line::from(""));
    }
    if let Some(d) = &v.data {
        let c = &d.checklist;
        side.push(Line::from(Span::styled(
            c.summary(),
            if c.is_clean() { theme.good } else { theme.warn },
        )));
        side.push(Line::from(""));
        for s in &c.sections {
            let mark = if s.present && s.filled {
                ("✓", theme.good)
            } else if s.present {
                ("◌", theme.warn)
            } else {
                ("✗", theme.bad)
            };
            let budget = s.budget.map_or(String::new(), |b| format!("/{b}"));
            side.push(Line::from(vec![
                Span::styled(format!("{} ", mark.0), mark.1),
                Span::raw(format!("{} ", s.title)),
                Span::styled(format!("{}{budget}", s.lines), theme.dim),
            ]));
        }
        side.push(Line::from(""));
        side.push(Line::from(format!(
            "citations {} · sources {}",
            c.citations, c.sources
        )));
        if !c.cited_not_listed.is_empty() {
            side.push(Line::from(Span::styled(
                format!("cited, not in Sources: {:?}", c.cited_not_listed),
                theme.bad,
            )));
        }
        if !c.listed_not_cited.is_empty() {
            side.push(Line::from(Span::styled(
                format!("listed, never cited: {:?}", c.listed_not_cited),
                theme.warn,
            )));
        }
        side.push(Line::from(format!(
            "already in the base: {:.0}%",
            c.overlap * 100.0
        )));
        side.push(Line::from(format!("+{} −{}", d.file.added, d.file.removed)));
    }
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.dim)
        .title(Span::styled(" checklist ", theme.accent));
    f.render_widget(
        Paragraph::new(side).block(block).wrap(Wrap { trim: false }),
        right,
    );
}

/// Gutter before a diff line's text: "OOOO NNNN ±".
const GUTTER: usize = 11;

/// The rows of a diff visible in a window `height` rows tall scrolled to `scroll`: hunk
/// headers, numbered lines, changed words emphasised. Long lines (a markdown paragraph is one
/// line) wrap under their text so no change is ever cut off. Only the visible rows are built,
/// so a redraw costs the window, not the whole diff.
pub fn diff_view(
    diff: &FileDiff,
    theme: &Theme,
    width: usize,
    scroll: usize,
    height: usize,
) -> Vec<Line<'static>> {
    let text_width = width.saturating_sub(GUTTER).max(10);
    if diff.is_empty() {
        return vec![Line::from(Span::styled(
            "(no changes against the file on disk)",
            theme.dim,
        ))];
    }
    // A line's rows follow from its length alone, so rows above the window are only counted.
    let rows_of = |l: &crate::review::DiffLine| {
        let chars: usize = l.segments.iter().map(|s| s.text.chars().count()).sum();
        chars.div_ceil(text_width).max(1)
    };
    let total: usize = diff
        .hunks
        .iter()
        .map(|h| 1 + h.lines.iter().map(rows_of).sum::<usize>())
        .sum();
    let top = scroll.min(total.saturating_sub(height));
    let bottom = top + height;
    let mut out = Vec::new();
    let mut row = 0;
    for h in &diff.hunks {
        if row >= bottom {
            break;
        }
        if row >= top {
            out.push(Line::from(Span::styled(
                format!(
                    "@@ -{},{} +{},{} @@",
                    h.old_start, h.old_len, h.new_start, h.new_len
                ),
                theme.accent,
            )));
        }
        row += 1;
        for l in &h.lines {
            let n = rows_of(l);
            if row + n > top && row < bottom {
                let skip = top.saturating_sub(row);
                out.extend(
                    line_rows(l, theme, text_width)
                        .into_iter()
                        .skip(skip)
                        .take(bottom - row.max(top)),
                );
            }
            row += n;
            if row >= bottom {
                break;
            }
        }
    }
    out
}

/// One diff line as its wrapped rows.
fn line_rows(l: &crate::review::DiffLine, theme: &Theme, text_width: usize) -> Vec<Line<'static>> {
    let (sign, style) = match l.tag {
        LineTag::Equal => (' ', theme.text),
        LineTag::Insert => ('+', theme.good),
        LineTag::Delete => ('-', theme.bad),
    };
    let num = |n: Option<usize>| n.map_or("    ".to_string(), |n| format!("{n:>4}"));
    let mut out = Vec::new();
    let mut row = vec![
        Span::styled(format!("{} {} ", num(l.old), num(l.new)), theme.dim),
        Span::styled(sign.to_string(), style),
    ];
    let mut used = 0;
    for s in &l.segments {
        let st = if s.emphasized {
            style.patch(theme.emph)
        } else {
            style
        };
        let mut rest = s.text.as_str();
        while !rest.is_empty() {
            if used == text_width {
                out.push(Line::from(std::mem::replace(
                    &mut row,
                    vec![Span::raw(" ".repeat(GUTTER))],
                )));
                used = 0;
            }
            let take = rest
                .char_indices()
                .nth(text_width - used)
                .map_or(rest.len(), |(i, _)| i);
            row.push(Span::styled(rest[..take].to_string(), st));
            used += rest[..take].chars().count();
            rest = &rest[take..];
        }
    }
    out.push(Line::from(row));
    out
}

fn drafts(f: &mut Frame, app: &App, selected: usize, theme: &Theme, area: Rect) {
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.dim)
        .title(Span::styled(" drafts awaiting review ", theme.accent));
    let review = app.in_review();
    let mut lines = Vec::new();
    if review.is_empty() {
        lines.push(Line::from(Span::styled(
            "No draft awaits review.",
            theme.dim,
        )));
    }
    // File stems, not full paths: the counts and the checklist must fit beside them.
    let width = review
        .iter()
        .map(|c| c.stem.chars().count())
        .max()
        .unwrap_or(0);
    for (i, c) in review.iter().enumerate() {
        let style = if i == selected {
            theme.accent.add_modifier(Modifier::REVERSED)
        } else {
            theme.text
        };
        let row = app.draft_rows.iter().find(|r| r.part == c.number);
        let (counts, summary) = match row {
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
        lines.push(Line::from(Span::styled(
            format!(
                " PART {:>3}  {:<width$}  {counts}  {summary}",
                c.number, c.stem
            ),
            style,
        )));
    }
    f.render_widget(Paragraph::new(lines).block(block), area);
}

fn help(f: &mut Frame, theme: &Theme, keys: &Keymap, area: Rect) {
    let mut lines = Vec::new();
    for (action, text) in Action::HELP {
        let k = keys.keys_for(*action).join(" ");
        lines.push(Line::from(vec![
            Span::styled(format!("{k:>14}  "), theme.accent),
            Span::raw(*text),
        ]));
    }
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled(
        "Rebind keys in expanse.toml: [keys] pause = \"space\"",
        theme.dim,
    )));
    popup(f, theme, area, "Keys (? or Esc closes)", lines, 72);
}

fn popup(f: &mut Frame, theme: &Theme, area: Rect, title: &str, lines: Vec<Line>, width: u16) {
    let w = width.min(area.width.saturating_sub(2));
    let h = (lines.len() as u16 + 2).min(area.height.saturating_sub(2));
    let rect = Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    );
    f.render_widget(Clear, rect);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.accent)
        .title(Span::styled(format!(" {title} "), theme.accent));
    f.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        rect,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_diff_window_is_exactly_that_slice_of_the_whole_diff() {
        let theme = Theme::new(true);
        let old: String = (0..40).map(|i| format!("line {i}\n")).collect();
        let new: String = (0..40)
            .map(|i| {
                if i % 7 == 3 {
                    format!("line {i} {}\n", "a long changed paragraph ".repeat(9))
                } else {
                    format!("line {i}\n")
                }
            })
            .collect();
        let d = crate::review::diff(Some(&old), &new, "x.md");
        let render = |lines: Vec<Line>| lines.iter().map(|l| l.to_string()).collect::<Vec<_>>();
        let whole = render(diff_view(&d, &theme, 60, 0, 1_000_000));
        assert!(whole.len() > 40, "long lines wrap: {}", whole.len());
        for (scroll, height) in [
            (0, 5),
            (3, 7),
            (10, 1),
            (17, 20),
            (whole.len() - 4, 4),
            (10_000, 6),
        ] {
            let window = render(diff_view(&d, &theme, 60, scroll, height));
            let top = scroll.min(whole.len() - height);
            assert_eq!(
                window,
                whole[top..top + height],
                "scroll {scroll}, height {height}"
            );
        }
    }

    #[test]
    fn highlight_never_cuts_inside_a_character() {
        let style = Style::default();
        // "ẞİ" lowercases to text of the same byte length whose characters do not line up.
        for (text, q) in [
            ("ẞİ x", "i"),
            ("fetch ÉCOLE", "école"),
            ("plain fetch line", "fetch"),
        ] {
            let spans = highlight(text, q, style, style);
            let joined: String = spans.iter().map(|s| s.content.as_ref()).collect();
            assert_eq!(joined, text);
        }
        let spans = highlight(
            "a fetch b FETCH",
            "fetch",
            style,
            Style::default().add_modifier(Modifier::BOLD),
        );
        assert_eq!(
            spans
                .iter()
                .filter(|s| s.style.add_modifier.contains(Modifier::BOLD))
                .count(),
            2
        );
    }
}
