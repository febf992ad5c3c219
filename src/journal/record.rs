//! Journal records and the replay that turns them into each PART's current status.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::state::{PartStatus, RunnerState, Usage};

/// One line of the journal.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Record {
    /// A runner changed state.
    State {
        /// When.
        ts: String,
        /// Which PART.
        part: u32,
        /// The new state.
        state: RunnerState,
        /// Why, for failures and rejections.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
    },
    /// A search finished (its result is in the cache under `key`).
    Searched {
        /// When.
        ts: String,
        /// Which PART.
        part: u32,
        /// The query as sent.
        query: String,
        /// Hits found.
        hits: usize,
    },
    /// A page was fetched (its content is in the cache).
    Fetched {
        /// When.
        ts: String,
        /// Which PART.
        part: u32,
        /// The page.
        url: String,
        /// Content bytes.
        bytes: usize,
    },
    /// A draft was saved.
    Drafted {
        /// When.
        ts: String,
        /// Which PART.
        part: u32,
        /// Its lines.
        lines: usize,
        /// Sources gathered.
        sources: usize,
    },
    /// A draft was rejected.
    Rejected {
        /// When.
        ts: String,
        /// Which PART.
        part: u32,
        /// The reviewer's reason.
        #[serde(default)]
        reason: Option<String>,
        /// Whether the PART goes back to the writer.
        requeue: bool,
    },
    /// Tokens a model used for one draft.
    Usage {
        /// When.
        ts: String,
        /// Which PART.
        part: u32,
        /// Prompt tokens.
        prompt_tokens: u64,
        /// Completion tokens.
        completion_tokens: u64,
    },
    /// One step of an approval finished; an interrupted approval resumes after the last one.
    Approval {
        /// When.
        ts: String,
        /// Which PART.
        part: u32,
        /// Which step.
        step: ApprovalStep,
        /// What was written.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        path: Option<String>,
    },
}

impl Record {
    /// The PART a record is about.
    pub fn part(&self) -> u32 {
        match self {
            Record::State { part, .. }
            | Record::Searched { part, .. }
            | Record::Fetched { part, .. }
            | Record::Drafted { part, .. }
            | Record::Rejected { part, .. }
            | Record::Usage { part, .. }
            | Record::Approval { part, .. } => *part,
        }
    }
}

impl Record {
    /// Records of work that cannot be redone from the cache: drafts and the reviewer's decisions.
    pub fn is_decision(&self) -> bool {
        matches!(
            self,
            Record::Drafted { .. } | Record::Rejected { .. } | Record::Approval { .. }
        )
    }
}

/// The steps of an approval, journalled as each finishes.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalStep {
    /// Everything is staged; the drop's name is fixed (its path is recorded).
    Begin,
    /// The knowledge file is in place.
    File,
    /// The drop is in place.
    Drop,
    /// The plan is ticked.
    Plan,
    /// INDEX.md lists the file.
    Index,
    /// The approval is complete.
    Done,
}

/// Fold the records into each PART's status.
pub fn replay(records: &[Record]) -> BTreeMap<u32, PartStatus> {
    let mut out: BTreeMap<u32, PartStatus> = BTreeMap::new();
    for r in records {
        let s = out.entry(r.part()).or_default();
        match r {
            Record::State { state, message, .. } => {
                s.state = Some(*state);
                s.message = message.clone();
            }
            Record::Drafted { lines, sources, .. } => {
                s.draft_lines = Some(*lines);
                s.sources = Some(*sources);
                s.state = Some(RunnerState::Review);
                s.message = None;
                s.rejection = None;
                s.approval_drop = None;
            }
            Record::Rejected {
                reason, requeue, ..
            } => {
                s.rejection = Some((reason.clone(), *requeue));
                s.state = Some(if *requeue {
                    RunnerState::Rejected
                } else {
                    RunnerState::Skipped
                });
                s.message = reason.clone();
            }
            Record::Approval { step, path, .. } => match step {
                ApprovalStep::Begin => s.approval_drop = path.clone(),
                ApprovalStep::Done => {
                    s.state = Some(RunnerState::Approved);
                    s.approval_drop = None;
                }
                _ => {}
            },
            Record::Usage {
                prompt_tokens,
                completion_tokens,
                ..
            } => {
                s.usage.get_or_insert_with(Usage::default).add(Usage {
                    prompt_tokens: *prompt_tokens,
                    completion_tokens: *completion_tokens,
                    estimated: false,
                });
            }
            Record::Searched { .. } | Record::Fetched { .. } => {}
        }
    }
    out
}
