//! The one overlay at a time above a screen: help, a confirmation, a text prompt, a search; and
//! the Steps and Effects that screens and overlays answer a key with (here, so the screens depend
//! on the overlay and not the other way round). While an overlay is open every key goes to it,
//! so typed text can never run a command.

use super::keymap::{Key, Keymap, ScreenKind};
use crate::review::Seen;
use crate::runner::Command;
use crate::state::RunnerState;

mod draw;
pub use draw::{help_rows, popup};

/// Which side of a draft an edit opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditWhat {
    /// The knowledge file.
    File,
    /// The KNOWLEDGE DROP.
    Drop,
}

/// What the runtime must do (IO, the supervisor, the terminal).
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Send a command to the supervisor.
    Command(Command),
    /// Compute a draft's diff and checklist.
    LoadReview(u32),
    /// Compute the +/− counts and checklists of every draft awaiting review.
    LoadDrafts,
    /// Open the draft's file or drop in $EDITOR (suspending the TUI).
    Edit {
        /// The PART.
        part: u32,
        /// Which text.
        what: EditWhat,
    },
    /// Suspend to the shell.
    Suspend,
    /// Close the screen and stop the run.
    Quit,
    /// Close the screen and leave the run going.
    Detach,
}

/// What handling an action asks of the app: effects for the runtime, or changes of screen,
/// selection and overlay that only the app may make.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Pass on to the runtime.
    Effect(Effect),
    /// Select card `index`.
    Select(usize),
    /// Open the review of PART `n`.
    OpenReview(u32),
    /// Open the next draft awaiting review after the selected card.
    NextDraft,
    /// Open the drafts list.
    OpenDrafts,
    /// Back to the grid.
    Close,
    /// Show an overlay.
    Overlay(Overlay),
    /// A one-line notice in the key bar.
    Notice(String),
    /// Run a search typed in the search prompt.
    Search {
        /// Where.
        target: SearchTarget,
        /// What.
        query: String,
    },
}

impl From<Effect> for Step {
    fn from(e: Effect) -> Step {
        Step::Effect(e)
    }
}

/// What the search looks in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchTarget {
    /// The selected runner's log.
    Log,
    /// The diff under review.
    Diff,
}

/// A question answered with one key.
#[derive(Debug, Clone, PartialEq)]
pub enum Confirm {
    /// Quit while work is pending.
    Quit {
        /// Runners working or queued.
        active: usize,
        /// Runners paused.
        paused: usize,
        /// Drafts awaiting review.
        drafts: usize,
    },
    /// Run a PART again that is done or approved.
    Redo {
        /// The PART.
        part: u32,
        /// Its state now.
        state: RunnerState,
    },
    /// Undo an approval.
    Undo {
        /// The PART.
        part: u32,
    },
    /// Approve a draft; the lines say what will be written.
    Approve {
        /// The PART.
        part: u32,
        /// The file as the diff showed it.
        seen: Seen,
        /// File, drop, plan line, INDEX entry.
        writes: Vec<String>,
        /// Only these hunks of the file's diff (None: all).
        hunks: Option<std::collections::BTreeSet<usize>>,
        /// Why the draft is not clean (empty: clean), said before the question.
        not_clean: Vec<String>,
    },
}

/// Text being typed, and what it is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prompt {
    /// Why a draft is rejected.
    Reject {
        /// The PART.
        part: u32,
        /// The reason so far.
        text: String,
        /// Write it again with the reason (else skip the PART).
        requeue: bool,
    },
    /// A search.
    Search {
        /// Where.
        target: SearchTarget,
        /// The query so far.
        text: String,
    },
    /// Why one section should be written again.
    Regenerate {
        /// The PART.
        part: u32,
        /// The section (0-based).
        section: usize,
        /// Its title.
        title: String,
        /// The reason so far.
        text: String,
    },
    /// A note to a running PART.
    Note {
        /// The PART.
        part: u32,
        /// The note so far (empty on Enter: clear the notes).
        text: String,
    },
}

/// The overlay shown above the screen.
#[derive(Debug, Clone, PartialEq)]
pub enum Overlay {
    /// The keys of a screen.
    Help {
        /// Whose keys.
        screen: ScreenKind,
        /// First line shown.
        scroll: usize,
    },
    /// A yes/no question.
    Confirm(Confirm),
    /// A text prompt.
    Prompt(Prompt),
    /// The notices shown at the bottom so far, whole, newest last.
    Messages {
        /// The notices.
        lines: Vec<String>,
        /// First row shown, counted from the newest end (0: the newest in view).
        scroll: usize,
    },
    /// Pick a section of a draft to write again.
    Sections {
        /// The PART.
        part: u32,
        /// Each section's title with its checklist mark (`✓`, `!`, `✗`).
        items: Vec<(String, &'static str)>,
        /// The row picked.
        selected: usize,
    },
}

/// What a key did to the overlay.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// It stays open.
    Keep,
    /// It closes, with what to do next.
    Close(Vec<Step>),
}

