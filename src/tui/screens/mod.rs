//! The screens: each owns its state, turns an Action into Steps with `handle`, and draws itself
//! read-only with `draw`. The app routes keys to the screen in front and applies the Steps.

pub mod drafts;
pub mod grid;
pub mod log;
pub mod review;

use super::cards::Cards;
use super::overlay::Overlay;
use crate::runner::Command;

/// What a screen sees of the app while handling an action.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    /// Every card.
    pub cards: &'a Cards,
    /// Index of the selected card.
    pub selected: usize,
    /// The terminal's size.
    pub size: (u16, u16),
}

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
    /// Leave.
    Quit,
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
        target: super::overlay::SearchTarget,
        /// What.
        query: String,
    },
}

impl From<Effect> for Step {
    fn from(e: Effect) -> Step {
        Step::Effect(e)
    }
}
