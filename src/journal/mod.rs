//! Run state under `.expanse/`: per plan an append-only JSONL journal and the drafts; a shared cache.

mod cache;
mod record;

pub use crate::state::PartStatus;
pub use cache::Cache;
pub use record::{
    ApprovalPlan, ApprovalStep, FinishedSection, Record, UndoStep, finished_sections,
    finished_sections_all, last_approval, replay,
};

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use crate::draft::Draft;

/// Why the journal could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// A file operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A draft file is unreadable.
    #[error("{path}: draft is corrupt: {message}")]
    CorruptDraft {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> JournalError + '_ {
    move |source| JournalError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// One plan's journal and drafts.
pub struct Journal {
    dir: PathBuf,
    file: Mutex<File>,
    replayed: Mutex<Replayed>,
}

/// The statuses folded from the journal's first `offset` bytes: reading the statuses again
/// folds in only what was appended since (by any process), instead of parsing the whole file,
/// which made approving drafts one after another quadratic in the PARTs.
#[derive(Default)]
struct Replayed {
    offset: u64,
    /// Lines in those bytes, so a warning about a later line gives its number in the file.
    lines: usize,
    file_id: Option<FileId>,
    statuses: BTreeMap<u32, PartStatus>,
}

impl Replayed {
    /// Folds in `text`, the complete lines of the `bytes` appended past `offset`; returns its
    /// unreadable lines, numbered as lines of the whole file.
    fn fold(&mut self, text: &str, bytes: u64) -> Vec<(usize, String)> {
        let parsed = parse_lines(text, self.lines);
        for record in &parsed.records {
            record::apply(&mut self.statuses, record);
        }
        self.offset += bytes;
        self.lines += parsed.lines;
        parsed.unreadable
    }
}

/// Which file a path named when it was read: a journal removed and made again starts over.
type FileId = (u64, u64);

impl Journal {
    /// The state folder for `plan` (a path relative to the workspace root) under `state_root`.
    pub fn dir_for(state_root: &Path, plan: &Path) -> PathBuf {
        let stem = plan
            .file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_else(|| "plan".into());
        let safe: String = stem
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let hash = Sha256::digest(plan.to_string_lossy().as_bytes());
        state_root
            .join("plans")
            .join(format!("{safe}-{}", &hex::encode(hash)[..8]))
    }

    /// Open (creating) the journal in `dir`.
    pub fn open(dir: &Path) -> Result<Journal, JournalError> {
        std::fs::create_dir_all(dir.join("drafts")).map_err(io(dir))?;
        let path = dir.join("journal.jsonl");
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .read(true)
            .open(&path)
            .map_err(io(&path))?;
        // A torn last line (a kill mid-write) must not glue itself to the next record.
        let len = file.metadata().map_err(io(&path))?.len();
        if len > 0 {
            let mut last = [0u8];
            file.seek(SeekFrom::Start(len - 1)).map_err(io(&path))?;
            file.read_exact(&mut last).map_err(io(&path))?;
            if last[0] != b'\n' {
                file.write_all(b"\n").map_err(io(&path))?;
            }
        }
        Ok(Journal {
            dir: dir.to_path_buf(),
            file: Mutex::new(file),
            replayed: Mutex::new(Replayed::default()),
        })
    }

    /// Append one record. A record written here survives a kill of the process at once (the
    /// kernel has it); drafts, rejections and approvals are also fsynced so they survive a power
    /// loss, while progress records are not, because a lost one only means a cached step is
    /// replayed from the cache.
    pub fn append(&self, record: &Record) -> Result<(), JournalError> {
        let path = self.dir.join("journal.jsonl");
        let mut line = serde_json::to_string(record).unwrap_or_default();
        line.push('\n');
        // A poisoned lock only means another thread panicked mid-append; the file is still usable.
        let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        file.write_all(line.as_bytes()).map_err(io(&path))?;
        if record.is_decision() {
            file.sync_data().map_err(io(&path))?;
        }
        Ok(())
    }

    /// Every readable record, in order. Unreadable lines (a torn last line) are skipped.
    pub fn records(&self) -> Result<Vec<Record>, JournalError> {
        read_records(&self.dir.join("journal.jsonl"))
    }

    /// Each PART's status as the whole journal tells it now ([`replay`] of [`Journal::records`]),
    /// reading only what was appended since the last call.
    pub fn statuses(&self) -> Result<BTreeMap<u32, PartStatus>, JournalError> {
        Ok(self.caught_up()?.statuses.clone())
    }

    /// One PART's status, as [`Journal::statuses`] has it.
    pub fn status(&self, part: u32) -> Result<Option<PartStatus>, JournalError> {
        Ok(self.caught_up()?.statuses.get(&part).cloned())
    }

    /// The replayed statuses with every complete line appended so far folded in. A line still
    /// being written (no newline yet) waits for the next call.
    fn caught_up(&self) -> Result<std::sync::MutexGuard<'_, Replayed>, JournalError> {
        let path = self.dir.join("journal.jsonl");
        // A poisoned lock only means another thread panicked mid-read; the next read redoes it.
        let mut r = self.replayed.lock().unwrap_or_else(|p| p.into_inner());
        let mut file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                *r = Replayed::default();
                return Ok(r);
            }
            Err(e) => return Err(io(&path)(e)),
        };
        let meta = file.metadata().map_err(io(&path))?;
        let id = file_id(&meta);
        if meta.len() < r.offset || r.file_id != id {
            *r = Replayed {
                file_id: id,
                ..Replayed::default()
            };
        }
        file.seek(SeekFrom::Start(r.offset)).map_err(io(&path))?;
        let mut fresh = Vec::new();
        file.read_to_end(&mut fresh).map_err(io(&path))?;
        let Some(end) = fresh.iter().rposition(|&b| b == b'\n') else {
            return Ok(r);
        };
        let unreadable = r.fold(&String::from_utf8_lossy(&fresh[..=end]), end as u64 + 1);
        warn_unreadable(&path, &unreadable);
        Ok(r)
    }

    /// The plan's state folder (journal, drafts, approval backups).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn draft_path(&self, part: u32) -> PathBuf {
        draft_path(&self.dir, part)
    }

    /// Save a draft atomically.
    pub fn save_draft(&self, draft: &Draft) -> Result<(), JournalError> {
        let path = self.draft_path(draft.part);
        let json = serde_json::to_vec_pretty(draft).unwrap_or_default();
        crate::fsutil::write_atomic(&path, &json).map_err(io(&path))
    }

    /// The saved draft of `part`, if there is one.
    pub fn load_draft(&self, part: u32) -> Result<Option<Draft>, JournalError> {
        read_draft(&self.dir, part)
    }
}

