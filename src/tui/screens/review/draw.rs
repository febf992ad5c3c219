//! Drawing the review: the diff with its gutter, and the checklist (claims, evidence, what
//! approval writes) beside it or under it.

use super::*;

impl ReviewScreen {
    /// Draw the diff and the checklist.
    pub fn draw(&self, f: &mut Frame, ctx: &Ctx, theme: &Theme) {
        let (diff_area, side_area) = areas(ctx.size);
        let name = ctx
            .cards
            .get(self.part)
            .map_or(String::new(), |c| c.target.clone());
        let tabs = match self.tab {
            ReviewTab::File => "[file] drop",
            ReviewTab::Drop => "file [drop]",
        };
        // The target comes last: on a narrow terminal it is what gets cut.
        let mut title = format!(" review · PART {} · {tabs} ", self.part);
        if !self.query.is_empty() {
            let m = self.matches().len();
            let at = if m == 0 { 0 } else { self.current + 1 };
            title.push_str(&format!("· /{} {at}/{m} ", self.query));
        }
        title.push_str(&format!("· {name} "));
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.dim)
            .title(Span::styled(title, theme.accent));
        let inner = block.inner(diff_area);
        f.render_widget(block, diff_area);
        match self.diff() {
            None => {
                let msg = self
                    .status
                    .as_ref()
                    .map_or("loading…".to_string(), |s| s.text.clone());
                f.render_widget(
                    Paragraph::new(msg)
                        .style(theme.dim)
                        .wrap(Wrap { trim: true }),
                    inner,
                );
            }
            Some(diff) => {
                let current = self.matches().get(self.current).copied();
                let no_hunks = std::collections::BTreeSet::new();
                let verdicts = match (self.tab, &self.data) {
                    (ReviewTab::File, Some(d)) => verdicts_by_line(&d.claims),
                    _ => BTreeMap::new(),
                };
                let shown = diff_view(
                    diff,
                    theme,
                    &View {
                        width: inner.width as usize,
                        scroll: self.scroll,
                        height: inner.height as usize,
                        query: &self.query.to_lowercase(),
                        current,
                        verdicts: &verdicts,
                        left_out: if self.tab == ReviewTab::File {
                            &self.left_out
                        } else {
                            &no_hunks
                        },
                    },
                );
                f.render_widget(Paragraph::new(shown), inner);
            }
        }
        // The pane scrolls (J/K) when its lines do not fit; the title says how much is hidden.
        let lines = self.side(theme);
        let inner_w = side_area.width.saturating_sub(2) as usize;
        let inner_h = side_area.height.saturating_sub(2) as usize;
        let rows: usize = lines
            .iter()
            .map(|l| wrap::count(&l.to_string(), inner_w))
            .sum();
        let top = self.side_scroll.min(rows.saturating_sub(inner_h));
        let below = rows.saturating_sub(top + inner_h);
        let title = match (top, below) {
            (0, 0) => " checklist ".to_string(),
            (0, b) => format!(" checklist · ↓ {b} more (J) "),
            (t, 0) => format!(" checklist · ↑ {t} above (K) "),
            (t, b) => format!(" checklist · ↑ {t} ↓ {b} (K/J) "),
        };
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.dim)
            .title(Span::styled(title, theme.accent));
        f.render_widget(
            Paragraph::new(lines)
                .block(block)
                .wrap(Wrap { trim: false })
                .scroll((top.min(u16::MAX as usize) as u16, 0)),
            side_area,
        );
    }

    fn side(&self, theme: &Theme) -> Vec<Line<'static>> {
        let mut side: Vec<Line> = Vec::new();
        if let Some(status) = &self.status {
            let style = match status.kind {
                StatusKind::Working | StatusKind::Info => theme.warn,
                StatusKind::Conflict | StatusKind::Error => theme.bad,
            };
            side.push(Line::from(Span::styled(status.text.clone(), style)));
            side.push(Line::from(""));
        }
        let Some(d) = &self.data else {
            return side;
        };
        if self.evidence
            && let Some(claim) = self.claim.and_then(|i| d.claims.get(i))
        {
            let cites: Vec<String> = claim.cites.iter().map(|n| format!("[{n}]")).collect();
            side.push(Line::from(Span::styled(
                format!(
                    "{} line {}: {} {}",
                    claim.verdict.glyph(),
                    claim.line,
                    claim.verdict.name(),
                    cites.join("")
                ),
                verdict_style(theme, claim.verdict),
            )));
            side.push(Line::from(claim.text.clone()));
            if let Some(note) = &claim.note {
                side.push(Line::from(Span::styled(note.clone(), theme.warn)));
            }
            match &claim.evidence {
                Some(e) => {
                    side.push(Line::from(Span::styled(
                        format!("evidence in [{}]:", e.source),
                        theme.accent,
                    )));
                    side.push(Line::from(e.text.clone()));
                }
                None => side.push(Line::from(Span::styled(
                    "no evidence found in the cited source",
                    theme.bad,
                ))),
            }
            side.push(Line::from(Span::styled("(v hides)", theme.dim)));
            side.push(Line::from(""));
        }
        let c = &d.checklist;
        if !self.left_out.is_empty() {
            let total = d.file.hunks.len();
            side.push(Line::from(Span::styled(
                format!(
                    "approve writes {} of {total} hunks (left out: {})",
                    total - self.left_out.len(),
                    self.left_out
                        .iter()
                        .map(|k| k.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                theme.warn,
            )));
        }
        if c.existing_lines > 0 {
            side.push(Line::from(Span::styled(
                if c.removed.is_empty() {
                    format!(
                        "grows the existing file: all {} kept",
                        plural(c.existing_lines, "line")
                    )
                } else {
                    format!(
                        "removes or changes {} of the existing {}",
                        c.removed.len(),
                        plural(c.existing_lines, "line")
                    )
                },
                if c.removed.is_empty() {
                    theme.good
                } else {
                    theme.bad
                },
            )));
        }
        side.push(Line::from(Span::styled(
            c.summary(),
            if c.is_clean() { theme.good } else { theme.warn },
        )));
        // Why it is not clean comes first: on a short terminal it is what must stay in view.
        let reasons = c.reasons();
        if reasons.is_empty() {
            side.push(Line::from(Span::styled(
                "clean: it may be approved unattended",
                theme.good,
            )));
        } else {
            side.push(Line::from(Span::styled("not clean:", theme.warn)));
            for r in reasons {
                side.push(Line::from(Span::styled(format!("- {r}"), theme.warn)));
            }
        }
        side.push(Line::from(""));
        for s in &c.sections {
            let mark = match s.mark {
                Mark::Ok => ("✓", theme.good),
                Mark::Warn => ("!", theme.warn),
                Mark::Fail => ("✗", theme.bad),
            };
            let budget = s.budget.map_or(String::new(), |b| format!("/{b}"));
            let claims = if s.claims > 0 {
                format!(" · {}✓ {}~ {}✗", s.supported, s.weak, s.unsupported)
            } else {
                String::new()
            };
            side.push(Line::from(vec![
                Span::styled(format!("{} ", mark.0), mark.1),
                Span::raw(format!("{} ", s.title)),
                Span::styled(format!("{}{budget}{claims}", s.lines), theme.dim),
            ]));
            if let Some(why) = &s.why {
                side.push(Line::from(Span::styled(format!("  {why}"), mark.1)));
            }
        }
        for u in &c.unplanned {
            side.push(Line::from(Span::styled(
                format!("? \"{u}\" is not a planned section"),
                theme.warn,
            )));
        }
        side.push(Line::from(""));
        side.push(Line::from(format!(
            "{} · {}",
            plural(c.citations, "citation"),
            plural(c.sources, "source")
        )));
        for site in &c.sites {
            let numbers: Vec<String> = site.sources.iter().map(|n| format!("[{n}]")).collect();
            side.push(Line::from(Span::styled(
                format!("  {} {}", site.site, numbers.join("")),
                theme.dim,
            )));
        }
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
        side
    }
}
