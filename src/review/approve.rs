//! Approval and its undo as journalled, crash-safe transactions under the workspace lock: the
//! knowledge file, its drop, the plan's tick and the INDEX entry all change, or none does; undo
//! is the exact inverse and refuses, naming the file, if any of them changed since.

use std::path::{Path, PathBuf};

use super::{Review, ReviewError, Seen, content_hash, diff, io_err};
use crate::fsutil;
use crate::journal::{ApprovalPlan, ApprovalStep, Record, last_approval};
use crate::knowledge::index::{EMPTY_INDEX, entry as index_entry, is_entry_for, upsert_entry};
use crate::knowledge::{lock, resolve_target};
use crate::plan;
use crate::state::{RunnerState, now};

mod undo;
pub use undo::Undone;

/// What an approval wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approved {
    /// The knowledge file, relative to the workspace root.
    pub file: String,
    /// The drop, relative to the workspace root (None: nothing new was written).
    pub drop: Option<String>,
    /// Whether the plan was ticked now (false: it already was).
    pub ticked: bool,
    /// The file already held exactly this text (a redo that changed nothing): no file, drop or
    /// INDEX entry was written.
    pub unchanged: bool,
}

/// What `approve_if_clean` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AutoApproval {
    /// The checklist was clean; the draft was approved.
    Approved(Approved),
    /// The checklist was not clean; the draft stays for review. Why not.
    NotClean(Vec<String>),
}

/// `KNOWLEDGE-DROP-x-2025-11-13-[TIME].md` -> `KNOWLEDGE-DROP-x-2025-11-13-1432.md` (local HHMM).
pub fn drop_file_name(planned: &str, when: chrono::DateTime<chrono::Local>) -> String {
    let name = planned.replace("[TIME]", &when.format("%H%M").to_string());
    // A name must read as it is: no invisible or direction-changing characters, no controls.
    let name: String = name
        .chars()
        .filter(|c| !crate::plan::invisible(*c) && !c.is_control())
        .collect();
    // The plan's text names the drop; only its last path component is ever used.
    let name = name.rsplit(['/', '\\']).next().unwrap_or(&name).to_string();
    if name.is_empty() || name == ".." || name == "." {
        return "KNOWLEDGE-DROP.md".to_string();
    }
    // File systems refuse names over 255 bytes, and a refusal there would come after the
    // knowledge file is written; a long planned name is cut (room left for `-2`, `-3`, …).
    if name.len() <= MAX_DROP_NAME_BYTES {
        return name;
    }
    let stem = name.strip_suffix(".md").unwrap_or(&name);
    let mut cut = MAX_DROP_NAME_BYTES - ".md".len();
    while !stem.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}.md", &stem[..cut])
}

/// Longest drop file name written, in bytes: under the 255 file systems allow, with room for
/// the `-N` that keeps two drops of one minute apart.
const MAX_DROP_NAME_BYTES: usize = 240;

/// `rel`, or `rel` with `-2`, `-3`, … before `.md` when that drop already exists: two PARTs
/// approved in the same minute must not share a drop file.
fn free_name(knowledge: &Path, rel: &str) -> String {
    let (stem, ext) = rel.rsplit_once('.').unwrap_or((rel, "md"));
    std::iter::once(rel.to_string())
        .chain((2..1000).map(|k| format!("{stem}-{k}.{ext}")))
        .find(|candidate| !knowledge.join(candidate).exists())
        .unwrap_or_else(|| rel.to_string())
}

/// A drop path from the journal: only `drops/<name>.md`, never elsewhere in the base.
fn confined_drop(rel: &str) -> Option<&str> {
    let name = rel.strip_prefix("drops/")?;
    let ok = !name.is_empty()
        && !name.contains(['/', '\\'])
        && name != ".."
        && name != "."
        && name.ends_with(".md");
    ok.then_some(rel)
}

/// A path under the knowledge base that must not be a symlink (INDEX.md, the drops folder):
/// following one would copy a file from outside into the base or write outside it.
fn no_link(path: &Path) -> Result<(), ReviewError> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => Err(ReviewError::Symlink(path.to_path_buf())),
        _ => Ok(()),
    }
}