fn draft_path(dir: &Path, part: u32) -> PathBuf {
    dir.join("drafts").join(format!("part-{part}.json"))
}

/// The saved draft of `part` in a plan's state folder, read without opening the journal for
/// writing (for `status`, which must change nothing).
pub fn read_draft(dir: &Path, part: u32) -> Result<Option<Draft>, JournalError> {
    let path = draft_path(dir, part);
    match std::fs::read(&path) {
        Ok(bytes) => {
            serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| JournalError::CorruptDraft {
                    path,
                    message: e.to_string(),
                })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io(&path)(e)),
    }
}

/// Read a journal file without opening it for writing (for `status`).
pub fn read_records(path: &Path) -> Result<Vec<Record>, JournalError> {
    let text = match std::fs::read(path) {
        Ok(b) => String::from_utf8_lossy(&b).into_owned(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io(path)(e)),
    };
    let parsed = parse_lines(&text, 0);
    warn_unreadable(path, &parsed.unreadable);
    Ok(parsed.records)
}

/// Journal text read into records.
#[derive(Debug, Default)]
struct Parsed {
    records: Vec<Record>,
    /// Lines read, blank ones included.
    lines: usize,
    /// Each unreadable line (a torn write) as its number in the file (from 1) and why.
    unreadable: Vec<(usize, String)>,
}

/// The readable records of journal text whose first line is line `before + 1` of the file; an
/// unreadable line is skipped and noted.
fn parse_lines(text: &str, before: usize) -> Parsed {
    let mut out = Parsed::default();
    for line in text.lines() {
        out.lines += 1;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str(line) {
            Ok(r) => out.records.push(r),
            Err(e) => out.unreadable.push((before + out.lines, e.to_string())),
        }
    }
    out
}

fn warn_unreadable(path: &Path, unreadable: &[(usize, String)]) {
    for (line, why) in unreadable {
        tracing::warn!(
            "skipping unreadable line {line} of {}: {why}",
            path.display()
        );
    }
}

#[cfg(unix)]
fn file_id(meta: &std::fs::Metadata) -> Option<FileId> {
    use std::os::unix::fs::MetadataExt as _;
    Some((meta.dev(), meta.ino()))
}

