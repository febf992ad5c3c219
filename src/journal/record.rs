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
        /// What the change was, when a front end acts on it (a budget's pause, an undo).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cause: Option<crate::state::Cause>,
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
    /// What a run estimated the PART's model requests would take, when it started.
    Estimated {
        /// When.
        ts: String,
        /// Which PART.
        part: u32,
        /// Tokens at least.
        low: u64,
        /// Tokens at most.
        high: u64,
    },
    /// Tokens one model request used.
    Usage {
        /// When.
        ts: String,
        /// Which PART.
        part: u32,
        /// The section it wrote (0-based), when it wrote one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        section: Option<usize>,
        /// Prompt tokens.
        prompt_tokens: u64,
        /// Completion tokens.
        completion_tokens: u64,
        /// Counted by expanse's tokenizer because the server reported none.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        estimated: bool,
    },
    /// One planned section finished; a resumed run writes only the sections not recorded.
    Section {
        /// When.
        ts: String,
        /// Which PART.
        part: u32,
        /// Which planned section (0-based).
        index: usize,
        /// Its planned title.
        title: String,
        /// Its text under the heading.
        text: String,
        /// The PART-wide source numbers it drew on.
        sources: Vec<usize>,
        /// Which writer wrote it.
        writer: String,
    },
    /// A reviewer asked for one section (or all) to be written again, with a reason.
    Regenerate {
        /// When.
        ts: String,
        /// Which PART.
        part: u32,
        /// The section (0-based); None: every section.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        section: Option<usize>,
        /// Why.
        reason: String,
    },
    /// A reviewer edited the draft's file or drop.
    Edited {
        /// When.
        ts: String,
        /// Which PART.
        part: u32,
        /// Lines of the edited text.
        lines: usize,
        /// The drop was edited (else the knowledge file).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        drop: bool,
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
        /// On `begin`: everything the approval changes, so undo can reverse it exactly.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        undo: Option<Box<ApprovalPlan>>,
    },
    /// A person's note to a running PART (`m`, `expanse steer`); an empty text clears its notes.
    Noted {
        /// When.
        ts: String,
        /// Which PART.
        part: u32,
        /// The note; empty: the notes so far are cleared.
        text: String,
    },
    /// One step of undoing an approval.
    Undo {
        /// When.
        ts: String,
        /// Which PART.
        part: u32,
        /// Which step.
        step: UndoStep,
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
            | Record::Estimated { part, .. }
            | Record::Section { part, .. }
            | Record::Regenerate { part, .. }
            | Record::Edited { part, .. }
            | Record::Approval { part, .. }
            | Record::Noted { part, .. }
            | Record::Undo { part, .. } => *part,
        }
    }
}

impl Record {
    /// Records of work that cannot be redone from the cache: drafts, sections (model spend) and
    /// the reviewer's decisions.
    pub fn is_decision(&self) -> bool {
        matches!(
            self,
            Record::Drafted { .. }
                | Record::Section { .. }
                | Record::Rejected { .. }
                | Record::Regenerate { .. }
                | Record::Edited { .. }
                | Record::Noted { .. }
                | Record::Approval { .. }
                | Record::Undo { .. }
        )
    }

    /// When it was written (RFC 3339).
    pub fn ts(&self) -> &str {
        match self {
            Record::State { ts, .. }
            | Record::Searched { ts, .. }
            | Record::Fetched { ts, .. }
            | Record::Drafted { ts, .. }
            | Record::Rejected { ts, .. }
            | Record::Usage { ts, .. }
            | Record::Estimated { ts, .. }
            | Record::Section { ts, .. }
            | Record::Regenerate { ts, .. }
            | Record::Edited { ts, .. }
            | Record::Approval { ts, .. }
            | Record::Noted { ts, .. }
            | Record::Undo { ts, .. } => ts,
        }
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
    /// Given up before it could finish: the file changed on disk meanwhile and a person was
    /// shown the new diff, so only a new approval may write over it.
    Abandoned,
}

/// The steps of undoing an approval.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum UndoStep {
    /// Every check passed; the files are being put back.
    Begin,
    /// Everything is as it was before the approval.
    Done,
}

/// What an approval changed, recorded before it changes anything, so undo can reverse it
/// exactly and refuse when a file changed since.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ApprovalPlan {
    /// The knowledge file, relative to `knowledge/`.
    pub target: String,
    /// Content hash of the file as the approval writes it.
    pub target_after: String,
    /// Where its previous content is kept (relative to the journal's folder); None: it was new.
    pub target_before: Option<String>,
    /// The drop, relative to `knowledge/`.
    pub drop: String,
    /// Content hash of the drop as written.
    pub drop_after: String,
    /// The PART's checkbox line before the tick (None: the plan was already ticked).
    pub plan_line_before: Option<String>,
    /// The line after the tick.
    pub plan_line_after: Option<String>,
    /// Where INDEX.md's previous content is kept (None: there was none).
    pub index_before: Option<String>,
    /// Content hash of INDEX.md as written.
    pub index_after: String,
    /// The entry line for the target before (None: it had none).
    pub index_entry_before: Option<String>,
    /// The entry line written.
    pub index_entry_after: String,
    /// Folders under `knowledge/` the approval created for the file (undo removes them if empty).
    #[serde(default)]
    pub created_dirs: Vec<String>,
}

