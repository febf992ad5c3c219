//! The human's gate: diff and checklist of each draft, approve (write file + drop, tick the plan,
//! update INDEX.md) or reject. Nothing reaches the knowledge base or the plan except through here.

mod approve;
mod checklist;
mod diff;
pub mod grounding;
pub mod opinion;
pub mod verify;

pub use crate::knowledge::index::{EMPTY_INDEX, entry as index_entry, upsert_entry};
pub use approve::{Approved, AutoApproval, Undone, drop_file_name};
pub use checklist::{
    Checklist, ExistingLine, MIN_LENGTH, MIN_SUPPORTED, Mark, SectionCheck, checklist,
};
pub use diff::{
    DiffLine, FileDiff, Hunk, LineChanges, LineTag, Segment, apply_hunks, diff, line_changes,
};
pub use grounding::{Claim, Evidence, Verdict};

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::draft::Draft;
use crate::journal::{Cache, Journal, JournalError, PartStatus, Record};
use crate::knowledge::{PathError, resolve_target};
use crate::plan::{self, EditError, LoadError, Plan};
use crate::state::{RunnerState, initial_state, now};
use crate::workspace::Workspace;

/// Why a review action could not be done. Every variant leaves draft, plan and base unchanged.
#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    /// There is no draft for that PART.
    #[error("PART {0} has no draft awaiting review")]
    NoDraft(u32),
    /// The PART is not awaiting review.
    #[error("PART {part} is {state}, not awaiting review")]
    NotInReview {
        /// Which PART.
        part: u32,
        /// Its state.
        state: RunnerState,
    },
    /// A regeneration needs a reason for the writer.
    #[error("say why it should be written again (--reason TEXT): the writer is given it")]
    NoReason,
    /// There is no such section.
    #[error("PART {part} has no section {section} (it plans {count})")]
    NoSection {
        /// Which PART.
        part: u32,
        /// The section asked for (1-based).
        section: usize,
        /// How many it plans.
        count: usize,
    },
    /// The target or drop path is unsafe.
    #[error(transparent)]
    Path(#[from] PathError),
    /// The file on disk changed since the diff the reviewer saw.
    #[error(
        "{target} changed on disk since the draft's diff was computed; nothing was written. Review the new diff and approve again."
    )]
    Conflict {
        /// The target.
        target: String,
        /// The diff of the draft against the file as it is now.
        diff: Box<FileDiff>,
    },
    /// A file could not be read or written.
    #[error("cannot {action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// Where.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The plan could not be loaded.
    #[error(transparent)]
    Plan(#[from] LoadError),
    /// The plan's PART no longer names the file its draft was written for (PARTs renumbered
    /// or retargeted since the run), or the plan now has the number twice.
    #[error(
        "PART {part} in the plan now {now}, but its draft was written for {draft}; nothing was written (put the plan back, or run the PART again)"
    )]
    PlanChanged {
        /// The PART.
        part: u32,
        /// What the plan says now.
        now: String,
        /// The draft's target.
        draft: String,
    },
    /// An edit the draft could not take (approved or rejected meanwhile); the text is kept.
    #[error("{reason}; your edited text is kept in {}", kept.display())]
    EditKept {
        /// Why the draft did not take it.
        reason: Box<ReviewError>,
        /// Where the text is.
        kept: PathBuf,
    },
    /// The plan could not be ticked.
    #[error("cannot tick the plan: {0}")]
    Tick(#[from] EditError),
    /// The journal failed.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// The workspace lock could not be taken.
    #[error(transparent)]
    Lock(#[from] crate::knowledge::lock::LockError),
    /// INDEX.md or the drops folder is a symlink.
    #[error(
        "{0} is a symbolic link; expanse writes only real files inside knowledge/, so nothing was written"
    )]
    Symlink(PathBuf),
    /// The journal names a drop outside `drops/`.
    #[error(
        "the journal names the drop \"{0}\", which is not a file in knowledge/drops/; nothing was written"
    )]
    ForgedDrop(String),
    /// There is no knowledge base folder.
    #[error(
        "{0} does not exist: this folder is not an expanse workspace (create one with `expanse init`, or pass --root)"
    )]
    NoKnowledge(PathBuf),
    /// A per-hunk approval that keeps no hunk.
    #[error("no hunk of PART {0} was kept, so there is nothing to approve (reject it instead)")]
    NoHunks(u32),
    /// A hunk number the diff does not have.
    #[error(
        "PART {part}'s diff has no hunk {hunk} (it has {count}; `review --diff {part}` numbers them)"
    )]
    NoHunk {
        /// Which PART.
        part: u32,
        /// The hunk asked for.
        hunk: usize,
        /// How many the diff has.
        count: usize,
    },
    /// There is no approval to undo.
    #[error("PART {0} has no approval to undo")]
    NothingToUndo(u32),
    /// A file an approval wrote changed since.
    #[error(
        "{0} changed since the approval; nothing was undone (put it back as it was, or undo by hand)"
    )]
    ChangedSince(PathBuf),
}

