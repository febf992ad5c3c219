//! Undo of an approval: the exact inverse, journalled step by step, refused (naming the file) if
//! anything the approval wrote changed since.

use std::path::PathBuf;

use super::{
    checkbox_line, commit, no_link, read_or, remove_empty_dirs, stage, with_checkbox_line,
};
use crate::journal::{ApprovalPlan, Record, UndoStep, last_approval};
use crate::knowledge::resolve_target;
use crate::review::{Review, ReviewError, content_hash, io_err};
use crate::state::{RunnerState, now};

/// What an undo put back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Undone {
    /// The knowledge file, relative to the workspace root.
    pub file: String,
    /// Whether the file was removed (it was new) rather than restored.
    pub removed: bool,
    /// The drop removed, relative to the workspace root.
    pub drop: String,
    /// What became of the plan's line: None when the approval had not ticked it (it was ticked
    /// already), else whether it is unticked (false: it was changed since, and left).
    pub unticked: Option<bool>,
    /// Whether INDEX.md lost the approval's entry (false: the entry was changed since, and left).
    pub index_restored: bool,
}

impl Undone {
    /// What the undo did, in words (`plan` is how the plan is named to the user): only what
    /// happened, a step left undone because its file changed since said so.
    pub fn describe(&self, plan: &str) -> String {
        let plan_line = match self.unticked {
            Some(true) => format!(", its line in {plan} unticked"),
            Some(false) => format!(", its line in {plan} left as it is (it changed since)"),
            None => String::new(),
        };
        let index = if self.index_restored {
            ", INDEX.md put back"
        } else {
            ", INDEX.md left as it is (its entry changed since)"
        };
        format!(
            "{} {}, {} removed{plan_line}{index}",
            self.file,
            if self.removed {
                "removed (it was new)"
            } else {
                "restored"
            },
            self.drop
        )
    }
}

impl Review {
    /// Undo PART `part`'s approval: the knowledge file returns to its previous content (or is
    /// removed if it was new), the drop is removed, the plan line is unticked byte-exactly and
    /// INDEX.md's entry is put back; the PART returns to review. Refused, naming the file, if any
    /// of them changed since the approval.
    pub fn undo(&self, part: u32) -> Result<Undone, ReviewError> {
        let _lock = self.lock()?;
        let status = self.journal.status(part)?.unwrap_or_default();
        let records = self.journal.records()?;
        let plan_record = last_approval(&records, part).ok_or(ReviewError::NothingToUndo(part))?;
        if status.state != Some(RunnerState::Approved) && !status.undoing {
            return Err(ReviewError::NothingToUndo(part));
        }
        if !status.undoing {
            self.check_undo(part, &plan_record)?;
        }
        self.undo_steps(part, &plan_record, !status.undoing)
    }

    /// Refuse an undo when anything the approval wrote changed since.
    fn check_undo(&self, part: u32, p: &ApprovalPlan) -> Result<(), ReviewError> {
        let knowledge = self.ws.knowledge();
        let changed = |path: PathBuf| ReviewError::ChangedSince(path);
        for (rel, after) in [(&p.target, &p.target_after), (&p.drop, &p.drop_after)] {
            let path = resolve_target(&knowledge, rel)?;
            if read_or(&path, None)?.as_deref().map(content_hash).as_ref() != Some(after) {
                return Err(changed(path));
            }
        }
        let index = knowledge.join("INDEX.md");
        no_link(&index)?;
        let index_text = read_or(&index, Some(""))?.unwrap_or_default();
        if content_hash(&index_text) != p.index_after
            && !index_text.lines().any(|l| l == p.index_entry_after)
        {
            return Err(changed(index));
        }
        if let Some(after) = &p.plan_line_after {
            let (_, plan_text) = self.plan()?;
            let line = checkbox_line(&plan_text, part);
            if line.as_deref() != Some(after.as_str())
                && line.as_deref() != p.plan_line_before.as_deref()
            {
                return Err(changed(self.plan_path.clone()));
            }
        }
        Ok(())
    }

