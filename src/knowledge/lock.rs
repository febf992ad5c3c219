//! The workspace lock: an advisory lock on `.expanse/lock` held around every read-modify-write of
//! the plan, INDEX.md and the knowledge base, so concurrent approvals from any mix of TUI, CLI
//! and `--approve-all` never lose an update. The OS releases it when a process dies.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

/// Why a lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// The lock file could not be opened or locked.
    #[error("cannot lock {path}: {source}")]
    Io {
        /// The lock file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Another process holds it (only for the non-blocking run lock).
    #[error(
        "{what} is already running in process {pid} (lock {path}); wait for it to end or stop it"
    )]
    Busy {
        /// What the lock guards.
        what: String,
        /// The holder's pid, as it wrote it.
        pid: String,
        /// The lock file.
        path: PathBuf,
    },
}

/// A held lock; dropping it releases it.
#[derive(Debug)]
pub struct Held {
    _file: File,
}

fn open(path: &Path) -> Result<File, LockError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|source| LockError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    }
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(path)
        .map_err(|source| LockError::Io {
            path: path.to_path_buf(),
            source,
        })
}

/// Wait for the workspace lock under `state` (`.expanse/`). Writers hold it for milliseconds.
pub fn workspace(state: &Path) -> Result<Held, LockError> {
    let path = state.join("lock");
    let file = open(&path)?;
    file.lock()
        .map_err(|source| LockError::Io { path, source })?;
    Ok(Held { _file: file })
}

/// Take a run's lock at `path` without waiting, recording this process's id in it; `Busy`
/// names the process that holds it.
pub fn run(path: &Path, what: &str) -> Result<Held, LockError> {
    use std::io::{Read as _, Seek as _, Write as _};
    let mut file = open(path)?;
    match file.try_lock() {
        Ok(()) => {
            let _ = file.set_len(0);
            let _ = file.rewind();
            let _ = write!(file, "{}", std::process::id());
            Ok(Held { _file: file })
        }
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut pid = String::new();
            let _ = file.read_to_string(&mut pid);
            Err(LockError::Busy {
                what: what.to_string(),
                pid: pid.trim().to_string(),
                path: path.to_path_buf(),
            })
        }
        Err(std::fs::TryLockError::Error(source)) => Err(LockError::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Whether a run holds the lock at `path` now (a probe: nothing is written, nothing kept).
pub fn run_is_live(path: &Path) -> bool {
    match OpenOptions::new().read(true).write(true).open(path) {
        Ok(file) => matches!(file.try_lock(), Err(std::fs::TryLockError::WouldBlock)),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_run_lock_is_refused_naming_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("run.lock");
        let held = run(&p, "plans/p.md").unwrap();
        let e = run(&p, "plans/p.md").unwrap_err();
        assert!(
            e.to_string()
                .contains(&format!("process {}", std::process::id())),
            "{e}"
        );
        assert!(run_is_live(&p));
        drop(held);
        assert!(!run_is_live(&p));
        assert!(run(&p, "plans/p.md").is_ok());
        let _w = workspace(dir.path()).unwrap();
    }
}
