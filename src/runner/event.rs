//! Events (core -> front ends) and Commands (front ends -> core): the only vocabulary between them.

use serde::{Deserialize, Serialize};

use crate::review::Seen;
pub use crate::state::Cause;
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

/// One event: when, which PART, its words, and what it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "Flat", try_from = "Flat")]
pub struct Event {
    /// Local time, RFC 3339.
    pub ts: String,
    /// The PART it concerns (None: the whole run).
    pub part: Option<u32>,
    /// Human-readable text.
    pub message: String,
    /// What it is, with what only that kind carries.
    pub what: What,
}

/// What an event is; each kind carries its own facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum What {
    /// A PART's runner changed state; `cause` says what the change was when a front end acts
    /// on it ([`Cause::Undone`], [`Cause::Budget`]).
    State {
        /// The state it is in now.
        state: RunnerState,
        /// What the change was.
        cause: Option<Cause>,
    },
    /// A log line: a search, a fetch, a section written, a warning.
    Log {
        /// How loud.
        level: Level,
        /// What it counted.
        counts: Counts,
    },
    /// Sampled progress of work under way (`writing section 2/5: 34 lines so far`): for cards,
    /// logs and JSON, not a line each in the headless output.
    Progress {
        /// What it counted.
        counts: Counts,
    },
    /// A draft awaits review (the PART is in review).
    Draft {
        /// Its lines.
        lines: usize,
        /// The sources it cites.
        sources: usize,
    },
    /// A file was written (an approval).
    Written {
        /// Where, relative to the workspace.
        path: String,
    },
    /// Something failed; a refused review decision says why (nothing was written).
    Error {
        /// The refusal's kind, for a refused decision.
        refusal: Option<Refusal>,
    },
    /// Every PART of the run has settled after work (a run-wide word): nothing more happens
    /// without a person.
    Settled,
}

/// What a log line or progress counted, each when it applies.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Step progress of search and fetch logs and of sections: `[done, total]`.
    pub step: Option<[usize; 2]>,
    /// Pages fetched so far (fetch logs).
    pub sources: Option<usize>,
    /// Hits a search found (search logs).
    pub hits: Option<usize>,
    /// The PART's model usage so far (section logs after model requests).
    pub usage: Option<Usage>,
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
    fn new(part: Option<u32>, message: impl Into<String>, what: What) -> Self {
        Event {
            ts: now(),
            part,
            message: message.into(),
            what,
        }
    }

    /// PART `part` is paused by the budget, with why.
    pub fn budget_paused(part: u32, why: impl Into<String>) -> Self {
        let what = What::State {
            state: RunnerState::Paused,
            cause: Some(Cause::Budget),
        };
        Self::new(Some(part), why, what)
    }

    /// PART `part`'s approval was undone; its draft awaits review again.
    pub fn undone(part: u32) -> Self {
        let what = What::State {
            state: RunnerState::Review,
            cause: Some(Cause::Undone),
        };
        Self::new(Some(part), crate::state::APPROVAL_UNDONE, what)
    }

    /// A state change.
    pub fn state(part: u32, state: RunnerState, message: impl Into<String>) -> Self {
        let what = What::State { state, cause: None };
        Self::new(Some(part), message, what)
    }

    /// A log line.
    pub fn log(part: Option<u32>, level: Level, message: impl Into<String>) -> Self {
        Self::counted(part, level, message, Counts::default())
    }

    /// A log line with what it counted.
    pub fn counted(
        part: Option<u32>,
        level: Level,
        message: impl Into<String>,
        counts: Counts,
    ) -> Self {
        Self::new(part, message, What::Log { level, counts })
    }

    /// Sampled progress of PART `part`'s work.
    pub fn progress(part: u32, message: impl Into<String>, counts: Counts) -> Self {
        Self::new(Some(part), message, What::Progress { counts })
    }

    /// An error.
    pub fn error(part: Option<u32>, message: impl Into<String>) -> Self {
        Self::new(part, message, What::Error { refusal: None })
    }

    /// A refused review decision; nothing was written.
    pub fn refused(part: u32, refusal: Refusal, message: impl Into<String>) -> Self {
        let what = What::Error {
            refusal: Some(refusal),
        };
        Self::new(Some(part), message, what)
    }

    /// A draft awaiting review.
    pub fn draft(part: u32, lines: usize, sources: usize, message: impl Into<String>) -> Self {
        Self::new(Some(part), message, What::Draft { lines, sources })
    }

    /// A file written.
    pub fn written(part: u32, path: impl Into<String>, message: impl Into<String>) -> Self {
        let what = What::Written { path: path.into() };
        Self::new(Some(part), message, what)
    }

    /// Every PART of the run has settled: `message` says how they stand.
    pub fn settled(message: impl Into<String>) -> Self {
        Self::new(None, message, What::Settled)
    }

    /// Its kind, as JSON names it.
    pub fn kind(&self) -> EventKind {
        match self.what {
            What::State { .. } => EventKind::State,
            What::Log { .. } | What::Settled => EventKind::Log,
            What::Progress { .. } => EventKind::Progress,
            What::Draft { .. } => EventKind::Draft,
            What::Written { .. } => EventKind::Written,
            What::Error { .. } => EventKind::Error,
        }
    }

    /// The state its PART is in after it (state and draft events).
    pub fn state_now(&self) -> Option<RunnerState> {
        match self.what {
            What::State { state, .. } => Some(state),
            What::Draft { .. } => Some(RunnerState::Review),
            _ => None,
        }
    }

    /// What a state change was, when a front end acts on it.
    pub fn cause(&self) -> Option<Cause> {
        match self.what {
            What::State { cause, .. } => cause,
            _ => None,
        }
    }

    /// How loud it is (log lines, progress and errors).
    pub fn level(&self) -> Option<Level> {
        match self.what {
            What::Log { level, .. } => Some(level),
            What::Settled | What::Progress { .. } => Some(Level::Info),
            What::Error { .. } => Some(Level::Error),
            _ => None,
        }
    }

    /// What it counted (a draft counts its sources).
    pub fn counts(&self) -> Counts {
        match self.what {
            What::Log { counts, .. } | What::Progress { counts } => counts,
            What::Draft { sources, .. } => Counts {
                sources: Some(sources),
                ..Counts::default()
            },
            _ => Counts::default(),
        }
    }
}

