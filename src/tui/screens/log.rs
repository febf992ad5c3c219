//! The selected runner's log: a pane under the grid or maximised, scrolled, searched, filtered.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use crate::runner::Level;
use crate::tui::cards::Card;
use crate::tui::keymap::Action;
use crate::tui::logbuf::LogBuf;
use crate::tui::theme::Theme;
use crate::tui::wrap;

/// Columns of the `HH:MM:SS ` time before each line.
const TIME: usize = 9;

/// How the selected runner's log is shown.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogView {
    /// Lines (of those shown) between the window's last line and the end; 0 follows the end.
    offset: usize,
    /// The active search.
    query: String,
    /// The current match (index into the matches).
    current: usize,
    /// Show only matching lines.
    filter: bool,
}

impl LogView {
    /// The active search, as typed.
    pub fn query(&self) -> &str {
        &self.query
    }

    /// Lines between the window's last line and the end (0: following the end).
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// Whether the view sticks to the end as lines arrive.
    pub fn following(&self) -> bool {
        self.offset == 0
    }

    /// The log's lines this view shows (matches only when filtered), as indices.
    pub fn shown(&self, log: &LogBuf) -> Vec<usize> {
        if self.filter && !self.query.is_empty() {
            log.matches(&self.query)
        } else {
            (0..log.len()).collect()
        }
    }

    /// The same view for another runner's log: the search stays, the scroll does not.
    pub fn for_other_card(&self) -> LogView {
        LogView {
            query: self.query.clone(),
            filter: self.filter,
            ..LogView::default()
        }
    }

    /// Apply a scrolling or search action; `inner` is the pane's text area. Returns false for
    /// actions this view does not handle.
    pub fn handle(&mut self, a: Action, log: &LogBuf, inner: (usize, usize)) -> bool {
        let (width, height) = inner;
        let page = height.saturating_sub(1).max(1);
        match a {
            Action::Up => self.offset += 1,
            Action::Down => self.offset = self.offset.saturating_sub(1),
            Action::PageUp => self.offset += page,
            Action::PageDown => self.offset = self.offset.saturating_sub(page),
            Action::Top => self.offset = usize::MAX / 2,
            Action::Bottom | Action::Follow => self.offset = 0,
            Action::Filter => {
                self.filter = !self.filter && !self.query.is_empty();
                self.offset = 0;
            }
            Action::Next | Action::Prev => {
                let m = log.matches(&self.query).len();
                if m == 0 {
                    return true;
                }
                self.current = if a == Action::Next {
                    (self.current + 1) % m
                } else {
                    (self.current + m - 1) % m
                };
                self.jump(log);
            }
            _ => return false,
        }
        self.clamp(log, width, height);
        true
    }

    /// Start a search for `query`: the last match becomes current.
    pub fn search(&mut self, query: String, log: &LogBuf, inner: (usize, usize)) {
        self.query = query;
        let m = log.matches(&self.query).len();
        self.current = m.saturating_sub(1);
        if m > 0 {
            self.jump(log);
        }
        self.clamp(log, inner.0, inner.1);
    }

    /// Clear the search and the filter.
    pub fn clear_search(&mut self) {
        self.query.clear();
        self.filter = false;
        self.current = 0;
    }

    /// A line arrived: a view scrolled up keeps showing the same lines.
    pub fn line_added(&mut self) {
        if self.offset > 0 {
            self.offset += 1;
        }
    }

    fn jump(&mut self, log: &LogBuf) {
        let Some(&line) = log.matches(&self.query).get(self.current) else {
            return;
        };
        let shown = self.shown(log);
        if let Some(pos) = shown.iter().position(|&i| i == line) {
            self.offset = shown.len() - pos - 1;
        }
    }

    /// Keep the offset where it still moves the window: scrolled to the top, the window starts
    /// at the first line and is full.
    fn clamp(&mut self, log: &LogBuf, width: usize, height: usize) {
        let shown = self.shown(log);
        let text_w = width.saturating_sub(TIME).max(1);
        let mut rows = 0;
        let mut fill = shown.len();
        for (k, &i) in shown.iter().enumerate() {
            rows += log.get(i).map_or(1, |l| wrap::count(&l.text, text_w));
            if rows >= height {
                fill = k + 1;
                break;
            }
        }
        self.offset = self.offset.min(shown.len().saturating_sub(fill));
    }