fn read_or(path: &Path, default: Option<&str>) -> Result<Option<String>, ReviewError> {
    match std::fs::read_to_string(path) {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(default.map(str::to_string)),
        Err(e) => Err(io_err("read", path)(e)),
    }
}

/// Remove the folders an approval created for `target` (listed in `created`, relative to
/// `knowledge`) that are empty now, deepest first; a folder holding anything stays.
fn remove_empty_dirs(knowledge: &Path, target: &Path, created: &[String]) {
    let mut dir = target.parent();
    while let Some(d) = dir {
        if d == knowledge || !d.starts_with(knowledge) {
            break;
        }
        let rel = d
            .strip_prefix(knowledge)
            .map(|r| r.to_string_lossy().to_string())
            .unwrap_or_default();
        if !created.contains(&rel) || std::fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
}

/// The folders between `knowledge` and `target` that do not exist yet (relative, deepest last).
fn missing_dirs(knowledge: &Path, target: &Path) -> Vec<String> {
    let mut out: Vec<String> = target
        .ancestors()
        .skip(1)
        .take_while(|d| *d != knowledge && d.starts_with(knowledge))
        .filter(|d| !d.exists())
        .filter_map(|d| d.strip_prefix(knowledge).ok())
        .map(|r| r.to_string_lossy().to_string())
        .collect();
    out.reverse();
    out
}

/// The text of PART `part`'s checkbox line in `plan_text`.
fn checkbox_line(plan_text: &str, part: u32) -> Option<String> {
    let plan = plan::Plan::parse(plan_text);
    let cb = plan.part(part)?.span.checkbox.clone()?;
    plan_text.get(cb.start..cb.end).map(str::to_string)
}

/// `plan_text` with PART `part`'s checkbox line replaced by `line` (nothing else changes).
fn with_checkbox_line(plan_text: &str, part: u32, line: &str) -> Option<String> {
    let plan = plan::Plan::parse(plan_text);
    let cb = plan.part(part)?.span.checkbox.clone()?;
    Some(format!(
        "{}{line}{}",
        &plan_text[..cb.start],
        &plan_text[cb.end..]
    ))
}

fn stage(path: &Path, bytes: &[u8]) -> Result<tempfile::NamedTempFile, ReviewError> {
    fsutil::stage(path, bytes, true).map_err(io_err("write", path))
}

fn commit(tmp: tempfile::NamedTempFile, path: &Path) -> Result<(), ReviewError> {
    fsutil::commit(tmp, path, true).map_err(io_err("replace", path))
}

impl Review {
    /// The workspace lock, held by approvals, undos and every change to a draft awaiting
    /// review, so each sees the PART's state as it is when it acts.
    pub(super) fn lock(&self) -> Result<lock::Held, ReviewError> {
        Ok(lock::workspace(&self.ws.state())?)
    }

    /// The plan file as it really lives (a plan behind a symlink is updated there, the link kept).
    fn plan_file(&self) -> PathBuf {
        self.plan_path
            .canonicalize()
            .unwrap_or_else(|_| self.plan_path.clone())
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

    /// [`Review::approve`], checking the file against what the reviewer's diff showed (`seen`;
    /// `Unknown`: against the draft's own record of it).
    pub fn approve_seen(
        &self,
        part: u32,
        when: chrono::DateTime<chrono::Local>,
        seen: Seen,
    ) -> Result<Approved, ReviewError> {
        self.approve_hunks(part, when, seen, None)
    }

    /// [`Review::approve_seen`] writing only the hunks numbered in `hunks` (1-based, in the order
    /// the knowledge file's diff shows them; None: the whole draft). The lines of other hunks stay
    /// as the file has them; the drop, the INDEX entry and undo all follow what was written.
    pub fn approve_hunks(
        &self,
        part: u32,
        when: chrono::DateTime<chrono::Local>,
        seen: Seen,
        hunks: Option<&std::collections::BTreeSet<usize>>,
    ) -> Result<Approved, ReviewError> {
        let _lock = self.lock()?;
        self.approve_locked(part, when, seen, hunks)
    }

    fn approve_locked(
        &self,
        part: u32,
        when: chrono::DateTime<chrono::Local>,
        seen: Seen,
        hunks: Option<&std::collections::BTreeSet<usize>>,
    ) -> Result<Approved, ReviewError> {
        // Everything is read again under the lock: another process may have just approved.
        let status = self.journal.status(part)?.unwrap_or_default();
        let resuming = match status.approval_drop.as_deref() {
            Some(d) => Some(
                confined_drop(d)
                    .ok_or_else(|| ReviewError::ForgedDrop(d.to_string()))?
                    .to_string(),
            ),
            None => None,
        };
        let mut draft = match resuming {
            Some(_) => self
                .journal
                .load_draft(part)?
                .ok_or(ReviewError::NoDraft(part))?,
            None => self.draft(part)?,
        };
        let knowledge = self.ws.knowledge();
        if !knowledge.is_dir() {
            return Err(ReviewError::NoKnowledge(knowledge));
        }
        let target = resolve_target(&knowledge, &draft.target)?;
        let index_path = knowledge.join("INDEX.md");
        no_link(&index_path)?;
        no_link(&knowledge.join("drops"))?;

        // Never clobber: the file must be as it was when the draft's diff was computed.
        let current = self.on_disk(&draft.target)?;
        let unattended = seen == Seen::Unattended;
        let expected = match seen {
            Seen::Unknown | Seen::Unattended => draft.base_hash.clone(),
            Seen::Absent => None,
            Seen::Hash(h) => Some(h),
        };
        let unchanged = current.as_deref() == Some(draft.text.as_str());
        if !unchanged && current.as_deref().map(content_hash) != expected {
            // The new diff is shown with the refusal, so an approval after it accepts the file
            // as it is now; unattended, nobody sees it, and the baseline must not move.
            if !unattended {
                draft.base_hash = current.as_deref().map(content_hash);
                self.journal.save_draft(&draft)?;
                // A begun approval does not finish on its own after this: the next start would
                // otherwise complete it although the person, shown the diff, chose nothing yet.
                if resuming.is_some() {
                    self.journal.append(&Record::Approval {
                        ts: now(),
                        part,
                        step: ApprovalStep::Abandoned,
                        path: None,
                        undo: None,
                    })?;
                }
            }
            return Err(ReviewError::Conflict {
                target: draft.target.clone(),
                diff: Box::new(diff(current.as_deref(), &draft.text, &draft.target)),
            });
        }

        if let Some(keep) = hunks
            && resuming.is_none()
        {
            let count = diff(current.as_deref(), &draft.text, &draft.target)
                .hunks
                .len();
            if keep.is_empty() {
                return Err(ReviewError::NoHunks(part));
            }
            if let Some(&bad) = keep.iter().find(|&&h| h == 0 || h > count) {
                return Err(ReviewError::NoHunk {
                    part,
                    hunk: bad,
                    count,
                });
            }
            // Only what was kept is written; the drop says so through the checklist below.
            draft.text = super::apply_hunks(current.as_deref().unwrap_or(""), &draft.text, keep);
            draft.drop_text =
                super::with_file_lines(&draft.drop_text, &draft.target, draft.lines());
        }
        let unchanged = current.as_deref() == Some(draft.text.as_str());

        let (plan, plan_text) = self.plan()?;
        // The tick goes to the PART the draft was written for, or nowhere.
        let same_number: Vec<_> = plan.parts.iter().filter(|p| p.number == part).collect();
        let changed = match same_number.as_slice() {
            [p] if p.target == draft.target => None,
            [p] => Some(format!("names {}", p.target)),
            [] => Some("has no such PART".to_string()),
            more => Some(format!("has {} PARTs numbered {part}", more.len())),
        };
        if let Some(now) = changed {
            return Err(ReviewError::PlanChanged {
                part,
                now,
                draft: draft.target.clone(),
            });
        }
        let stamp = when.format("%Y-%m-%d %H:%M").to_string();
        let new_plan = match plan.part(part) {
            Some(p) if p.done => None,
            _ => Some(plan::tick(&plan_text, part, &format!("Completed {stamp}"))?),
        };

        if unchanged && resuming.is_none() {
            // A redo that wrote the same text: nothing new goes into the base.
            let ticked = new_plan.is_some();
            if let Some(text) = new_plan {
                let plan_file = self.plan_file();
                commit(stage(&plan_file, text.as_bytes())?, &plan_file)?;
            }
            self.journal.append(&Record::State {
                ts: now(),
                part,
                state: RunnerState::Approved,
                message: Some("unchanged: the file already holds this text".into()),
                cause: None,
            })?;
            return Ok(Approved {
                file: format!("knowledge/{}", draft.target),
                drop: None,
                ticked,
                unchanged: true,
            });
        }

        let drop_rel = match &resuming {
            Some(d) => d.clone(),
            None => free_name(
                &knowledge,
                &format!("drops/{}", drop_file_name(&draft.drop_name, when)),
            ),
        };
        let drop_path = resolve_target(&knowledge, &drop_rel)?;
        let index_text = read_or(&index_path, None)?;
        let title =
            crate::research::passages::title(&draft.text).unwrap_or_else(|| draft.target.clone());
        let entry = index_entry(
            &draft.target,
            &title,
            draft.lines(),
            part,
            &when.format("%Y-%m-%d").to_string(),
        );
        let base_index = index_text.as_deref().unwrap_or(EMPTY_INDEX);
        let new_index = upsert_entry(base_index, &draft.target, &entry);
        // The drop says what the checklist says now (an edit may have changed it).
        let (checklist, _) = self.check_draft(part, &draft)?;
        let drop_text = crate::draft::with_status(&draft.drop_text, &checklist.reasons());

        // Folders the approval makes for the file, so undo can remove them again.
        let created_dirs = missing_dirs(&knowledge, &target);
        // Stage everything first.
        let staged_file = stage(&target, draft.text.as_bytes())?;
        let staged_drop = stage(&drop_path, drop_text.as_bytes())?;
        let plan_file = self.plan_file();
        let staged_plan = new_plan
            .as_ref()
            .map(|t| stage(&plan_file, t.as_bytes()))
            .transpose()?;
        let staged_index = stage(&index_path, new_index.as_bytes())?;

        let step = |step: ApprovalStep, path: Option<String>, undo: Option<Box<ApprovalPlan>>| {
            self.journal.append(&Record::Approval {
                ts: now(),
                part,
                step,
                path,
                undo,
            })
        };
        if resuming.is_none() {
            // What undo needs, kept before anything changes.
            let backups = self.journal.dir().join("approvals");
            let stamp = when.format("%Y%m%d%H%M%S").to_string();
            let keep = |name: &str, text: &Option<String>| -> Result<Option<String>, ReviewError> {
                let Some(t) = text else { return Ok(None) };
                let rel = format!("approvals/part-{part}-{stamp}-{name}");
                let path = backups.join(rel.trim_start_matches("approvals/"));
                fsutil::write_atomic(&path, t.as_bytes()).map_err(io_err("write", &path))?;
                Ok(Some(rel))
            };
            let undo = ApprovalPlan {
                target: draft.target.clone(),
                target_after: content_hash(&draft.text),
                target_before: keep("target", &current)?,
                drop: drop_rel.clone(),
                drop_after: content_hash(&drop_text),
                plan_line_before: new_plan
                    .as_ref()
                    .and_then(|_| checkbox_line(&plan_text, part)),
                plan_line_after: new_plan.as_ref().and_then(|t| checkbox_line(t, part)),
                index_before: keep("index", &index_text)?,
                index_after: content_hash(&new_index),
                index_entry_before: base_index
                    .lines()
                    .find(|l| is_entry_for(l, &draft.target))
                    .map(str::to_string),
                index_entry_after: entry,
                created_dirs,
            };
            step(
                ApprovalStep::Begin,
                Some(drop_rel.clone()),
                Some(Box::new(undo)),
            )?;
        }
        commit(staged_file, &target)?;
        step(ApprovalStep::File, Some(draft.target.clone()), None)?;
        commit(staged_drop, &drop_path)?;
        step(ApprovalStep::Drop, Some(drop_rel.clone()), None)?;
        let ticked = staged_plan.is_some();
        if let Some(staged) = staged_plan {
            commit(staged, &plan_file)?;
        }
        step(ApprovalStep::Plan, None, None)?;
        commit(staged_index, &index_path)?;
        step(ApprovalStep::Index, None, None)?;
        step(ApprovalStep::Done, None, None)?;
        self.journal.append(&Record::State {
            ts: now(),
            part,
            state: RunnerState::Approved,
            message: None,
            cause: None,
        })?;
        Ok(Approved {
            file: format!("knowledge/{}", draft.target),
            drop: Some(format!("knowledge/{drop_rel}")),
            ticked,
            unchanged: false,
        })
    }

    /// Approve the draft of `part` only if its checklist is clean (for unattended runs).
    pub fn approve_if_clean(
        &self,
        part: u32,
        when: chrono::DateTime<chrono::Local>,
    ) -> Result<AutoApproval, ReviewError> {
        let (checklist, _) = self.check(part)?;
        if !checklist.is_clean() {
            return Ok(AutoApproval::NotClean(checklist.reasons()));
        }
        Ok(AutoApproval::Approved(self.approve(part, when)?))
    }

    /// Finish approvals and undos a crash interrupted, and remove the temp files it left; each
    /// with its result. One that cannot finish (the target was edited meanwhile, the PART left
    /// the plan) is reported and left as it is; it never stops the others or the command.
    pub fn resume_approvals(&self) -> Vec<(u32, Result<Approved, ReviewError>)> {
        let Ok(_lock) = self.lock() else {
            return Vec::new();
        };
        // Approvals write the knowledge folder (any depth) and the plan file (beside it only:
        // the plan's folder may be the workspace, state folder included).
        fsutil::remove_stale_temps(&self.ws.knowledge(), usize::MAX);
        if let Some(dir) = self.plan_file().parent() {
            fsutil::remove_stale_temps(dir, 1);
        }
        // Undo's backups are written under this lock too; drafts only while no run of the plan
        // is live (a run saves them without it).
        fsutil::remove_stale_temps(&self.journal.dir().join("approvals"), 1);
        if !crate::knowledge::lock::run_is_live(&self.journal.dir().join("run.lock")) {
            fsutil::remove_stale_temps(&self.journal.dir().join("drafts"), 1);
        }
        let Ok(statuses) = self.statuses() else {
            return Vec::new();
        };
        let records = self.journal.records().unwrap_or_default();
        let mut out = Vec::new();
        for (n, s) in statuses {
            if s.undoing
                && let Some(p) = last_approval(&records, n)
            {
                // An interrupted undo completes; its result shows as the PART back in review.
                let _ = self.undo_steps(n, &p, false);
            } else if s.approval_interrupted() {
                out.push((
                    n,
                    self.approve_locked(n, chrono::Local::now(), Seen::Unattended, None),
                ));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_planned_drop_name_is_cut_to_what_file_systems_take() {
        use chrono::TimeZone as _;
        let when = chrono::Local
            .with_ymd_and_hms(2026, 11, 30, 10, 5, 0)
            .unwrap();
        let planned = format!("KNOWLEDGE-DROP-{}-[TIME].md", "é".repeat(200));
        let name = drop_file_name(&planned, when);
        assert!(
            name.len() <= MAX_DROP_NAME_BYTES && name.ends_with(".md"),
            "{name}"
        );
        assert!(name.starts_with("KNOWLEDGE-DROP-éé"));
        assert_eq!(
            drop_file_name("KNOWLEDGE-DROP-x-[TIME].md", when),
            "KNOWLEDGE-DROP-x-1005.md"
        );
    }

    #[test]
    fn drop_paths_from_the_journal_stay_in_drops() {
        assert_eq!(
            confined_drop("drops/KNOWLEDGE-DROP-x.md"),
            Some("drops/KNOWLEDGE-DROP-x.md")
        );
        for bad in [
            "a/00-x.md",
            "drops/../a/00-x.md",
            "drops/sub/x.md",
            "drops/",
            "drops/x.txt",
            "/etc/passwd",
        ] {
            assert_eq!(confined_drop(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_checkbox_line_is_swapped_byte_exactly() {
        let plan = "# P\r\n\r\n### PART 1: Create a.md\r\n- [✓] PART 1: Create a.md (Completed 2025-01-01 10:00)\r\n";
        let line = checkbox_line(plan, 1).unwrap();
        assert_eq!(
            line,
            "- [✓] PART 1: Create a.md (Completed 2025-01-01 10:00)"
        );
        let back = with_checkbox_line(plan, 1, "- [ ] PART 1: Create a.md").unwrap();
        assert_eq!(
            back,
            "# P\r\n\r\n### PART 1: Create a.md\r\n- [ ] PART 1: Create a.md\r\n"
        );
    }
}
