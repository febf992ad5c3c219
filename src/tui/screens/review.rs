//! The review screen: a draft's diff (file or drop tab) with its checklist beside it (or under
//! it on narrow terminals), searched with `/`, approved with a confirming key, rejected with a
//! reason, edited in `$EDITOR`.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use super::log::{cut, highlight};
use super::{Ctx, EditWhat, Effect, Step};
use std::collections::BTreeMap;

use crate::review::{Claim, DiffLine, FileDiff, Inspection, LineTag, Mark, Seen, Verdict};
use crate::runner::Command;
use crate::tui::keymap::Action;
use crate::tui::layout::{self, REVIEW_SIDE_BY_SIDE};
use crate::tui::overlay::{Confirm, Overlay, Prompt, SearchTarget};
use crate::tui::theme::Theme;
use crate::tui::wrap;
use crate::words::plural;

mod diffview;
mod draw;
pub use diffview::*;

/// Gutter before a diff line's text: "OOOO NNNN ±v" (v: the claim's verdict glyph).
const GUTTER: usize = 12;

/// Which side of a draft is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewTab {
    /// The knowledge file.
    File,
    /// The KNOWLEDGE DROP.
    Drop,
}

/// What kind of message the review shows above its checklist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusKind {
    /// Something is being computed or decided.
    Working,
    /// The file changed on disk: the diff shown is against the new file. Kept across reloads.
    Conflict,
    /// Something failed; nothing was written.
    Error,
    /// A result worth saying (an edit).
    Info,
}

/// A message on the review screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// Its kind.
    pub kind: StatusKind,
    /// Its text.
    pub text: String,
}

/// One draft under review.
#[derive(Debug, Clone)]
pub struct ReviewScreen {
    /// The PART.
    part: u32,
    /// File or drop.
    tab: ReviewTab,
    /// First diff row shown.
    scroll: usize,
    /// Diffs and checklist (None while loading).
    data: Option<Box<Inspection>>,
    /// A message for the reviewer.
    status: Option<Status>,
    /// A decision was sent and its answer is awaited.
    busy: bool,
    /// The diff search.
    query: String,
    /// The current match.
    current: usize,
    /// Ask for a confirming key before approving.
    confirm_approve: bool,
    /// The claim selected by `]`/`[` (index into the claims).
    claim: Option<usize>,
    /// Show the selected claim's evidence beside the diff.
    evidence: bool,
    /// Hunks of the file's diff (1-based) the reviewer left out: approval writes the others.
    left_out: std::collections::BTreeSet<usize>,
    /// First row of the checklist pane shown.
    side_scroll: usize,
}

impl ReviewScreen {
    /// The review of PART `part`, loading.
    pub fn new(part: u32, confirm_approve: bool) -> ReviewScreen {
        ReviewScreen {
            part,
            tab: ReviewTab::File,
            scroll: 0,
            data: None,
            status: Some(Status {
                kind: StatusKind::Working,
                text: "computing the diff…".into(),
            }),
            busy: false,
            query: String::new(),
            current: 0,
            confirm_approve,
            claim: None,
            evidence: false,
            left_out: std::collections::BTreeSet::new(),
            side_scroll: 0,
        }
    }

    /// The PART under review.
    pub fn part(&self) -> u32 {
        self.part
    }

    /// A decision was sent and its answer is awaited.
    pub fn is_busy(&self) -> bool {
        self.busy
    }

    /// The diff search, as typed.
    pub fn query(&self) -> &str {
        &self.query
    }

    /// What the message for the reviewer is about, if there is one.
    pub fn status_kind(&self) -> Option<StatusKind> {
        self.status.as_ref().map(|s| s.kind)
    }

    /// A decision was sent: keys that decide wait for its answer.
    pub fn waiting(&mut self) {
        self.busy = true;
        self.say(StatusKind::Working, "waiting for the answer…");
    }

    /// The decision was refused or failed: say why; the reviewer may decide again.
    pub fn refused(&mut self, kind: StatusKind, why: impl Into<String>) {
        self.busy = false;
        self.say(kind, why);
    }