impl Overlay {
    /// Handle one key. `help_rows` is how many rows the help shows at once (for scrolling).
    pub fn key(&mut self, key: Key, keymap: &Keymap, help_rows: usize) -> Outcome {
        match self {
            Overlay::Messages { lines, scroll } => {
                match key {
                    Key::Up | Key::Char('k') => *scroll = (*scroll + 1).min(lines.len()),
                    Key::Down | Key::Char('j') => *scroll = scroll.saturating_sub(1),
                    Key::PageUp => *scroll = (*scroll + help_rows.max(1)).min(lines.len()),
                    Key::PageDown => *scroll = scroll.saturating_sub(help_rows.max(1)),
                    _ => return Outcome::Close(Vec::new()),
                }
                Outcome::Keep
            }
            Overlay::Help { screen, scroll } => {
                let total = help_lines(keymap, *screen).len();
                let max = total.saturating_sub(help_rows);
                match key {
                    Key::Up | Key::Char('k') => *scroll = scroll.saturating_sub(1),
                    Key::Down | Key::Char('j') => *scroll = (*scroll + 1).min(max),
                    Key::PageUp => *scroll = scroll.saturating_sub(help_rows.max(1)),
                    Key::PageDown | Key::Char(' ') => {
                        *scroll = (*scroll + help_rows.max(1)).min(max)
                    }
                    Key::Home | Key::Char('g') => *scroll = 0,
                    Key::End | Key::Char('G') => *scroll = max,
                    Key::Esc | Key::Char('?') | Key::Char('q') | Key::Enter | Key::Ctrl('c') => {
                        return Outcome::Close(Vec::new());
                    }
                    _ => {}
                }
                Outcome::Keep
            }
            Overlay::Confirm(c) => {
                let yes = matches!(key, Key::Char('y') | Key::Char('Y') | Key::Enter);
                let steps = match (c, yes) {
                    (Confirm::Quit { .. }, _) if yes || key == Key::Char('q') => {
                        vec![Step::Effect(Effect::Quit)]
                    }
                    (Confirm::Quit { .. }, _) if key == Key::Char('d') => {
                        vec![Step::Effect(Effect::Detach)]
                    }
                    (Confirm::Redo { part, .. }, true) => {
                        vec![Step::Effect(Effect::Command(Command::Retry(*part)))]
                    }
                    (Confirm::Undo { part }, true) => vec![
                        Step::Notice(format!("undoing PART {part}'s approval…")),
                        Step::Effect(Effect::Command(Command::Undo(*part))),
                    ],
                    (
                        Confirm::Approve {
                            part, seen, hunks, ..
                        },
                        true,
                    ) => vec![
                        Step::Notice(format!("approving PART {part}…")),
                        Step::Effect(Effect::Command(Command::Approve {
                            part: *part,
                            seen: seen.clone(),
                            hunks: hunks.clone(),
                        })),
                    ],
                    (Confirm::Approve { part, .. }, false) => vec![Step::Notice(format!(
                        "approval of PART {part} cancelled; nothing was written"
                    ))],
                    _ => Vec::new(),
                };
                Outcome::Close(steps)
            }
            Overlay::Sections {
                part,
                items,
                selected,
            } => {
                match key {
                    Key::Up | Key::Char('k') => *selected = selected.saturating_sub(1),
                    Key::Down | Key::Char('j') => {
                        *selected = (*selected + 1).min(items.len().saturating_sub(1))
                    }
                    Key::Char(c) if c.is_ascii_digit() => {
                        let k = c.to_digit(10).unwrap_or(0) as usize;
                        if (1..=items.len()).contains(&k) {
                            *selected = k - 1;
                        }
                    }
                    Key::Enter => {
                        let Some((title, _)) = items.get(*selected) else {
                            return Outcome::Close(Vec::new());
                        };
                        return Outcome::Close(vec![Step::Overlay(Overlay::Prompt(
                            Prompt::Regenerate {
                                part: *part,
                                section: *selected,
                                title: title.clone(),
                                text: String::new(),
                            },
                        ))]);
                    }
                    Key::Esc | Key::Ctrl('c') | Key::Char('q') => {
                        return Outcome::Close(Vec::new());
                    }
                    _ => {}
                }
                Outcome::Keep
            }
            Overlay::Prompt(p) => {
                let text = match p {
                    Prompt::Reject { text, .. }
                    | Prompt::Search { text, .. }
                    | Prompt::Note { text, .. }
                    | Prompt::Regenerate { text, .. } => text,
                };
                match key {
                    Key::Esc | Key::Ctrl('c') => return Outcome::Close(Vec::new()),
                    Key::Char(c) => text.push(c),
                    Key::Backspace => {
                        text.pop();
                    }
                    Key::Ctrl('u') => text.clear(),
                    Key::Tab => {
                        if let Prompt::Reject { requeue, .. } = p {
                            *requeue = !*requeue;
                        }
                    }
                    Key::Enter => return Outcome::Close(submit(p)),
                    _ => {}
                }
                Outcome::Keep
            }
        }
    }
}

