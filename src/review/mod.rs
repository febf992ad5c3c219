//! The human's gate: diff and checklist of each draft, approve (write file + drop, tick the plan,
//! update INDEX.md) or reject. Nothing reaches the knowledge base or the plan except through here.

mod checklist;
mod diff;
mod index;

pub use checklist::{Checklist, SectionCheck, checklist};
pub use diff::{DiffLine, FileDiff, Hunk, LineTag, Segment, diff};
pub use index::{EMPTY_INDEX, entry as index_entry, upsert_entry};

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::draft::Draft;
use crate::journal::{ApprovalStep, Journal, JournalError, PartStatus, Record, replay};
use crate::knowledge::{PathError, resolve_target};
use crate::plan::{self, EditError, LoadError, Plan};
use crate::state::{RunnerState, now};
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
    /// The plan could not be ticked.
    #[error("cannot tick the plan: {0}")]
    Tick(#[from] EditError),
    /// The journal failed.
    #[error(transparent)]
    Journal(#[from] JournalError),
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

/// SHA-256 of a file's content, for detecting changes between diff and approval.
pub fn content_hash(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// The knowledge file as the reviewer's diff showed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    /// Not known (the CLI without a diff): the draft's own record of the file is used.
    Unknown,
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

/// What an approval wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approved {
    /// The knowledge file, relative to the workspace root.
    pub file: String,
    /// The drop, relative to the workspace root.
    pub drop: String,
    /// Whether the plan was ticked now (false: it already was).
    pub ticked: bool,
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
    /// The target path, relative to `knowledge/`.
    pub target: String,
    /// The drop's file name as planned (`[TIME]` is filled in when it is written).
    pub drop_name: String,
    /// Content hash of the file on disk these diffs were computed against (None: no file).
    pub base_hash: Option<String>,
}

/// What `approve_if_clean` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AutoApproval {
    /// The checklist was clean; the draft was approved.
    Approved(Approved),
    /// The checklist was not clean; the draft stays for review. The checklist summary.
    NotClean(String),
}

/// Review actions on one plan.
pub struct Review {
    ws: Workspace,
    plan_path: PathBuf,
    journal: Arc<Journal>,
}

impl Review {
    /// Review the drafts of the plan at `plan_path`.
    pub fn new(ws: Workspace, plan_path: PathBuf, journal: Arc<Journal>) -> Review {
        Review {
            ws,
            plan_path,
            journal,
        }
    }

    fn statuses(&self) -> Result<std::collections::BTreeMap<u32, PartStatus>, ReviewError> {
        Ok(replay(&self.journal.records()?))
    }

    fn plan(&self) -> Result<(Plan, String), ReviewError> {
        Ok(plan::load(&self.plan_path)?)
    }

    /// The draft of `part`, if it is awaiting review.
    pub fn draft(&self, part: u32) -> Result<Draft, ReviewError> {
        let state = self.statuses()?.get(&part).and_then(|s| s.state);
        match state {
            Some(RunnerState::Review) => {}
            Some(state) => return Err(ReviewError::NotInReview { part, state }),
            None => return Err(ReviewError::NoDraft(part)),
        }
        self.journal
            .load_draft(part)?
            .ok_or(ReviewError::NoDraft(part))
    }

    /// Every draft awaiting review, by PART number.
    pub fn pending(&self) -> Result<Vec<Pending>, ReviewError> {
        let (plan, _) = self.plan()?;
        let mut out = Vec::new();
        for (n, status) in self.statuses()? {
            if status.state != Some(RunnerState::Review) {
                continue;
            }
            let Some(draft) = self.journal.load_draft(n)? else {
                continue;
            };
            let Some(part) = plan.part(n) else { continue };
            out.push(Pending {
                checklist: self.checklist_for(part, &draft),
                diff: diff(
                    self.on_disk(&draft.target)?.as_deref(),
                    &draft.text,
                    &draft.target,
                ),
                draft,
            });
        }
        Ok(out)
    }

    /// The checklist of a draft against its PART's spec and the base the checks found.
    pub fn checklist_for(&self, part: &plan::Part, draft: &Draft) -> Checklist {
        let base: Vec<String> = draft
            .existing
            .files
            .iter()
            .filter(|f| f.path != "INDEX.md")
            .filter_map(|f| std::fs::read_to_string(self.ws.knowledge().join(&f.path)).ok())
            .collect();
        checklist(part, &draft.text, &base)
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
        Ok(Inspection {
            file: diff(current.as_deref(), &draft.text, &draft.target),
            drop: diff(
                None,
                &draft.drop_text,
                &format!("drops/{}", draft.drop_name),
            ),
            checklist: self.checklist_for(spec, &draft),
            target: draft.target,
            drop_name: draft.drop_name,
            base_hash: hash,
        })
    }

    /// Replace the draft's text with an edit; the edited text is what gets checked and written.
    pub fn edit(&self, part: u32, text: &str) -> Result<(), ReviewError> {
        let mut draft = self.draft(part)?;
        let lines = text.lines().count();
        draft.drop_text = draft
            .drop_text
            .lines()
            .map(|l| {
                if l.starts_with("- **Knowledge file**:") {
                    format!("- **Knowledge file**: `{}` ({lines} lines)", draft.target)
                } else {
                    l.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
            + "\n";
        draft.text = text.to_string();
        self.journal.save_draft(&draft)?;
        Ok(())
    }

    /// Replace the draft's KNOWLEDGE DROP with an edit; that text is what approval writes.
    pub fn edit_drop(&self, part: u32, text: &str) -> Result<(), ReviewError> {
        let mut draft = self.draft(part)?;
        draft.drop_text = text.to_string();
        self.journal.save_draft(&draft)?;
        Ok(())
    }

    /// Reject a draft; with `requeue` the PART is written again with `reason`, else skipped.
    pub fn reject(
        &self,
        part: u32,
        reason: Option<&str>,
        requeue: bool,
    ) -> Result<(), ReviewError> {
        self.draft(part)?;
        self.journal.append(&Record::Rejected {
            ts: now(),
            part,
            reason: reason.map(str::to_string),
            requeue,
        })?;
        Ok(())
    }

    /// Approve a draft: write the file and the drop atomically, tick the plan, update INDEX.md.
    /// Every file is staged (written and fsynced beside its target) before any is renamed into
    /// place, so a full disk or a read-only folder fails the approval with nothing changed.
    pub fn approve(
        &self,
        part: u32,
        when: chrono::DateTime<chrono::Local>,
    ) -> Result<Approved, ReviewError> {
        self.approve_seen(part, when, Seen::Unknown)
    }

    /// [`Review::approve`], checking the file against `seen`: the content hash of the target the
    /// reviewer's diff was drawn from (`Some(None)` when there was no file). With `None`, against
    /// the hash recorded when the draft's diff was last computed.
    pub fn approve_seen(
        &self,
        part: u32,
        when: chrono::DateTime<chrono::Local>,
        seen: Seen,
    ) -> Result<Approved, ReviewError> {
        let status = self.statuses()?.remove(&part).unwrap_or_default();
        let resuming = status.approval_drop.clone();
        let mut draft = match resuming {
            Some(_) => self
                .journal
                .load_draft(part)?
                .ok_or(ReviewError::NoDraft(part))?,
            None => self.draft(part)?,
        };
        let knowledge = self.ws.knowledge();
        std::fs::create_dir_all(&knowledge).map_err(io_err("create", &knowledge))?;
        let target = resolve_target(&knowledge, &draft.target)?;
        let drop_rel = match &resuming {
            Some(d) => d.clone(),
            None => free_name(
                &knowledge,
                &format!("drops/{}", drop_file_name(&draft.drop_name, when)),
            ),
        };
        let drop_path = resolve_target(&knowledge, &drop_rel)?;

        // Never clobber: the file must be as it was when the draft's diff was computed.
        let current = self.on_disk(&draft.target)?;
        let expected = match seen {
            Seen::Unknown => draft.base_hash.clone(),
            Seen::Absent => None,
            Seen::Hash(h) => Some(h),
        };
        let unchanged = current.as_deref().map(content_hash) == expected
            || current.as_deref() == Some(draft.text.as_str());
        if !unchanged {
            draft.base_hash = current.as_deref().map(content_hash);
            self.journal.save_draft(&draft)?;
            return Err(ReviewError::Conflict {
                target: draft.target.clone(),
                diff: Box::new(diff(current.as_deref(), &draft.text, &draft.target)),
            });
        }

        let (plan, plan_text) = self.plan()?;
        let stamp = when.format("%Y-%m-%d %H:%M").to_string();
        let new_plan = match plan.part(part) {
            Some(p) if p.done => None,
            _ => Some(plan::tick(&plan_text, part, &format!("Completed {stamp}"))?),
        };
        let index_path = knowledge.join("INDEX.md");
        let index_text = match std::fs::read_to_string(&index_path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => EMPTY_INDEX.to_string(),
            Err(e) => return Err(io_err("read", &index_path)(e)),
        };
        let title =
            crate::research::passages::title(&draft.text).unwrap_or_else(|| draft.target.clone());
        let new_index = upsert_entry(
            &index_text,
            &draft.target,
            &index_entry(
                &draft.target,
                &title,
                draft.lines(),
                part,
                &when.format("%Y-%m-%d").to_string(),
            ),
        );

        // Stage everything first.
        let staged_file = stage(&target, draft.text.as_bytes())?;
        let staged_drop = stage(&drop_path, draft.drop_text.as_bytes())?;
        // A plan kept behind a symlink is updated where it really lives, the link kept.
        let plan_file = self
            .plan_path
            .canonicalize()
            .unwrap_or_else(|_| self.plan_path.clone());
        let staged_plan = new_plan
            .as_ref()
            .map(|t| stage(&plan_file, t.as_bytes()))
            .transpose()?;
        let staged_index = stage(&index_path, new_index.as_bytes())?;

        let step = |step: ApprovalStep, path: Option<String>| {
            self.journal.append(&Record::Approval {
                ts: now(),
                part,
                step,
                path,
            })
        };
        if resuming.is_none() {
            step(ApprovalStep::Begin, Some(drop_rel.clone()))?;
        }
        commit(staged_file, &target)?;
        step(ApprovalStep::File, Some(draft.target.clone()))?;
        commit(staged_drop, &drop_path)?;
        step(ApprovalStep::Drop, Some(drop_rel.clone()))?;
        let ticked = staged_plan.is_some();
        if let Some(staged) = staged_plan {
            commit(staged, &plan_file)?;
        }
        step(ApprovalStep::Plan, None)?;
        commit(staged_index, &index_path)?;
        step(ApprovalStep::Index, None)?;
        step(ApprovalStep::Done, None)?;
        self.journal.append(&Record::State {
            ts: now(),
            part,
            state: RunnerState::Approved,
            message: None,
        })?;
        Ok(Approved {
            file: format!("knowledge/{}", draft.target),
            drop: format!("knowledge/{drop_rel}"),
            ticked,
        })
    }

    /// Approve the draft of `part` only if its checklist is clean (for unattended runs).
    pub fn approve_if_clean(
        &self,
        part: u32,
        when: chrono::DateTime<chrono::Local>,
    ) -> Result<AutoApproval, ReviewError> {
        let draft = self.draft(part)?;
        let (plan, _) = self.plan()?;
        let spec = plan.part(part).ok_or(ReviewError::NoDraft(part))?;
        let checklist = self.checklist_for(spec, &draft);
        if !checklist.is_clean() {
            return Ok(AutoApproval::NotClean(checklist.summary()));
        }
        Ok(AutoApproval::Approved(self.approve(part, when)?))
    }

    /// Finish approvals a crash interrupted, each with its result. One that cannot finish (the
    /// target was edited meanwhile, the PART left the plan) is reported and left as it is; it
    /// never stops the others or the command that asked.
    pub fn resume_approvals(&self) -> Vec<(u32, Result<Approved, ReviewError>)> {
        let Ok(statuses) = self.statuses() else {
            return Vec::new();
        };
        statuses
            .into_iter()
            .filter(|(_, s)| s.approval_drop.is_some() && s.state == Some(RunnerState::Review))
            .map(|(n, _)| (n, self.approve(n, chrono::Local::now())))
            .collect()
    }
}

/// `KNOWLEDGE-DROP-x-2025-11-13-[TIME].md` -> `KNOWLEDGE-DROP-x-2025-11-13-1432.md` (local HHMM).
pub fn drop_file_name(planned: &str, when: chrono::DateTime<chrono::Local>) -> String {
    let name = planned.replace("[TIME]", &when.format("%H%M").to_string());
    // The plan's text names the drop; only its last path component is ever used.
    let name = name.rsplit(['/', '\\']).next().unwrap_or(&name).to_string();
    if name.is_empty() || name == ".." || name == "." {
        "KNOWLEDGE-DROP.md".to_string()
    } else {
        name
    }
}

/// `rel`, or `rel` with `-2`, `-3`, … before `.md` when that drop already exists: two PARTs
/// approved in the same minute must not share a drop file.
fn free_name(knowledge: &Path, rel: &str) -> String {
    let (stem, ext) = rel.rsplit_once('.').unwrap_or((rel, "md"));
    std::iter::once(rel.to_string())
        .chain((2..1000).map(|k| format!("{stem}-{k}.{ext}")))
        .find(|candidate| !knowledge.join(candidate).exists())
        .unwrap_or_else(|| rel.to_string())
}

/// A fully written, fsynced temp file beside `path`, with the permissions the file has now
/// (or the usual 0644 for a new one): a temp file's private 0600 must not replace them.
fn stage(path: &Path, bytes: &[u8]) -> Result<tempfile::NamedTempFile, ReviewError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io_err("create the folder", dir))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".expanse-")
        .tempfile_in(dir)
        .map_err(io_err("write in", dir))?;
    tmp.write_all(bytes).map_err(io_err("write", path))?;
    let permissions = match std::fs::metadata(path) {
        Ok(m) => m.permissions(),
        Err(_) => {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::Permissions::from_mode(0o644)
        }
    };
    tmp.as_file()
        .set_permissions(permissions)
        .map_err(io_err("write", path))?;
    tmp.as_file().sync_all().map_err(io_err("write", path))?;
    Ok(tmp)
}

fn commit(tmp: tempfile::NamedTempFile, path: &Path) -> Result<(), ReviewError> {
    tmp.persist(path)
        .map_err(|e| io_err("replace", path)(e.error))?;
    if let Some(dir) = path.parent()
        && let Ok(d) = std::fs::File::open(dir)
    {
        let _ = d.sync_all();
    }
    Ok(())
}