    /// The diff of the tab shown.
    fn diff(&self) -> Option<&FileDiff> {
        self.data.as_ref().map(|d| match self.tab {
            ReviewTab::File => &d.file,
            ReviewTab::Drop => &d.drop,
        })
    }

    /// New diffs and checklist arrived; a conflict notice stays, progress notes go.
    pub fn loaded(&mut self, data: Box<Inspection>) {
        // Hunks left out name hunks of the diff they were chosen on; a new diff starts whole.
        if self.data.as_ref().is_none_or(|d| d.file != data.file) {
            self.left_out.clear();
        }
        self.data = Some(data);
        if self
            .status
            .as_ref()
            .is_some_and(|s| s.kind == StatusKind::Working)
        {
            self.status = None;
        }
    }

    /// Say something on the screen.
    pub fn say(&mut self, kind: StatusKind, text: impl Into<String>) {
        self.status = Some(Status {
            kind,
            text: text.into(),
        });
    }

    /// Handle one action.
    pub fn handle(&mut self, a: Action, ctx: &Ctx) -> Vec<Step> {
        let (width, height) = diff_inner(ctx.size);
        let page = height.saturating_sub(2).max(1);
        match a {
            Action::Up => self.scroll = self.scroll.saturating_sub(1),
            Action::Down => self.scroll += 1,
            Action::PageUp => self.scroll = self.scroll.saturating_sub(page),
            Action::PageDown => self.scroll += page,
            Action::Top => self.scroll = 0,
            Action::Bottom => self.scroll = usize::MAX / 2,
            Action::NextHunk | Action::PrevHunk => {
                let starts = self.diff().map(|d| hunk_rows(d, width)).unwrap_or_default();
                let next = if a == Action::NextHunk {
                    starts.iter().find(|&&h| h > self.scroll)
                } else {
                    starts.iter().rev().find(|&&h| h < self.scroll)
                };
                if let Some(&h) = next {
                    self.scroll = h;
                }
            }
            Action::SideDown => self.side_scroll += 3,
            Action::SideUp => self.side_scroll = self.side_scroll.saturating_sub(3),
            Action::ToggleHunk => {
                let Some(d) = &self.data else {
                    return vec![Step::Notice("the diff is still being computed".into())];
                };
                if self.tab != ReviewTab::File || d.file.hunks.is_empty() {
                    return vec![Step::Notice(
                        "hunks are kept or left out on the file's diff (Tab shows it)".into(),
                    )];
                }
                let starts = hunk_rows(&d.file, width);
                let k = starts.iter().rposition(|&r| r <= self.scroll).unwrap_or(0) + 1;
                let total = d.file.hunks.len();
                let left = if self.left_out.remove(&k) {
                    false
                } else {
                    self.left_out.insert(k);
                    true
                };
                return vec![Step::Notice(format!(
                    "hunk {k} of {total} {}; approve writes {} of {total}",
                    if left { "left out" } else { "kept" },
                    total - self.left_out.len()
                ))];
            }
            Action::Tab => {
                self.tab = match self.tab {
                    ReviewTab::File => ReviewTab::Drop,
                    ReviewTab::Drop => ReviewTab::File,
                };
                self.scroll = 0;
                self.current = 0;
            }
            Action::NextClaim | Action::PrevClaim => {
                let Some(d) = &self.data else {
                    return Vec::new();
                };
                let doubtful: Vec<usize> = (0..d.claims.len())
                    .filter(|&i| d.claims[i].verdict != Verdict::Supported)
                    .collect();
                if doubtful.is_empty() {
                    return vec![Step::Notice(format!(
                        "every claim is supported by the source it cites ({} in all)",
                        d.claims.len()
                    ))];
                }
                let at = self
                    .claim
                    .and_then(|c| doubtful.iter().position(|&i| i == c));
                let next = match (a, at) {
                    (Action::NextClaim, Some(p)) => doubtful[(p + 1) % doubtful.len()],
                    (Action::NextClaim, None) => doubtful[0],
                    (_, Some(p)) => doubtful[(p + doubtful.len() - 1) % doubtful.len()],
                    (_, None) => doubtful[doubtful.len() - 1],
                };
                self.claim = Some(next);
                self.tab = ReviewTab::File;
                let line = d.claims[next].line;
                if let Some(k) = diff_index_of_new_line(&d.file, line) {
                    self.scroll = line_row(&d.file, width, k).saturating_sub(height / 3);
                }
            }
            Action::Evidence => {
                self.side_scroll = 0;
                if self.claim.is_none() {
                    // The first claim in view, when none was picked yet.
                    self.claim = self.data.as_ref().and_then(|d| {
                        d.claims.iter().position(|c| {
                            diff_index_of_new_line(&d.file, c.line)
                                .is_some_and(|k| line_row(&d.file, width, k) >= self.scroll)
                        })
                    });
                }
                self.evidence = !self.evidence && self.claim.is_some();
                if self.claim.is_none() {
                    return vec![Step::Notice("this draft has no claims to show".into())];
                }
            }
            Action::Regenerate if self.busy => return vec![self.wait_notice()],
            Action::Regenerate => {
                let Some(d) = &self.data else {
                    return vec![Step::Notice("the diff is still being computed".into())];
                };
                let items = d
                    .checklist
                    .sections
                    .iter()
                    .map(|s| {
                        let mark = match s.mark {
                            Mark::Ok => "✓",
                            Mark::Warn => "!",
                            Mark::Fail => "✗",
                        };
                        (s.title.clone(), mark)
                    })
                    .collect();
                return vec![Step::Overlay(Overlay::Sections {
                    part: self.part,
                    items,
                    selected: 0,
                })];
            }
            Action::Approve => return self.approve(),
            Action::Reject if self.busy => return vec![self.wait_notice()],
            Action::Reject => {
                return vec![Step::Overlay(Overlay::Prompt(Prompt::Reject {
                    part: self.part,
                    text: String::new(),
                    requeue: true,
                }))];
            }
            Action::Edit if self.busy => return vec![self.wait_notice()],
            Action::Edit => {
                return vec![Step::Effect(Effect::Edit {
                    part: self.part,
                    what: match self.tab {
                        ReviewTab::File => EditWhat::File,
                        ReviewTab::Drop => EditWhat::Drop,
                    },
                })];
            }
            Action::Search => {
                return vec![Step::Overlay(Overlay::Prompt(Prompt::Search {
                    target: SearchTarget::Diff,
                    text: String::new(),
                }))];
            }
            Action::Next if self.query.is_empty() => return vec![Step::NextDraft],
            Action::Next | Action::Prev => {
                let m = self.matches().len();
                if m > 0 {
                    self.current = if a == Action::Next {
                        (self.current + 1) % m
                    } else {
                        (self.current + m - 1) % m
                    };
                    self.jump(width, height);
                }
            }
            Action::Back if !self.query.is_empty() => {
                self.query.clear();
                self.current = 0;
            }
            Action::Back => return vec![Step::Close],
            _ => {}
        }
        Vec::new()
    }