/// What Enter in a prompt does.
fn submit(p: &Prompt) -> Vec<Step> {
    match p {
        Prompt::Reject {
            part,
            text,
            requeue,
        } => {
            let reason = text.trim().to_string();
            if reason.is_empty() && *requeue {
                return vec![Step::Notice(
                    "say why it should be written again (the writer is given it), or Tab to skip the PART instead; nothing was changed".into(),
                )];
            }
            vec![
                Step::Notice(format!("rejecting PART {part}…")),
                Step::Effect(Effect::Command(Command::Reject {
                    part: *part,
                    reason: (!reason.is_empty()).then_some(reason),
                    requeue: *requeue,
                })),
            ]
        }
        Prompt::Search { target, text } => vec![Step::Search {
            target: *target,
            query: text.clone(),
        }],
        Prompt::Note { part, text } => vec![Step::Effect(Effect::Command(Command::Note {
            part: *part,
            text: text.trim().to_string(),
        }))],
        Prompt::Regenerate {
            part,
            section,
            text,
            ..
        } => {
            let reason = text.trim().to_string();
            if reason.is_empty() {
                return vec![Step::Notice(
                    "say why the section should be written again; nothing was changed".into(),
                )];
            }
            vec![
                Step::Notice(format!(
                    "writing section {} of PART {part} again…",
                    section + 1
                )),
                Step::Effect(Effect::Command(Command::Regenerate {
                    part: *part,
                    section: Some(*section),
                    reason,
                })),
            ]
        }
    }
}

/// The help's lines for a screen: keys, then what they do.
pub fn help_lines(keymap: &Keymap, screen: ScreenKind) -> Vec<(String, String)> {
    keymap
        .actions(screen)
        .iter()
        .map(|a| {
            (
                keymap.keys_for(screen, *a).join(" "),
                a.description().to_string(),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_text_stays_text_and_enter_submits() {
        let km = Keymap::default();
        let mut o = Overlay::Prompt(Prompt::Reject {
            part: 4,
            text: String::new(),
            requeue: true,
        });
        for c in "approve? no".chars() {
            assert_eq!(o.key(Key::Char(c), &km, 10), Outcome::Keep);
        }
        o.key(Key::Tab, &km, 10);
        let Outcome::Close(steps) = o.key(Key::Enter, &km, 10) else {
            panic!("Enter submits");
        };
        assert!(
            steps.contains(&Step::Effect(Effect::Command(Command::Reject {
                part: 4,
                reason: Some("approve? no".into()),
                requeue: false
            })))
        );
    }

    #[test]
    fn approval_needs_its_confirming_key() {
        let km = Keymap::default();
        let confirm = Overlay::Confirm(Confirm::Approve {
            part: 2,
            seen: Seen::Absent,
            writes: vec![],
            hunks: None,
            not_clean: vec![],
        });
        let mut o = confirm.clone();
        let Outcome::Close(steps) = o.key(Key::Char('a'), &km, 10) else {
            panic!()
        };
        assert!(
            !steps
                .iter()
                .any(|s| matches!(s, Step::Effect(Effect::Command(_)))),
            "a second `a` is not a yes"
        );
        let mut o = confirm;
        let Outcome::Close(steps) = o.key(Key::Char('y'), &km, 10) else {
            panic!()
        };
        assert!(
            steps.contains(&Step::Effect(Effect::Command(Command::Approve {
                part: 2,
                seen: Seen::Absent,
                hunks: None,
            })))
        );
    }

    #[test]
    fn help_scrolls_to_its_last_line() {
        let km = Keymap::default();
        let mut o = Overlay::Help {
            screen: ScreenKind::Grid,
            scroll: 0,
        };
        for _ in 0..100 {
            o.key(Key::Down, &km, 10);
        }
        let total = help_lines(&km, ScreenKind::Grid).len();
        assert_eq!(
            o,
            Overlay::Help {
                screen: ScreenKind::Grid,
                scroll: total - 10
            }
        );
    }
}