/// An event as one flat JSON record — `{"ts","part","kind","state","message",...}` — the shape
/// of `--headless --json` and of a live run's socket; in process an event is typed.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Flat {
    ts: String,
    part: Option<u32>,
    kind: EventKind,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    state: Option<RunnerState>,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    level: Option<Level>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    lines: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    sources: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    hits: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    step: Option<[usize; 2]>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    usage: Option<Usage>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    refusal: Option<Refusal>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    cause: Option<FlatCause>,
}

/// A flat record's `cause`: a state change's, or `settled`, the word of a run-wide log line that
/// every PART has settled ([`What::Settled`] in process).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum FlatCause {
    Undone,
    Budget,
    Settled,
}

impl From<Cause> for FlatCause {
    fn from(c: Cause) -> FlatCause {
        match c {
            Cause::Undone => FlatCause::Undone,
            Cause::Budget => FlatCause::Budget,
        }
    }
}

impl From<Event> for Flat {
    fn from(e: Event) -> Flat {
        let kind = e.kind();
        let (state, level, counts) = (e.state_now(), e.level(), e.counts());
        let cause = match e.what {
            What::Settled => Some(FlatCause::Settled),
            _ => e.cause().map(FlatCause::from),
        };
        let (mut lines, mut path, mut refusal) = (None, None, None);
        match e.what {
            What::Draft { lines: l, .. } => lines = Some(l),
            What::Written { path: p } => path = Some(p),
            What::Error { refusal: r } => refusal = r,
            _ => {}
        }
        Flat {
            ts: e.ts,
            part: e.part,
            kind,
            state,
            message: e.message,
            level,
            lines,
            sources: counts.sources,
            hits: counts.hits,
            path,
            step: counts.step,
            usage: counts.usage,
            refusal,
            cause,
        }
    }
}

/// Why a flat record is not an event.
#[derive(Debug, thiserror::Error)]
pub enum FlatError {
    /// A kind that needs a field came without it.
    #[error("a {kind} event without its {field}")]
    Missing {
        /// The kind.
        kind: &'static str,
        /// The field.
        field: &'static str,
    },
}