fn io_err<'a>(
    action: &'static str,
    path: &'a Path,
) -> impl FnOnce(std::io::Error) -> ReviewError + 'a {
    move |source| ReviewError::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

/// The claims of a draft the run is answerable for: every claim of a new file, and only those on
/// the draft's own lines of a file it grows (a person's sentences are theirs to cite).
pub fn draft_claims(
    text: &str,
    original: Option<&str>,
    must_cite: bool,
) -> Vec<grounding::RawClaim> {
    let all = grounding::claims(text, must_cite);
    match original {
        None => all,
        Some(o) => {
            let new = line_changes(o, text).inserted;
            all.into_iter().filter(|c| new.contains(&c.line)).collect()
        }
    }
}

/// Whether a PART's plan asks for every section to cite.
pub fn must_cite(part: &plan::Part) -> bool {
    part.requirements
        .iter()
        .any(|r| r.to_lowercase().contains("cite"))
}

/// A drop's text with its Knowledge file line saying `lines` lines.
fn with_file_lines(drop_text: &str, target: &str, lines: usize) -> String {
    drop_text
        .lines()
        .map(|l| {
            if l.starts_with("- **Knowledge file**:") {
                format!("- **Knowledge file**: `{target}` ({lines} lines)")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// SHA-256 of a file's content, for detecting changes between diff and approval.
pub fn content_hash(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// The knowledge file as the reviewer's diff showed it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Seen {
    /// Not known (the CLI without a diff): the draft's own record of the file is used.
    Unknown,
    /// Nobody is looking (an interrupted approval finished on the next start): the draft's own
    /// record of the file is used, and a file changed since is left for a person to see.
    Unattended,
    /// There was no file.
    Absent,
    /// The file had this content hash.
    Hash(String),
}

impl Seen {
    /// From the content hash of the file the diff was drawn from (None: no file).
    pub fn from_hash(hash: Option<String>) -> Seen {
        hash.map_or(Seen::Absent, Seen::Hash)
    }
}

/// A draft awaiting review with what the reviewer sees first.
#[derive(Debug, Clone)]
pub struct Pending {
    /// The draft.
    pub draft: Draft,
    /// Its checklist.
    pub checklist: Checklist,
    /// Its diff against the file on disk.
    pub diff: FileDiff,
}

/// A draft as the review screen shows it.
#[derive(Debug, Clone)]
pub struct Inspection {
    /// The knowledge file's diff against the file on disk.
    pub file: FileDiff,
    /// The drop's diff.
    pub drop: FileDiff,
    /// The checklist.
    pub checklist: Checklist,
    /// Every claim of the file with its verdict, in file order.
    pub claims: Vec<Claim>,
    /// The target path, relative to `knowledge/`.
    pub target: String,
    /// The drop's file name as planned (`[TIME]` is filled in when it is written).
    pub drop_name: String,
    /// Content hash of the file on disk these diffs were computed against (None: no file).
    pub base_hash: Option<String>,
}

/// Review actions on one plan.
pub struct Review {
    ws: Workspace,
    plan_path: PathBuf,
    journal: Arc<Journal>,
    second_opinion: Option<Arc<dyn opinion::ModelJudge>>,
}

impl Review {
    /// Review the drafts of the plan at `plan_path`.
    pub fn new(ws: Workspace, plan_path: PathBuf, journal: Arc<Journal>) -> Review {
        Review {
            ws,
            plan_path,
            journal,
            second_opinion: None,
        }
    }

    /// Ask `opinion` about the claims the lexical check finds weak or unsupported.
    pub fn with_second_opinion(mut self, opinion: Arc<dyn opinion::ModelJudge>) -> Review {
        self.second_opinion = Some(opinion);
        self
    }

    fn statuses(&self) -> Result<std::collections::BTreeMap<u32, PartStatus>, ReviewError> {
        Ok(self.journal.statuses()?)
    }

    fn plan(&self) -> Result<(Plan, String), ReviewError> {
        Ok(plan::load(&self.plan_path)?)
    }

    /// The draft of `part`, if it is awaiting review.
    pub fn draft(&self, part: u32) -> Result<Draft, ReviewError> {
        self.draft_with(part, self.journal.status(part)?)
    }

    /// [`Review::draft`] with the PART's status already read.
    fn draft_with(&self, part: u32, status: Option<PartStatus>) -> Result<Draft, ReviewError> {
        let draft = self
            .journal
            .load_draft(part)?
            .ok_or(ReviewError::NoDraft(part))?;
        // The same rule a run starts by: a draft nothing asked to replace awaits review, even
        // when the journal lost its records.
        match initial_state(false, status.as_ref(), true, false) {
            RunnerState::Review => Ok(draft),
            // A regeneration that was cut (killed, or its run ended) leaves the draft it was to
            // replace awaiting review, as long as no run is writing it now.
            RunnerState::Queued
                if status.as_ref().is_some_and(|s| s.regenerate.is_some())
                    && !crate::knowledge::lock::run_is_live(
                        &self.journal.dir().join("run.lock"),
                    ) =>
            {
                Ok(draft)
            }
            other => Err(ReviewError::NotInReview {
                part,
                state: status.and_then(|s| s.state).unwrap_or(other),
            }),
        }
    }

    /// Every draft awaiting review, by PART number, and what kept others from being read: a
    /// damaged draft affects only its own PART, named with its file.
    pub fn pending(&self) -> Result<(Vec<Pending>, Vec<String>), ReviewError> {
        let (plan, _) = self.plan()?;
        let mut out = Vec::new();
        let mut problems = Vec::new();
        // Read once: a journal read per PART made listing 2,000 drafts take a minute.
        let statuses = self.statuses()?;
        for part in &plan.parts {
            let n = part.number;
            let draft = match self.draft_with(n, statuses.get(&n).cloned()) {
                Ok(d) => d,
                Err(ReviewError::NoDraft(_) | ReviewError::NotInReview { .. }) => continue,
                Err(e) => {
                    problems.push(format!("PART {n}: {e}"));
                    continue;
                }
            };
            let current = match self.on_disk(&draft.target) {
                Ok(c) => c,
                Err(e) => {
                    problems.push(format!("PART {n}: {e}"));
                    continue;
                }
            };
            let claims = self.claims_for(part, &draft, current.as_deref());
            out.push(Pending {
                checklist: self.checklist_for(part, &draft, current.as_deref(), &claims),
                diff: diff(current.as_deref(), &draft.text, &draft.target),
                draft,
            });
        }
        Ok((out, problems))
    }

    /// The text of each gathered source exactly as the runner fetched it (from the cache; never
    /// fetched again), by number. A source the cache no longer holds is left out.
    pub fn source_texts(&self, draft: &Draft) -> BTreeMap<usize, String> {
        let cache = Cache::new(&self.ws.state().join("cache"));
        let refs = if draft.gathered.is_empty() {
            &draft.sources
        } else {
            &draft.gathered
        };
        refs.iter()
            .filter_map(|s| cache.page(&s.provider, &s.url).map(|p| (s.n, p.content)))
            .collect()
    }

    /// The claims of a draft with their verdicts, against the sources as fetched; with a
    /// second opinion, the weak and unsupported ones are put to the model too (each question
    /// once: the answers are cached, the tokens journalled for the PART).
    pub fn claims_for(
        &self,
        part: &plan::Part,
        draft: &Draft,
        original: Option<&str>,
    ) -> Vec<Claim> {
        let mut claims = grounding::check(
            draft_claims(&draft.text, original, must_cite(part)),
            &self.source_texts(draft),
        );
        let Some(judge) = &self.second_opinion else {
            return claims;
        };
        let cache = Cache::new(&self.ws.state().join("cache"));
        let journal = &self.journal;
        let spent = |u: crate::state::Usage| {
            let _ = journal.append(&Record::Usage {
                ts: now(),
                part: draft.part,
                section: None,
                prompt_tokens: u.prompt_tokens,
                completion_tokens: u.completion_tokens,
                estimated: u.estimated,
            });
        };
        if let Err(e) = opinion::second_opinion(&mut claims, judge.as_ref(), &cache, spent) {
            tracing::warn!("second opinion failed: {e}");
        }
        claims
    }

    /// The checklist of a draft against its PART's spec, the file it grows (`original`), the
    /// base the checks found, the sources gathered and its claims' verdicts.
    pub fn checklist_for(
        &self,
        part: &plan::Part,
        draft: &Draft,
        original: Option<&str>,
        claims: &[Claim],
    ) -> Checklist {
        let base: Vec<String> = draft
            .existing
            .files
            .iter()
            .filter(|f| f.path != "INDEX.md")
            .filter_map(|f| std::fs::read_to_string(self.ws.knowledge().join(&f.path)).ok())
            .collect();
        let gathered: Option<BTreeSet<usize>> =
            (!draft.gathered.is_empty()).then(|| draft.gathered.iter().map(|s| s.n).collect());
        checklist(
            part,
            &draft.text,
            original,
            &base,
            gathered.as_ref(),
            claims,
        )
    }

    /// The checklist and claims of PART `part`'s draft awaiting review.
    pub fn check(&self, part: u32) -> Result<(Checklist, Vec<Claim>), ReviewError> {
        let draft = self.draft(part)?;
        self.check_draft(part, &draft)
    }

    /// The checklist and claims of `draft`, PART `part`'s.
    fn check_draft(
        &self,
        part: u32,
        draft: &Draft,
    ) -> Result<(Checklist, Vec<Claim>), ReviewError> {
        let draft = draft.clone();
        let (plan, _) = self.plan()?;
        let spec = plan.part(part).ok_or(ReviewError::NoDraft(part))?;
        let current = self.on_disk(&draft.target)?;
        let claims = self.claims_for(spec, &draft, current.as_deref());
        Ok((
            self.checklist_for(spec, &draft, current.as_deref(), &claims),
            claims,
        ))
    }

    /// The target's current text, None when it does not exist.
    fn on_disk(&self, target: &str) -> Result<Option<String>, ReviewError> {
        let path = resolve_target(&self.ws.knowledge(), target)?;
        match std::fs::read_to_string(&path) {
            Ok(t) => Ok(Some(t)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_err("read", &path)(e)),
        }
    }

    /// The diffs of the knowledge file and of the drop (against nothing: drops are new files).
    /// The file's content hash is recorded, so an approval refuses if it changes after this.
    pub fn diffs(&self, part: u32) -> Result<(FileDiff, FileDiff), ReviewError> {
        let i = self.inspect(part)?;
        Ok((i.file, i.drop))
    }

    /// Everything the review screen shows: both diffs, the checklist and the target. The file's
    /// content hash is recorded, so an approval refuses if it changes after this.
    pub fn inspect(&self, part: u32) -> Result<Inspection, ReviewError> {
        let mut draft = self.draft(part)?;
        let current = self.on_disk(&draft.target)?;
        let hash = current.as_deref().map(content_hash);
        if hash != draft.base_hash {
            draft.base_hash = hash.clone();
            self.journal.save_draft(&draft)?;
        }
        let (plan, _) = self.plan()?;
        let spec = plan.part(part).ok_or(ReviewError::NoDraft(part))?;
        let claims = self.claims_for(spec, &draft, current.as_deref());
        Ok(Inspection {
            file: diff(current.as_deref(), &draft.text, &draft.target),
            drop: diff(
                None,
                &draft.drop_text,
                &format!("drops/{}", draft.drop_name),
            ),
            checklist: self.checklist_for(spec, &draft, current.as_deref(), &claims),
            claims,
            target: draft.target,
            drop_name: draft.drop_name,
            base_hash: hash,
        })
    }

    /// [`Review::edit`] (or [`Review::edit_drop`] with `drop`) of a text a person wrote: when
    /// the draft cannot take it (approved or rejected from elsewhere while the editor was open),
    /// the text is kept in the plan's state folder and the error says where, so no edit is lost.
    pub fn save_edit(&self, part: u32, text: &str, drop: bool) -> Result<(), ReviewError> {
        let saved = if drop {
            self.edit_drop(part, text)
        } else {
            self.edit(part, text)
        };
        saved.map_err(|reason| {
            let name = format!(
                "part-{part}{}-{}.md",
                if drop { "-drop" } else { "" },
                chrono::Local::now().format("%Y%m%d-%H%M%S")
            );
            let kept = self.journal.dir().join("unsaved-edits").join(name);
            match crate::fsutil::write_atomic(&kept, text.as_bytes()) {
                Ok(()) => ReviewError::EditKept {
                    reason: Box::new(reason),
                    kept,
                },
                Err(_) => reason,
            }
        })
    }

    /// Replace the draft's text with an edit; the edited text is what gets checked and written.
    pub fn edit(&self, part: u32, text: &str) -> Result<(), ReviewError> {
        // Under the workspace lock, as approvals are: the draft is still awaiting review when
        // the edit lands, not approved a moment before by another process.
        let _lock = self.lock()?;
        let mut draft = self.draft(part)?;
        let lines = text.lines().count();
        draft.drop_text = with_file_lines(&draft.drop_text, &draft.target, lines);
        draft.text = text.to_string();
        draft.edited = true;
        self.journal.save_draft(&draft)?;
        self.journal.append(&Record::Edited {
            ts: now(),
            part,
            lines,
            drop: false,
        })?;
        Ok(())
    }

    /// Replace the draft's KNOWLEDGE DROP with an edit; that text is what approval writes.
    pub fn edit_drop(&self, part: u32, text: &str) -> Result<(), ReviewError> {
        let _lock = self.lock()?;
        let mut draft = self.draft(part)?;
        draft.drop_text = text.to_string();
        draft.edited = true;
        self.journal.save_draft(&draft)?;
        self.journal.append(&Record::Edited {
            ts: now(),
            part,
            lines: text.lines().count(),
            drop: true,
        })?;
        Ok(())
    }

    /// Ask for section `section` (0-based; None: every section) of a draft awaiting review to be
    /// written again with `reason`. The draft stays until its replacement is ready; only that
    /// section changes.
    pub fn regenerate(
        &self,
        part: u32,
        section: Option<usize>,
        reason: &str,
    ) -> Result<(), ReviewError> {
        let _lock = self.lock()?;
        let draft = self.draft(part)?;
        if reason.trim().is_empty() {
            return Err(ReviewError::NoReason);
        }
        let (plan, _) = self.plan()?;
        let planned = plan.part(part).map_or(0, |p| p.sections.len().max(1));
        if let Some(k) = section
            && k >= planned.max(draft.sections.len())
        {
            return Err(ReviewError::NoSection {
                part,
                section: k + 1,
                count: planned,
            });
        }
        self.journal.append(&Record::Regenerate {
            ts: now(),
            part,
            section,
            reason: reason.trim().to_string(),
        })?;
        Ok(())
    }

    /// Reject a draft; with `requeue` the PART is written again with `reason`, else skipped.
    pub fn reject(
        &self,
        part: u32,
        reason: Option<&str>,
        requeue: bool,
    ) -> Result<(), ReviewError> {
        // Under the workspace lock: a reject must not land on a PART approved a moment ago.
        let _lock = self.lock()?;
        self.draft(part)?;
        // Written again with no reason is the same draft again: the reason is what changes it.
        if requeue && reason.is_none_or(|r| r.trim().is_empty()) {
            return Err(ReviewError::NoReason);
        }
        self.journal.append(&Record::Rejected {
            ts: now(),
            part,
            reason: reason.map(str::to_string),
            requeue,
        })?;
        Ok(())
    }
}
