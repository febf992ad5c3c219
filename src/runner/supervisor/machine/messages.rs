//! What the supervisor's machine is told (inputs, a review's answers) and what it asks the loop
//! to do (effects, the runners to start, the decisions to carry out).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use super::super::super::driver::Outcome;
use super::super::super::event::{Command, Event, Refusal};
use crate::journal::FinishedSection;
use crate::plan::{Part, Plan};
use crate::review::{Approved, Seen};
use crate::state::RunnerState;

/// A runner to start once a task is free.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(in crate::runner::supervisor) struct Start {
    /// The PART.
    pub n: u32,
    /// What it is asked for.
    pub asked: Asked,
    /// The sections earlier runs finished (None: read from the journal when it starts).
    pub resume: Option<BTreeMap<usize, FinishedSection>>,
}

/// What a starting runner is asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(in crate::runner::supervisor) enum Asked {
    /// A reviewer's reason to write it again (None: none) and the one section to write (None:
    /// every section).
    Given {
        /// The reason.
        feedback: Option<String>,
        /// The one section.
        only_section: Option<usize>,
    },
    /// What the journal says it was last asked (a PART the budget paused, resumed).
    Journal,
}

impl Asked {
    /// Nothing in particular: a first start or a retry.
    pub const NOTHING: Asked = Asked::Given {
        feedback: None,
        only_section: None,
    };
}

/// A reviewer's decision, carried out off the async threads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(in crate::runner::supervisor) enum Decision {
    /// Approve (`only_if_clean`: only when its checklist is clean, for `--approve-all`).
    Approve {
        /// The PART.
        n: u32,
        /// Only a clean draft.
        only_if_clean: bool,
        /// The target as the reviewer saw it.
        seen: Seen,
        /// Only these hunks (None: all).
        hunks: Option<BTreeSet<usize>>,
    },
    /// Reject: skip, or write again with the reason.
    Reject {
        /// The PART.
        n: u32,
        /// Why.
        reason: Option<String>,
        /// Write it again.
        requeue: bool,
    },
    /// Undo an approval.
    Undo(u32),
    /// Write one section (or all) again.
    Regenerate {
        /// The PART.
        n: u32,
        /// The section (None: all).
        section: Option<usize>,
        /// Why.
        reason: String,
    },
}

impl Decision {
    /// The PART it concerns.
    pub fn part(&self) -> u32 {
        match self {
            Decision::Approve { n, .. }
            | Decision::Reject { n, .. }
            | Decision::Undo(n)
            | Decision::Regenerate { n, .. } => *n,
        }
    }

    /// How a refusal of it begins: when the review said no (`crashed` false) or its task died.
    pub fn refused_words(&self, crashed: bool) -> &'static str {
        match (self, crashed) {
            (Decision::Approve { .. }, false) => "approval refused, nothing was written",
            (Decision::Approve { .. }, true) => "approval failed, nothing was written",
            (Decision::Reject { .. }, _) => "rejection failed",
            (Decision::Undo(_), false) => "undo refused",
            (Decision::Undo(_), true) => "undo failed",
            (Decision::Regenerate { .. }, _) => "cannot regenerate",
        }
    }
}

/// What a review operation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(in crate::runner::supervisor) enum Answer {
    /// The draft was approved and written.
    Approved(Approved),
    /// Not approved: its checklist is not clean, for these reasons.
    NotClean(Vec<String>),
    /// The rejection or regeneration is journalled.
    Done,
    /// The approval is undone; what was put back.
    Undone(String),
    /// Nothing was done: why (the review said no, or its task died), in a reviewer's words.
    Refused(Refusal, String),
}

/// A PART's draft file as a run finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(in crate::runner::supervisor) enum DraftFile {
    /// There is none.
    Absent,
    /// One is on disk.
    Present,
    /// One is on disk and cannot be read: why.
    Unreadable(String),
}

/// What the machine is told.
#[derive(Debug)]
pub(in crate::runner::supervisor) enum Input {
    /// The run begins: every PART is seeded; start what may start.
    Begin,
    /// A runner's report.
    Report(Event),
    /// PART `n`'s runner ended.
    Ended(u32, Outcome),
    /// A person's command (a plan edit comes as [`Input::PlanEdited`], with the journal's view).
    Command(Command),
    /// The plan changed; `recorded` is each PART's state as the journal has it now (another
    /// command may have approved one).
    PlanEdited {
        /// The plan as read now.
        plan: Plan,
        /// The journal's states.
        recorded: BTreeMap<u32, RunnerState>,
    },
    /// A review operation finished: its answer.
    Decided(Decision, Answer),
    /// The ticker: look for stalls and notes given elsewhere.
    Tick,
}

/// What the loop does, in order.
#[derive(Debug, PartialEq)]
pub(in crate::runner::supervisor) enum Effect {
    /// Pass this event on (journalling its state first, when `journal`).
    Emit {
        /// The event.
        event: Event,
        /// Journal the state it carries.
        journal: bool,
    },
    /// Start a runner.
    Spawn(Start),
    /// Tell PART `n`'s runner to hold (true) or to go on (false).
    Hold(u32, bool),
    /// Stop PART `n`'s runner.
    Cancel(u32),
    /// Carry out a reviewer's decision; its answer comes back as [`Input::Decided`].
    Review(Decision),
    /// Journal a person's note to PART `n` and hand it to its runner (an empty text clears).
    Note(u32, String),
    /// Bring these working PARTs' notes up to date with the journal.
    SyncNotes(Vec<u32>),
    /// A PART the plan gained: keep it, to start its runner.
    Adopt(Box<Part>),
}

/// What the machine is set up with.
#[derive(Debug, Clone)]
pub(in crate::runner::supervisor) struct Setup {
    /// Runners working at once.
    pub jobs: usize,
    /// No progress for this long makes a working runner stalled.
    pub stall_after: Duration,
    /// Approve each clean draft as it arrives.
    pub approve_all: bool,
    /// Only these PARTs (None: all).
    pub only: Option<BTreeSet<u32>>,
    /// Run PARTs the plan marks done.
    pub redo: bool,
    /// End once every PART has settled.
    pub exit_when_settled: bool,
}