impl TryFrom<Flat> for Event {
    type Error = FlatError;

    fn try_from(f: Flat) -> Result<Event, FlatError> {
        let missing = |kind, field| FlatError::Missing { kind, field };
        let counts = Counts {
            step: f.step,
            sources: f.sources,
            hits: f.hits,
            usage: f.usage,
        };
        let what = match f.kind {
            EventKind::State => What::State {
                state: f.state.ok_or(missing("state", "state"))?,
                cause: match f.cause {
                    Some(FlatCause::Undone) => Some(Cause::Undone),
                    Some(FlatCause::Budget) => Some(Cause::Budget),
                    Some(FlatCause::Settled) | None => None,
                },
            },
            EventKind::Log if f.cause == Some(FlatCause::Settled) => What::Settled,
            EventKind::Log => What::Log {
                level: f.level.unwrap_or(Level::Info),
                counts,
            },
            EventKind::Progress => What::Progress { counts },
            EventKind::Draft => What::Draft {
                lines: f.lines.ok_or(missing("draft", "lines"))?,
                sources: f.sources.unwrap_or(0),
            },
            EventKind::Written => What::Written {
                path: f.path.ok_or(missing("written", "path"))?,
            },
            EventKind::Error => What::Error { refusal: f.refusal },
        };
        Ok(Event {
            ts: f.ts,
            part: f.part,
            message: f.message,
            what,
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    fn json(e: &Event) -> serde_json::Value {
        let mut v = serde_json::to_value(e).expect("an event serializes");
        v.as_object_mut().expect("an object").remove("ts");
        v
    }

    #[test]
    fn every_kind_goes_out_flat_and_comes_back_the_same() {
        let counts = Counts {
            step: Some([2, 5]),
            sources: Some(3),
            hits: Some(7),
            usage: Some(Usage {
                prompt_tokens: 10,
                completion_tokens: 4,
                estimated: true,
            }),
        };
        let all = [
            Event::state(1, RunnerState::Writing, "resumed"),
            Event::budget_paused(1, "budget reached"),
            Event::undone(2),
            Event::counted(Some(1), Level::Warn, "search failed", counts),
            Event::progress(1, "writing section 2/5: 34 lines so far", counts),
            Event::draft(3, 412, 6, "draft ready"),
            Event::written(3, "topic/03-x.md", "wrote topic/03-x.md"),
            Event::refused(3, Refusal::Conflict, "approval refused"),
            Event::error(None, "the journal is full"),
            Event::settled("every PART has settled: 2 review"),
        ];
        for e in all {
            let line = serde_json::to_string(&e).expect("serializes");
            let back: Event = serde_json::from_str(&line).expect("parses");
            assert_eq!(back, e, "{line}");
        }
    }

    #[test]
    fn the_flat_shape_is_the_one_scripts_read() {
        assert_eq!(
            json(&Event::draft(3, 412, 6, "draft ready")),
            serde_json::json!({"part": 3, "kind": "draft", "state": "review",
                "message": "draft ready", "lines": 412, "sources": 6})
        );
        assert_eq!(
            json(&Event::settled("every PART has settled: 1 approved")),
            serde_json::json!({"part": null, "kind": "log", "level": "info",
                "message": "every PART has settled: 1 approved", "cause": "settled"})
        );
        assert_eq!(
            json(&Event::progress(
                1,
                "writing: 3 lines so far",
                Counts::default()
            )),
            serde_json::json!({"part": 1, "kind": "progress", "level": "info",
                "message": "writing: 3 lines so far"})
        );
        assert_eq!(
            json(&Event::budget_paused(2, "cap")),
            serde_json::json!({"part": 2, "kind": "state", "state": "paused",
                "message": "cap", "cause": "budget"})
        );
    }

    #[test]
    fn a_record_missing_what_its_kind_needs_is_refused_with_why() {
        let e = serde_json::from_str::<Event>(
            r#"{"ts":"2026-12-04T18:00:00.000+00:00","part":1,"kind":"state","message":""}"#,
        )
        .expect_err("a state event needs its state");
        assert!(
            e.to_string().contains("a state event without its state"),
            "{e}"
        );
    }
}