    fn wait_notice(&self) -> Step {
        Step::Notice(format!(
            "PART {}: waiting for the answer to your decision",
            self.part
        ))
    }

    fn approve(&mut self) -> Vec<Step> {
        if self.busy {
            return vec![self.wait_notice()];
        }
        let Some(d) = &self.data else {
            return vec![Step::Notice("the diff is still being computed".into())];
        };
        let seen = Seen::from_hash(d.base_hash.clone());
        let total = d.file.hunks.len();
        let hunks: Option<std::collections::BTreeSet<usize>> = (!self.left_out.is_empty())
            .then(|| (1..=total).filter(|k| !self.left_out.contains(k)).collect());
        if hunks.as_ref().is_some_and(|h| h.is_empty()) {
            return vec![Step::Notice(
                "every hunk is left out: nothing would be written (space keeps one; r rejects)"
                    .into(),
            )];
        }
        if !self.confirm_approve {
            return vec![
                Step::Notice(format!("approving PART {}…", self.part)),
                Step::Effect(Effect::Command(Command::Approve {
                    part: self.part,
                    seen,
                    hunks,
                })),
            ];
        }
        // The diff is what is written: its removed lines are the person's lines that go.
        let removed = d.file.removed;
        let file = if let Some(h) = &hunks {
            format!(
                "knowledge/{} ({} of {total} hunks: {}; the others stay as the file has them)",
                d.target,
                h.len(),
                h.iter()
                    .map(|k| k.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        } else if d.base_hash.is_some() && removed > 0 {
            format!(
                "knowledge/{} (removes {} of the existing file: +{} −{})",
                d.target,
                plural(removed, "line"),
                d.file.added,
                d.file.removed
            )
        } else if d.base_hash.is_some() {
            format!(
                "knowledge/{} (grows the file: +{}, every existing line kept)",
                d.target, d.file.added
            )
        } else {
            format!(
                "knowledge/{} (new, {})",
                d.target,
                plural(d.file.added, "line")
            )
        };
        let writes = vec![
            file,
            format!(
                "knowledge/drops/{} ([TIME] is the time of approval)",
                d.drop_name
            ),
            "the PART's line in the plan, ticked (Completed …)".into(),
            format!("knowledge/INDEX.md: an entry for {}", d.target),
        ];
        vec![Step::Overlay(Overlay::Confirm(Confirm::Approve {
            part: self.part,
            seen,
            writes,
            not_clean: kept_reasons(d, hunks.as_ref()),
            hunks,
        }))]
    }

    /// Search the diff shown for `query`; the first match at or after the view becomes current.
    pub fn search(&mut self, query: String, size: (u16, u16)) {
        self.query = query;
        self.current = 0;
        let (width, height) = diff_inner(size);
        if !self.matches().is_empty() {
            self.jump(width, height);
        }
    }

    /// Indices (into the diff's lines, hunk by hunk) of the lines matching the search.
    fn matches(&self) -> Vec<usize> {
        let Some(d) = self.diff() else {
            return Vec::new();
        };
        if self.query.is_empty() {
            return Vec::new();
        }
        let q = self.query.to_lowercase();
        d.hunks
            .iter()
            .flat_map(|h| &h.lines)
            .enumerate()
            .filter(|(_, l)| l.text().to_lowercase().contains(&q))
            .map(|(i, _)| i)
            .collect()
    }

    fn jump(&mut self, width: usize, height: usize) {
        let (Some(d), Some(&line)) = (self.diff(), self.matches().get(self.current)) else {
            return;
        };
        let row = line_row(d, width, line);
        self.scroll = row.saturating_sub(height / 3);
    }
}

/// The diff's bordered area and the checklist's: side by side from
/// [`REVIEW_SIDE_BY_SIDE`] columns, the checklist under the diff below that.
pub fn areas(size: (u16, u16)) -> (Rect, Rect) {
    let body = layout::screen(size).body;
    if size.0 >= REVIEW_SIDE_BY_SIDE {
        let [l, r] = Layout::horizontal([Constraint::Min(40), Constraint::Length(44)]).areas(body);
        (l, r)
    } else {
        let side = (body.height * 2 / 5).clamp(6.min(body.height), 14);
        let [t, b] = Layout::vertical([Constraint::Min(4), Constraint::Length(side)]).areas(body);
        (t, b)
    }
}

/// The diff's text area (columns, rows).
pub fn diff_inner(size: (u16, u16)) -> (usize, usize) {
    let (d, _) = areas(size);
    (
        d.width.saturating_sub(2) as usize,
        d.height.saturating_sub(2) as usize,
    )
}

fn text_width(width: usize) -> usize {
    width.saturating_sub(GUTTER).max(10)
}

/// Why the draft is not clean, for what approval would write: with hunks left out, the lines of
/// the existing file it removes are counted in the kept hunks only.
fn kept_reasons(d: &Inspection, hunks: Option<&std::collections::BTreeSet<usize>>) -> Vec<String> {
    let mut reasons = d.checklist.reasons();
    let Some(keep) = hunks else {
        return reasons;
    };
    reasons.retain(|r| !r.starts_with("removes or changes"));
    let removed = d
        .file
        .hunks
        .iter()
        .enumerate()
        .filter(|(i, _)| keep.contains(&(i + 1)))
        .flat_map(|(_, h)| &h.lines)
        .filter(|l| l.tag == LineTag::Delete)
        .count();
    if removed > 0 && d.base_hash.is_some() {
        reasons.insert(
            0,
            format!(
                "removes or changes {} of the existing file",
                plural(removed, "line")
            ),
        );
    }
    reasons
}