    /// Put everything back. Every file that needs writing is staged first (and the draft saved),
    /// then the undo is journalled as begun, and only then do renames and removals (which need
    /// no space) change what a person sees: a full disk fails the undo with nothing changed,
    /// and a crash after the journal line resumes it on the next command (each step checks
    /// what is there first).
    pub(super) fn undo_steps(
        &self,
        part: u32,
        p: &ApprovalPlan,
        begin: bool,
    ) -> Result<Undone, ReviewError> {
        let knowledge = self.ws.knowledge();
        let target = resolve_target(&knowledge, &p.target)?;
        let backup = |rel: &Option<String>| -> Result<Option<String>, ReviewError> {
            match rel {
                Some(r) => {
                    let path = self.journal.dir().join(r);
                    Ok(Some(
                        std::fs::read_to_string(&path).map_err(io_err("read", &path))?,
                    ))
                }
                None => Ok(None),
            }
        };
        // 1. Stage: nothing visible changes yet.
        let target_before = backup(&p.target_before)?;
        let staged_target = match &target_before {
            Some(before) if read_or(&target, None)?.as_deref() != Some(before.as_str()) => {
                Some(stage(&target, before.as_bytes())?)
            }
            _ => None,
        };
        let plan_file = self.plan_file();
        let staged_plan = match (&p.plan_line_before, &p.plan_line_after) {
            (Some(before), Some(after)) => {
                let (_, plan_text) = self.plan()?;
                match checkbox_line(&plan_text, part).as_deref() == Some(after.as_str()) {
                    true => with_checkbox_line(&plan_text, part, before)
                        .map(|text| stage(&plan_file, text.as_bytes()))
                        .transpose()?,
                    false => None,
                }
            }
            _ => None,
        };
        let index = knowledge.join("INDEX.md");
        let index_text = read_or(&index, Some(""))?.unwrap_or_default();
        enum IndexBack {
            Keep,
            Remove,
            Write(tempfile::NamedTempFile),
        }
        let staged_index = if content_hash(&index_text) == p.index_after {
            // Nothing else touched it: back to its exact bytes.
            match backup(&p.index_before)? {
                Some(before) => IndexBack::Write(stage(&index, before.as_bytes())?),
                None => IndexBack::Remove,
            }
        } else if index_text.lines().any(|l| l == p.index_entry_after) {
            // Other approvals came after: only this entry goes back to what it was.
            let mut out = String::with_capacity(index_text.len());
            for line in index_text.split_inclusive('\n') {
                let bare = line.trim_end_matches(['\n', '\r']);
                if bare == p.index_entry_after {
                    if let Some(before) = &p.index_entry_before {
                        out.push_str(before);
                        out.push_str(&line[bare.len()..]);
                    }
                } else {
                    out.push_str(line);
                }
            }
            IndexBack::Write(stage(&index, out.as_bytes())?)
        } else {
            IndexBack::Keep
        };
        // The draft's diff is against the file as it will be again.
        if let Ok(Some(mut draft)) = self.journal.load_draft(part) {
            let hash = target_before.as_deref().map(content_hash);
            if draft.base_hash != hash {
                draft.base_hash = hash;
                self.journal.save_draft(&draft)?;
            }
        }
        // 2. The undo is begun: from here a crash resumes it.
        if begin {
            self.journal.append(&Record::Undo {
                ts: now(),
                part,
                step: UndoStep::Begin,
            })?;
        }
        // 3. Renames and removals.
        match staged_target {
            Some(staged) => commit(staged, &target)?,
            None if target_before.is_none() => match std::fs::remove_file(&target) {
                Ok(()) => remove_empty_dirs(&knowledge, &target, &p.created_dirs),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    remove_empty_dirs(&knowledge, &target, &p.created_dirs)
                }
                Err(e) => return Err(io_err("remove", &target)(e)),
            },
            None => {}
        }
        let drop = resolve_target(&knowledge, &p.drop)?;
        match std::fs::remove_file(&drop) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err("remove", &drop)(e)),
        }
        if let Some(staged) = staged_plan {
            commit(staged, &plan_file)?;
        }
        match staged_index {
            IndexBack::Write(staged) => commit(staged, &index)?,
            IndexBack::Remove => {
                let _ = std::fs::remove_file(&index);
            }
            IndexBack::Keep => {}
        }
        self.journal.append(&Record::Undo {
            ts: now(),
            part,
            step: UndoStep::Done,
        })?;
        // Said as it now is, so a step skipped (changed since) or done before a crash is told
        // truly.
        let unticked = match &p.plan_line_before {
            Some(before) => {
                let (_, plan_text) = self.plan()?;
                Some(checkbox_line(&plan_text, part).as_deref() == Some(before.as_str()))
            }
            None => None,
        };
        let index_now = read_or(&index, Some(""))?.unwrap_or_default();
        Ok(Undone {
            file: format!("knowledge/{}", p.target),
            removed: p.target_before.is_none(),
            drop: format!("knowledge/{}", p.drop),
            unticked,
            index_restored: !index_now.lines().any(|l| l == p.index_entry_after),
        })
    }
}
