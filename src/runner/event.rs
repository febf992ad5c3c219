//! Events (core -> front ends) and Commands (front ends -> core): the only vocabulary between them.

use serde::{Deserialize, Serialize};

use crate::review::Seen;
use crate::state::{RunnerState, Usage, now};

/// What kind of event this is.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A runner changed state.
    State,
    /// A log line: a search, a fetch, a warning.
    Log,
    /// Sampled progress of work under way (`writing section 2/5: 34 lines so far`): for cards,
    /// logs and JSON, not a line each in the headless output.
    Progress,
    /// A draft is ready for review.
    Draft,
    /// A file was written (approval).
    Written,
    /// Something failed.
    Error,
}

/// How loud a log line is.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Progress.
    Info,
    /// Something was skipped or degraded.
    Warn,
    /// Something failed.
    Error,
}

/// One event, as a flat record: `{"ts","part","kind","state","message",...}`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Event {
    /// Local time, RFC 3339.
    pub ts: String,
    /// The PART it concerns, if any.
    pub part: Option<u32>,
    /// What kind of event.
    pub kind: EventKind,
    /// The runner's state (state events; draft events carry `review`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub state: Option<RunnerState>,
    /// Human-readable text.
    pub message: String,
    /// Log level (log and error events).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub level: Option<Level>,
    /// Lines of the draft (draft events).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub lines: Option<usize>,
    /// Sources gathered: pages fetched so far (fetch logs), or cited (draft events).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub sources: Option<usize>,
    /// Hits a search found (search logs).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub hits: Option<usize>,
    /// A path written (written events).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub path: Option<String>,
    /// Step progress of search and fetch logs: `[done, total]`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub step: Option<[usize; 2]>,
    /// The PART's model usage so far (usage events and state events after model requests).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub usage: Option<Usage>,
    /// Why a review decision was refused (error events answering approve, reject or undo).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub refusal: Option<Refusal>,
    /// What a state change was, when a front end acts on it rather than only showing it.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub cause: Option<Cause>,
}

/// What a state change was, in a form a front end can branch on (its words are the message).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// An approval was undone: the PART is back in review.
    Undone,
    /// The budget paused the PART: its next request would pass a cap.
    Budget,
    /// Every PART of the run has settled after work (a run-wide event): nothing more happens
    /// without a person.
    Settled,
}

/// Why the supervisor refused a reviewer's decision; the review screen acts on the kind.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Refusal {
    /// The file changed on disk since the diff the reviewer saw: show the new diff.
    Conflict,
    /// Anything else (a read-only folder, a missing draft); nothing was written.
    Failed,
}

impl Event {
    fn base(part: Option<u32>, kind: EventKind, message: String) -> Self {
        Event {
            ts: now(),
            part,
            kind,
            state: None,
            message,
            level: None,
            lines: None,
            sources: None,
            hits: None,
            path: None,
            step: None,
            usage: None,
            refusal: None,
            cause: None,
        }
    }

    /// PART `part` is paused by the budget, with why.
    pub fn budget_paused(part: u32, why: impl Into<String>) -> Self {
        Event {
            cause: Some(Cause::Budget),
            ..Self::state(part, RunnerState::Paused, why)
        }
    }

    /// PART `part`'s approval was undone; its draft awaits review again.
    pub fn undone(part: u32) -> Self {
        Event {
            cause: Some(Cause::Undone),
            ..Self::state(part, RunnerState::Review, crate::state::APPROVAL_UNDONE)
        }
    }

    /// A state change.
    pub fn state(part: u32, state: RunnerState, message: impl Into<String>) -> Self {
        Event {
            state: Some(state),
            ..Self::base(Some(part), EventKind::State, message.into())
        }
    }

    /// A log line.
    pub fn log(part: Option<u32>, level: Level, message: impl Into<String>) -> Self {
        Event {
            level: Some(level),
            ..Self::base(part, EventKind::Log, message.into())
        }
    }

    /// An error.
    pub fn error(part: Option<u32>, message: impl Into<String>) -> Self {
        Event {
            level: Some(Level::Error),
            ..Self::base(part, EventKind::Error, message.into())
        }
    }

    /// A refused review decision; nothing was written.
    pub fn refused(part: u32, refusal: Refusal, message: impl Into<String>) -> Self {
        Event {
            refusal: Some(refusal),
            ..Self::error(Some(part), message)
        }
    }

    /// A draft awaiting review.
    pub fn draft(part: u32, lines: usize, sources: usize, message: impl Into<String>) -> Self {
        Event {
            state: Some(RunnerState::Review),
            lines: Some(lines),
            sources: Some(sources),
            ..Self::base(Some(part), EventKind::Draft, message.into())
        }
    }

    /// A file written.
    pub fn written(part: u32, path: impl Into<String>, message: impl Into<String>) -> Self {
        Event {
            path: Some(path.into()),
            ..Self::base(Some(part), EventKind::Written, message.into())
        }
    }
}

/// Which runners a command applies to.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// One PART.
    Part(u32),
    /// Every PART.
    All,
}

impl Target {
    /// Whether this target includes PART `n`.
    pub fn includes(self, n: u32) -> bool {
        match self {
            Target::Part(p) => p == n,
            Target::All => true,
        }
    }
}

/// What a front end asks the supervisor to do (as JSON on a live run's socket: `{"pause":
/// {"part": 3}}`, `"shutdown"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Command {
    /// Pause at the next await point.
    Pause(Target),
    /// Resume where it stopped.
    Resume(Target),
    /// Run a failed PART again from its failed step, or redo a done/skipped one.
    Retry(u32),
    /// Stop now.
    Cancel(Target),
    /// Approve a draft: write the file and its drop, tick the plan, update INDEX.md.
    Approve {
        /// The PART.
        part: u32,
        /// The target as the reviewer saw it; the approval is refused if it differs now.
        seen: Seen,
        /// Only these hunks of the file's diff (1-based; None: all of it).
        hunks: Option<std::collections::BTreeSet<usize>>,
    },
    /// Reject a draft: skip the PART, or (requeue) write it again with the reason.
    Reject {
        /// The PART.
        part: u32,
        /// Why.
        reason: Option<String>,
        /// Write it again with the reason.
        requeue: bool,
    },
    /// Write one section of a draft (or every section) again, with the reviewer's reason.
    Regenerate {
        /// The PART.
        part: u32,
        /// The section (0-based); None: every section.
        section: Option<usize>,
        /// Why.
        reason: String,
    },
    /// Undo an approval: the files go back as they were, the PART returns to review.
    Undo(u32),
    /// A note to a PART's runner: every section not yet written receives it (an empty text
    /// clears the notes).
    Note {
        /// The PART.
        part: u32,
        /// The note.
        text: String,
    },
    /// The plan file changed: run PARTs that appeared, mark PARTs ticked by hand as done. (Not
    /// sent over a socket: the run reads the plan itself.)
    #[serde(skip)]
    UpdatePlan(Box<crate::plan::Plan>),
    /// Stop everything and end the run.
    Shutdown,
    /// Nobody watches any more (the terminal went away): end the run once every PART has
    /// settled, instead of waiting for a person.
    EndWhenSettled,
    /// Someone watches again (a client attached): when every PART has settled, wait for the
    /// person instead of ending.
    StayWhenSettled,
}