#[cfg(not(unix))]
fn file_id(_meta: &std::fs::Metadata) -> Option<FileId> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::RunnerState;

    fn state(part: u32, state: RunnerState, message: &str) -> Record {
        Record::State {
            ts: "2026-11-29T00:00:00Z".into(),
            part,
            state,
            message: Some(message.into()),
            cause: None,
        }
    }

    #[test]
    fn an_unreadable_line_is_named_by_its_line_in_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(dir.path()).unwrap();
        journal
            .append(&state(1, RunnerState::Searching, "a"))
            .unwrap();
        journal
            .append(&state(1, RunnerState::Writing, "b"))
            .unwrap();
        journal.statuses().unwrap();
        let good = serde_json::to_string(&state(2, RunnerState::Review, "c")).unwrap();
        let path = dir.path().join("journal.jsonl");
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        writeln!(f, "\n{{\"torn\": \n{good}").unwrap();
        drop(f);
        // What the next read folds in, as it reads it: lines 3 (blank), 4 (torn) and 5.
        let mut replayed = journal.replayed.lock().unwrap();
        let whole = std::fs::read(&path).unwrap();
        let tail = &whole[replayed.offset as usize..];
        let unreadable = replayed.fold(&String::from_utf8_lossy(tail), tail.len() as u64);
        assert_eq!(unreadable.iter().map(|u| u.0).collect::<Vec<_>>(), vec![4]);
        assert_eq!(replayed.lines, 5);
        assert_eq!(replayed.statuses[&2].state, Some(RunnerState::Review));
        drop(replayed);
        // And the journal reads on from there: nothing is folded twice.
        assert_eq!(
            journal.statuses().unwrap(),
            replay(&journal.records().unwrap())
        );
    }

    #[test]
    fn statuses_follow_every_append_including_another_writers() {
        let dir = tempfile::tempdir().unwrap();
        let ours = Journal::open(dir.path()).unwrap();
        // Another process's journal handle on the same file.
        let theirs = Journal::open(dir.path()).unwrap();
        assert!(ours.statuses().unwrap().is_empty());
        ours.append(&state(1, RunnerState::Searching, "a")).unwrap();
        assert_eq!(
            ours.status(1).unwrap().unwrap().state,
            Some(RunnerState::Searching)
        );
        theirs.append(&state(1, RunnerState::Review, "b")).unwrap();
        theirs.append(&state(2, RunnerState::Failed, "c")).unwrap();
        let now = ours.statuses().unwrap();
        assert_eq!(now, replay(&ours.records().unwrap()));
        assert_eq!(now[&1].state, Some(RunnerState::Review));
        assert_eq!(now[&2].message.as_deref(), Some("c"));
    }

    #[test]
    fn a_budget_pause_keeps_its_cause_through_the_journal_and_old_lines_read_without_one() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(dir.path()).unwrap();
        journal
            .append(&Record::State {
                ts: "2026-11-29T00:00:00Z".into(),
                part: 1,
                state: RunnerState::Paused,
                message: Some("budget reached".into()),
                cause: Some(crate::state::Cause::Budget),
            })
            .unwrap();
        assert!(journal.status(1).unwrap().unwrap().budget_paused);
        // A journal written before causes were recorded.
        let old = r#"{"type":"state","ts":"2026-11-29T00:00:01Z","part":2,"state":"paused","message":"budget reached"}"#;
        let record: Record = serde_json::from_str(old).unwrap();
        journal.append(&record).unwrap();
        let two = journal.status(2).unwrap().unwrap();
        assert_eq!(two.state, Some(RunnerState::Paused));
        assert!(!two.budget_paused);
    }

    #[test]
    fn a_line_still_being_written_waits_and_a_new_journal_starts_over() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(dir.path()).unwrap();
        journal.append(&state(1, RunnerState::Review, "a")).unwrap();
        assert!(journal.status(1).unwrap().is_some());
        // Half a record, as a writer caught mid-line leaves it.
        let line = serde_json::to_string(&state(2, RunnerState::Failed, "torn")).unwrap();
        let path = dir.path().join("journal.jsonl");
        let (head, tail) = line.split_at(line.len() / 2);
        let mut raw = OpenOptions::new().append(true).open(&path).unwrap();
        raw.write_all(head.as_bytes()).unwrap();
        assert_eq!(journal.status(2).unwrap(), None);
        raw.write_all(format!("{tail}\n").as_bytes()).unwrap();
        assert_eq!(
            journal.status(2).unwrap().unwrap().message.as_deref(),
            Some("torn")
        );
        // The journal removed and made again, longer than the old one (a cleared state folder
        // and a new run): nothing of the old one is left, nothing of the new one skipped.
        let old_len = std::fs::metadata(&path).unwrap().len() as usize;
        std::fs::remove_file(&path).unwrap();
        let fresh = Journal::open(dir.path()).unwrap();
        fresh
            .append(&state(3, RunnerState::Review, &"x".repeat(old_len)))
            .unwrap();
        let now = journal.statuses().unwrap();
        assert_eq!(now.keys().copied().collect::<Vec<_>>(), vec![3]);
        std::fs::remove_file(&path).unwrap();
        assert!(journal.statuses().unwrap().is_empty());
    }
}
