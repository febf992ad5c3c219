//! Run state under `.expanse/`: per plan an append-only JSONL journal and the drafts; a shared cache.

mod cache;
mod record;

pub use crate::state::PartStatus;
pub use cache::Cache;
pub use record::{
    ApprovalPlan, ApprovalStep, FinishedSection, Record, UndoStep, finished_sections,
    finished_sections_all, last_approval, replay,
};

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
}

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
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str(line) {
            Ok(r) => out.push(r),
            Err(e) => tracing::warn!(line = i + 1, "skipping unreadable journal line: {e}"),
        }
    }
    Ok(out)
}