    /// Draw `card`'s log in `area`, with a title line saying what is shown.
    pub fn draw(&self, f: &mut Frame, card: &Card, theme: &Theme, area: Rect) {
        let matches = card.log.matches(&self.query);
        let mut title = format!(" log · PART {} · {} ", card.number, card.stem);
        if !self.query.is_empty() {
            let at = if matches.is_empty() {
                0
            } else {
                self.current + 1
            };
            title.push_str(&format!("· /{} {at}/{} ", self.query, matches.len()));
            if self.filter {
                title.push_str("· filtered ");
            }
        }
        title.push_str(if self.following() {
            "· following "
        } else {
            "· scrolled (F follows) "
        });
        let block = Block::default()
            .borders(Borders::TOP)
            .border_style(theme.dim)
            .title(Span::styled(title, theme.accent));
        let inner = block.inner(area);
        f.render_widget(block, area);
        let lines = self.rows(
            card,
            &matches,
            theme,
            inner.width as usize,
            inner.height as usize,
        );
        f.render_widget(Paragraph::new(lines), inner);
    }

    /// The rows in view: lines wrapped at word boundaries under their time, the window ending
    /// `offset` lines before the end and filled from the start when scrolled to the top.
    fn rows(
        &self,
        card: &Card,
        matches: &[usize],
        theme: &Theme,
        width: usize,
        height: usize,
    ) -> Vec<Line<'static>> {
        let shown = self.shown(&card.log);
        if shown.is_empty() || height == 0 {
            return Vec::new();
        }
        let text_w = width.saturating_sub(TIME).max(1);
        let current = matches.get(self.current).copied();
        let q = self.query.to_lowercase();
        let render = |i: usize| -> Vec<Line<'static>> {
            let Some(l) = card.log.get(i) else {
                return Vec::new();
            };
            let style = match l.level {
                Level::Error => theme.bad,
                Level::Warn => theme.warn,
                Level::Info => theme.text,
            };
            let hit = if Some(i) == current {
                theme.hit.add_modifier(Modifier::BOLD)
            } else {
                theme.hit
            };
            let spans = highlight(&l.text, &q, style, hit);
            wrap::rows(&l.text, text_w)
                .into_iter()
                .enumerate()
                .map(|(k, r)| {
                    let lead = if k == 0 {
                        Span::styled(format!("{:<TIME$}", l.time), theme.dim)
                    } else {
                        Span::raw(" ".repeat(TIME))
                    };
                    let mut row = vec![lead];
                    row.extend(cut(&l.text, &spans, r));
                    Line::from(row)
                })
                .collect()
        };
        let end = shown.len() - self.offset.min(shown.len() - 1);
        let mut window: Vec<Vec<Line>> = Vec::new();
        let mut rows = 0;
        let mut k = end;
        while k > 0 && rows < height {
            k -= 1;
            let r = render(shown[k]);
            rows += r.len();
            window.insert(0, r);
        }
        let mut next = end;
        while rows < height && next < shown.len() {
            let r = render(shown[next]);
            rows += r.len();
            window.push(r);
            next += 1;
        }
        let mut out: Vec<Line> = window.into_iter().flatten().collect();
        // The newest rows stay in view; an over-long first line loses its top rows.
        if out.len() > height {
            out.drain(..out.len() - height);
        }
        out
    }
}

/// `text` as (byte range, style) runs with every case-insensitive occurrence of `q` marked.
pub fn highlight(
    text: &str,
    q: &str,
    style: Style,
    hit: Style,
) -> Vec<(std::ops::Range<usize>, Style)> {
    if q.is_empty() {
        return vec![(0..text.len(), style)];
    }
    let lower = text.to_lowercase();
    // Lowercasing can change byte lengths outside ASCII; highlight only when offsets line up.
    if lower.len() != text.len() {
        return vec![(0..text.len(), style)];
    }
    let mut out = Vec::new();
    let mut at = 0;
    for (i, _) in lower.match_indices(q) {
        // Equal lengths do not guarantee aligned characters; never cut inside one.
        if i < at || !text.is_char_boundary(i) || !text.is_char_boundary(i + q.len()) {
            continue;
        }
        out.push((at..i, style));
        out.push((i..i + q.len(), hit));
        at = i + q.len();
    }
    out.push((at..text.len(), style));
    out
}

/// The styled pieces of `runs` (byte ranges of `text`) that fall in `row`.
pub fn cut(
    text: &str,
    runs: &[(std::ops::Range<usize>, Style)],
    row: std::ops::Range<usize>,
) -> Vec<Span<'static>> {
    runs.iter()
        .filter_map(|(r, style)| {
            let s = r.start.max(row.start);
            let e = r.end.min(row.end);
            (s < e).then(|| Span::styled(text[s..e].to_string(), *style))
        })
        .collect()
}