/// The last completed approval of PART `part` that has not been undone, for undo.
pub fn last_approval(records: &[Record], part: u32) -> Option<ApprovalPlan> {
    let mut current: Option<ApprovalPlan> = None;
    let mut pending: Option<ApprovalPlan> = None;
    for r in records.iter().filter(|r| r.part() == part) {
        match r {
            Record::Approval {
                step: ApprovalStep::Begin,
                undo,
                ..
            } => pending = undo.as_deref().cloned(),
            Record::Approval {
                step: ApprovalStep::Done,
                ..
            } => current = pending.take(),
            Record::Undo {
                step: UndoStep::Done,
                ..
            }
            | Record::Drafted { .. } => current = None,
            _ => {}
        }
    }
    current
}

/// Fold the records into each PART's status.
pub fn replay(records: &[Record]) -> BTreeMap<u32, PartStatus> {
    let mut out: BTreeMap<u32, PartStatus> = BTreeMap::new();
    for r in records {
        apply(&mut out, r);
    }
    out
}

/// One record's effect on the statuses [`replay`] builds (so a reader can fold in only the
/// records appended since it last looked).
pub fn apply(out: &mut BTreeMap<u32, PartStatus>, r: &Record) {
    let s = out.entry(r.part()).or_default();
    match r {
        Record::State {
            state,
            message,
            cause,
            ..
        } => s.reported(*state, message.clone(), *cause),
        Record::Drafted { lines, sources, .. } => s.drafted(*lines, *sources),
        Record::Regenerate {
            section, reason, ..
        } => s.rewrite_asked(*section, reason),
        Record::Edited { lines, drop, .. } => s.edited_by_reviewer(*lines, *drop),
        Record::Section { .. } => {}
        Record::Noted { text, .. } => s.noted(text),
        Record::Rejected {
            reason, requeue, ..
        } => s.rejected(reason.clone(), *requeue),
        Record::Approval { step, path, .. } => match step {
            ApprovalStep::Begin => s.approval_begun(path.clone()),
            ApprovalStep::Done => s.approved(),
            ApprovalStep::Abandoned => s.approval_abandoned(),
            _ => {}
        },
        Record::Usage {
            prompt_tokens,
            completion_tokens,
            estimated,
            ..
        } => s.used(Usage {
            prompt_tokens: *prompt_tokens,
            completion_tokens: *completion_tokens,
            estimated: *estimated,
        }),
        Record::Undo { step, .. } => match step {
            UndoStep::Begin => s.undo_begun(),
            UndoStep::Done => s.undone(),
        },
        Record::Estimated { low, high, .. } => s.estimated(*low, *high),
        Record::Searched { .. } | Record::Fetched { .. } => {}
    }
}

/// A section a run finished and recorded, for resuming.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FinishedSection {
    /// Its text under the heading.
    pub text: String,
    /// The PART-wide source numbers it drew on.
    pub sources: Vec<usize>,
    /// Which writer wrote it.
    pub writer: String,
    /// When.
    pub ts: String,
}

/// The sections of PART `part` written since its last draft, rejection or regeneration request:
/// what a resumed run keeps (the latest record of each section wins).
pub fn finished_sections(
    records: &[Record],
    part: u32,
) -> std::collections::BTreeMap<usize, FinishedSection> {
    finished_sections_all(records.iter().filter(|r| r.part() == part))
        .remove(&part)
        .unwrap_or_default()
}

/// [`finished_sections`] of every PART in one pass over the records (a run of thousands of
/// PARTs reads its journal once, not once per PART).
pub fn finished_sections_all<'a>(
    records: impl IntoIterator<Item = &'a Record>,
) -> BTreeMap<u32, std::collections::BTreeMap<usize, FinishedSection>> {
    let mut all: BTreeMap<u32, std::collections::BTreeMap<usize, FinishedSection>> =
        BTreeMap::new();
    for r in records {
        let part = r.part();
        match r {
            Record::Drafted { .. } | Record::Rejected { .. } | Record::Regenerate { .. } => {
                all.remove(&part);
            }
            Record::Section {
                ts,
                index,
                text,
                sources,
                writer,
                ..
            } => {
                all.entry(part).or_default().insert(
                    *index,
                    FinishedSection {
                        text: text.clone(),
                        sources: sources.clone(),
                        writer: writer.clone(),
                        ts: ts.clone(),
                    },
                );
            }
            _ => {}
        }
    }
    all
}
